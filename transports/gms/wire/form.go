package wire

import (
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// UserDataField returns the flattened REST field name "userData[key]" (§3.1).
func UserDataField(key string) string { return FieldUserData + "[" + key + "]" }

// EncodeUserData adds one userData[key] field per pair to v.
func EncodeUserData(v url.Values, ud map[string]string) {
	for k, x := range ud {
		v.Set(UserDataField(k), x)
	}
}

// DecodeUserData collects every field named userData[<key>] (inner key
// verbatim; the last duplicate wins). It returns nil when there is none.
func DecodeUserData(v url.Values) map[string]string {
	var out map[string]string
	for name, vals := range v {
		k, ok := strings.CutPrefix(name, FieldUserData+"[")
		if !ok || !strings.HasSuffix(k, "]") || len(vals) == 0 {
			continue
		}
		k = strings.TrimSuffix(k, "]")
		if k == "" {
			continue
		}
		if out == nil {
			out = make(map[string]string)
		}
		out[k] = vals[len(vals)-1]
	}
	return out
}

// Form builds the url-encoded REST body of the operation (§3.2): alias,
// secureKey, userId (chatId goes in the path, see [RESTURL]) and the
// operation's parameters. refresh, startTyping and stopTyping always carry
// transcriptPosition and message (Widgets); eventAttributes is a JSON string.
// For file upload it holds the fields besides the file part.
func (r *Request) Form() (url.Values, error) {
	if !r.Operation.REST() {
		return nil, fmt.Errorf("wire: operation %q has no REST endpoint", r.Operation)
	}
	v := url.Values{}
	put := func(k, x string) {
		if x != "" {
			v.Set(k, x)
		}
	}
	if r.Operation != OpRequestChat {
		put(FieldAlias, r.Alias)
		put(FieldSecureKey, r.SecureKey)
		put(FieldUserID, r.UserID)
	}
	pos := strconv.Itoa(r.TranscriptPosition)
	switch r.Operation {
	case OpRequestChat:
		put(FieldNickname, r.Nickname)
		put(FieldFirstName, r.FirstName)
		put(FieldLastName, r.LastName)
		put(FieldSubject, r.Subject)
		put(FieldEmailAddress, r.EmailAddress)
		put(FieldEndpoint, r.Endpoint)
		v.Set(FieldText, r.Text)
		EncodeUserData(v, r.UserData)
	case OpRefresh, OpStartTyping, OpStopTyping:
		v.Set(FieldTranscriptPosition, pos)
		v.Set(FieldMessage, r.Message)
	case OpSendMessage:
		v.Set(FieldMessage, r.Message)
		put(FieldMessageType, r.MessageType)
		if r.TranscriptPosition > 0 {
			v.Set(FieldTranscriptPosition, pos)
		}
	case OpReadReceipt:
		v.Set(FieldTranscriptPosition, pos)
	case OpPushURL:
		v.Set(FieldPushURL, r.PushURL)
	case OpUpdateNickname:
		v.Set(FieldNickname, r.Nickname)
	case OpCustomNotice:
		put(FieldMessage, r.Message)
	case OpUpdateData, OpFileUpload:
		EncodeUserData(v, r.UserData)
	}
	if (r.Operation == OpSendMessage || r.Operation == OpCustomNotice) && r.EventAttributes != nil {
		b, err := json.Marshal(r.EventAttributes)
		if err != nil {
			return nil, fmt.Errorf("wire: eventAttributes: %v", err)
		}
		v.Set(FieldEventAttributes, string(b))
	}
	return v, nil
}

// NtfForm builds the chat-ntf body of a file operation (§8): operation,
// secureKey, fileId (download, delete) and userData[key] (upload metadata).
// Widgets sends it as multipart (see [WriteFields]); url-encoded works with
// the simulator too.
func (r *Request) NtfForm() (url.Values, error) {
	if !r.Operation.File() {
		return nil, fmt.Errorf("wire: operation %q is not a chat-ntf file operation", r.Operation)
	}
	v := url.Values{}
	v.Set(FieldOperation, string(r.Operation))
	v.Set(FieldSecureKey, r.SecureKey)
	switch r.Operation {
	case OpFileDownload, OpFileDelete:
		v.Set(FieldFileID, r.FileID)
	case OpFileUpload:
		EncodeUserData(v, r.UserData)
	}
	return v, nil
}

// WriteFields writes v as multipart form fields, in sorted name order.
func WriteFields(mw *multipart.Writer, v url.Values) error {
	names := make([]string, 0, len(v))
	for k := range v {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, x := range v[k] {
			if err := mw.WriteField(k, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// ParseForm reads a REST body (url-encoded or multipart values, e.g.
// http.Request.Form after ParseMultipartForm) for operation op, taken from
// the path (see [ParseRESTPath]); chatID and fileID come from the path too.
// Every known field present is read; eventAttributes is parsed as a JSON
// object. It does not run Validate. Errors are *RequestError.
func ParseForm(op Operation, chatID, fileID string, v url.Values) (*Request, error) {
	r := &Request{Operation: op, ChatID: chatID, FileID: fileID}
	if err := r.readForm(v); err != nil {
		return nil, err
	}
	if fileID != "" {
		r.FileID = fileID
	}
	return r, nil
}

// ParseNtfForm reads a chat-ntf body: the operation field ("download" is
// accepted for fileDownload), secureKey, fileId, userData[key].
func ParseNtfForm(v url.Values) (*Request, error) {
	op := Operation(v.Get(FieldOperation))
	switch op {
	case "download":
		op = OpFileDownload
	case "":
		return nil, reqErr(FieldOperation, CodeInvalidRequest, "missing")
	}
	if !op.File() {
		return nil, reqErr(FieldOperation, CodeInvalidRequest, fmt.Sprintf("%q is not a file operation", truncate(string(op), 40)))
	}
	r := &Request{Operation: op}
	if err := r.readForm(v); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Request) readForm(v url.Values) error {
	strs := []struct {
		name string
		dst  *string
	}{
		{FieldUserID, &r.UserID}, {FieldSecureKey, &r.SecureKey}, {FieldAlias, &r.Alias},
		{FieldNickname, &r.Nickname}, {FieldFirstName, &r.FirstName}, {FieldLastName, &r.LastName},
		{FieldSubject, &r.Subject}, {FieldEmailAddress, &r.EmailAddress}, {FieldText, &r.Text},
		{FieldEndpoint, &r.Endpoint}, {FieldMessage, &r.Message}, {FieldMessageType, &r.MessageType},
		{FieldPushURL, &r.PushURL}, {FieldFileID, &r.FileID},
	}
	for _, f := range strs {
		if vals, ok := v[f.name]; ok && len(vals) > 0 {
			*f.dst = vals[len(vals)-1]
		}
	}
	if r.ChatID == "" {
		r.ChatID = v.Get(FieldChatID)
	}
	if s := strings.TrimSpace(v.Get(FieldTranscriptPosition)); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > maxIndex {
			return reqErr(FieldTranscriptPosition, CodeInvalidRequest, "want an integer ≥ 0")
		}
		r.TranscriptPosition = int(n)
	}
	if s := v.Get(FieldEventAttributes); strings.TrimSpace(s) != "" {
		m, err := flexObject([]byte(s))
		if err != nil {
			return reqErr(FieldEventAttributes, CodeInvalidRequest, "want a JSON object: "+err.Error())
		}
		r.EventAttributes = m
	}
	r.UserData = DecodeUserData(v)
	return nil
}
