package wire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/mail"
	"strings"
)

// Operation names a Chat V2 operation. The value is the CometD `operation`
// (or the chat-ntf `operation` for the file operations); REST maps each to
// its path with [RESTURL].
type Operation string

// Operations (§3.2, §4.3, §8).
const (
	OpRequestChat          Operation = "requestChat"
	OpRequestNotifications Operation = "requestNotifications" // CometD only
	OpRefresh              Operation = "refresh"              // REST only
	OpSendMessage          Operation = "sendMessage"          // REST path "send"
	OpStartTyping          Operation = "startTyping"
	OpStopTyping           Operation = "stopTyping"
	OpReadReceipt          Operation = "readReceipt"
	OpPushURL              Operation = "pushUrl"
	OpUpdateNickname       Operation = "updateNickname"
	OpCustomNotice         Operation = "customNotice"
	OpUpdateData           Operation = "updateData"
	OpDisconnect           Operation = "disconnect"
	OpFileGetLimits        Operation = "fileGetLimits" // REST path "file/limits"
	OpFileUpload           Operation = "fileUpload"    // REST path "file" (multipart)
	OpFileDownload         Operation = "fileDownload"  // REST path "file/{fileId}/download"; chat-ntf alias "download"
	OpFileDelete           Operation = "fileDelete"    // REST path "file/{fileId}/delete"
)

// CometD reports whether op is published on the CometD service channel.
func (op Operation) CometD() bool {
	switch op {
	case OpRequestChat, OpRequestNotifications, OpSendMessage, OpStartTyping, OpStopTyping,
		OpReadReceipt, OpPushURL, OpUpdateNickname, OpCustomNotice, OpUpdateData, OpDisconnect:
		return true
	}
	return false
}

// REST reports whether op has a REST endpoint.
func (op Operation) REST() bool {
	_, ok := restSegments[op]
	return ok || op == OpRequestChat
}

// File reports whether op is a file operation (REST file paths or chat-ntf).
func (op Operation) File() bool {
	switch op {
	case OpFileGetLimits, OpFileUpload, OpFileDownload, OpFileDelete:
		return true
	}
	return false
}

// Form field and CometD data names.
const (
	FieldOperation          = "operation"
	FieldChatID             = "chatId"
	FieldUserID             = "userId"
	FieldSecureKey          = "secureKey"
	FieldAlias              = "alias"
	FieldNickname           = "nickname"
	FieldFirstName          = "firstName"
	FieldLastName           = "lastName"
	FieldSubject            = "subject"
	FieldEmailAddress       = "emailAddress"
	FieldText               = "text"
	FieldEndpoint           = "endpoint"
	FieldMessage            = "message"
	FieldMessageType        = "messageType"
	FieldTranscriptPosition = "transcriptPosition"
	FieldPushURL            = "pushUrl"
	FieldUserData           = "userData"
	FieldEventAttributes    = "eventAttributes"
	FieldAuth               = "auth"
	FieldFileID             = "fileId"
	FieldFile               = "file" // the multipart file part of an upload
)

// Auth is the CometD `auth` object of requestChat when Basic Authentication
// is on (§4.5): Username+Password, or Encoded = base64("user:pass").
type Auth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Encoded  string `json:"encoded,omitempty"`
}

// Credentials returns the user and password, decoding Encoded when set.
func (a *Auth) Credentials() (user, pass string, ok bool) {
	if a == nil {
		return "", "", false
	}
	if a.Encoded != "" {
		b, err := base64.StdEncoding.DecodeString(a.Encoded)
		if err != nil {
			return "", "", false
		}
		user, pass, ok = strings.Cut(string(b), ":")
		return user, pass, ok
	}
	return a.Username, a.Password, a.Username != ""
}

// String never prints the password or the encoded credentials.
func (a Auth) String() string { return "wire.Auth{username=" + a.Username + ", password=[redacted]}" }

// GoString is String.
func (a Auth) GoString() string { return a.String() }

// Request is one Chat V2 operation with its parameters, for every mode: the
// REST form ([Request.Form]), the chat-ntf form ([Request.NtfForm]) and the
// CometD data object ([Request.CometD]); the parsers ([ParseForm],
// [ParseNtfForm], [ParseCometD]) fill it back. Fields an operation does not
// use are ignored when building.
type Request struct {
	Operation Operation

	// Session keys: REST sends alias, secureKey, userId as fields and chatId
	// in the path; CometD sends every one that is set.
	ChatID    string
	UserID    string
	SecureKey string
	Alias     string

	// requestChat (Nickname also for updateNickname).
	Nickname     string
	FirstName    string
	LastName     string
	Subject      string
	EmailAddress string
	Text         string
	Endpoint     string
	Auth         *Auth // CometD requestChat only

	// Message is the text of sendMessage and customNotice, and the typing
	// preview of refresh, startTyping, stopTyping.
	Message     string
	MessageType string
	// TranscriptPosition: events from this index (0 = all) for refresh,
	// requestNotifications, send and typing; the read event's index for
	// readReceipt.
	TranscriptPosition int
	PushURL            string
	// UserData: requestChat, requestNotifications (push keys), updateData,
	// file upload metadata. REST flattens it to userData[key] fields.
	UserData map[string]string
	// EventAttributes: sendMessage and customNotice. A JSON string in REST,
	// an object in CometD.
	EventAttributes map[string]any
	// FileID: file download and delete.
	FileID string
}

// String prints the operation without secrets.
func (r *Request) String() string {
	if r == nil {
		return "<nil>"
	}
	return fmt.Sprintf("wire.Request{op=%s chatId=%s userId=%s alias=%s}", r.Operation, r.ChatID, r.UserID, r.Alias)
}

// GoString is String.
func (r *Request) GoString() string { return r.String() }

// Keys returns the request's session keys.
func (r *Request) Keys() Keys {
	return Keys{ChatID: r.ChatID, UserID: r.UserID, SecureKey: r.SecureKey, Alias: r.Alias}
}

// SetKeys copies k into the request.
func (r *Request) SetKeys(k Keys) {
	r.ChatID, r.UserID, r.SecureKey, r.Alias = k.ChatID, k.UserID, k.SecureKey, k.Alias
}

// RequestError says which parameter of a request is wrong. Code is the API
// error code the server answers with (161, 102, 103, 364, or
// CodeInvalidRequest).
type RequestError struct {
	Field string
	Code  int
	Msg   string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("wire: invalid %s: %s (code %d)", e.Field, e.Msg, e.Code)
}

// APIError returns the errors[] entry for e.
func (e *RequestError) APIError() Error { return Error{Code: e.Code, Advice: FlexString(e.Msg)} }

func reqErr(field string, code int, msg string) *RequestError {
	return &RequestError{Field: field, Code: code, Msg: msg}
}

// Validate checks the parameters the operation requires (§3.2, §4.3, §8):
// requestChat needs nickname or firstName+lastName (161; 102/103 for half a
// name) and a valid emailAddress when given (364); every other operation
// needs secureKey; sendMessage a message; readReceipt a transcriptPosition ≥
// 1; pushUrl a pushUrl; updateNickname a nickname; download/delete a fileId.
// It returns a *RequestError.
func (r *Request) Validate() error {
	switch {
	case r.Operation == "":
		return reqErr(FieldOperation, CodeInvalidRequest, "missing")
	case !r.Operation.CometD() && !r.Operation.REST():
		return reqErr(FieldOperation, CodeInvalidRequest, fmt.Sprintf("unknown operation %q", truncate(string(r.Operation), 40)))
	}
	if r.Operation == OpRequestChat {
		nick := strings.TrimSpace(r.Nickname) != ""
		first, last := strings.TrimSpace(r.FirstName) != "", strings.TrimSpace(r.LastName) != ""
		switch {
		case first && !last && !nick:
			return reqErr(FieldLastName, CodeLastNameRequired, "last name required")
		case last && !first && !nick:
			return reqErr(FieldFirstName, CodeFirstNameRequired, "first name required")
		case !nick && !first:
			return reqErr(FieldNickname, CodeNicknameRequired, "nickname or firstName and lastName required")
		}
		if r.EmailAddress != "" && !validEmail(r.EmailAddress) {
			return reqErr(FieldEmailAddress, CodeInvalidEmail, "invalid email address")
		}
		return nil
	}
	if r.SecureKey == "" {
		return reqErr(FieldSecureKey, CodeInvalidRequest, "missing")
	}
	switch r.Operation {
	case OpSendMessage:
		if r.Message == "" {
			return reqErr(FieldMessage, CodeInvalidRequest, "missing")
		}
	case OpReadReceipt:
		if r.TranscriptPosition < 1 {
			return reqErr(FieldTranscriptPosition, CodeInvalidRequest, "must be the index (≥ 1) of the read event")
		}
	case OpPushURL:
		if r.PushURL == "" {
			return reqErr(FieldPushURL, CodeInvalidRequest, "missing")
		}
	case OpUpdateNickname:
		if strings.TrimSpace(r.Nickname) == "" {
			return reqErr(FieldNickname, CodeInvalidRequest, "missing")
		}
	case OpFileDownload, OpFileDelete:
		if r.FileID == "" {
			return reqErr(FieldFileID, CodeInvalidRequest, "missing")
		}
	}
	if r.TranscriptPosition < 0 {
		return reqErr(FieldTranscriptPosition, CodeInvalidRequest, "must not be negative")
	}
	return nil
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != strings.TrimSpace(s) {
		return false
	}
	_, domain, _ := strings.Cut(a.Address, "@")
	return strings.Contains(domain, ".") || domain == "localhost"
}

// CometD builds the `data` object published on the service channel: the
// operation, every session key that is set, and the operation's parameters
// (transcriptPosition as an integer, userData and eventAttributes as objects).
func (r *Request) CometD() (map[string]any, error) {
	if !r.Operation.CometD() {
		return nil, fmt.Errorf("wire: operation %q is not a CometD operation", r.Operation)
	}
	d := map[string]any{FieldOperation: string(r.Operation)}
	put := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	put(FieldChatID, r.ChatID)
	put(FieldUserID, r.UserID)
	put(FieldSecureKey, r.SecureKey)
	put(FieldAlias, r.Alias)
	switch r.Operation {
	case OpRequestChat:
		put(FieldNickname, r.Nickname)
		put(FieldFirstName, r.FirstName)
		put(FieldLastName, r.LastName)
		put(FieldSubject, r.Subject)
		put(FieldEmailAddress, r.EmailAddress)
		put(FieldEndpoint, r.Endpoint)
		d[FieldText] = r.Text
		if r.Auth != nil {
			d[FieldAuth] = *r.Auth
		}
	case OpRequestNotifications:
		d[FieldTranscriptPosition] = r.TranscriptPosition
		d[FieldMessage] = r.Message
	case OpSendMessage:
		d[FieldMessage] = r.Message
		put(FieldMessageType, r.MessageType)
	case OpStartTyping, OpStopTyping:
		d[FieldMessage] = r.Message
	case OpReadReceipt:
		d[FieldTranscriptPosition] = r.TranscriptPosition
	case OpPushURL:
		d[FieldPushURL] = r.PushURL
	case OpUpdateNickname:
		d[FieldNickname] = r.Nickname
	case OpCustomNotice:
		put(FieldMessage, r.Message)
	}
	switch r.Operation {
	case OpRequestChat, OpRequestNotifications, OpUpdateData:
		if r.UserData != nil || r.Operation == OpUpdateData {
			ud := r.UserData
			if ud == nil {
				ud = map[string]string{}
			}
			d[FieldUserData] = ud
		}
	case OpSendMessage, OpCustomNotice:
		if r.EventAttributes != nil {
			d[FieldEventAttributes] = r.EventAttributes
		}
	}
	return d, nil
}

// MarshalCometD is json.Marshal of [Request.CometD].
func (r *Request) MarshalCometD() ([]byte, error) {
	d, err := r.CometD()
	if err != nil {
		return nil, err
	}
	return json.Marshal(d)
}

// ParseCometD parses the `data` of a publish on the service channel. It
// accepts numbers or strings for ids and transcriptPosition, objects (or JSON
// strings holding objects) for userData and eventAttributes, and ignores
// unknown keys. It does not run Validate. Errors are *RequestError.
func ParseCometD(data []byte) (*Request, error) {
	obj, err := object(data, "")
	if err != nil {
		return nil, reqErr("data", CodeInvalidRequest, err.(*DecodeError).Msg)
	}
	r := new(Request)
	strs := []struct {
		name string
		dst  *string
	}{
		{FieldChatID, &r.ChatID}, {FieldUserID, &r.UserID}, {FieldSecureKey, &r.SecureKey}, {FieldAlias, &r.Alias},
		{FieldNickname, &r.Nickname}, {FieldFirstName, &r.FirstName}, {FieldLastName, &r.LastName},
		{FieldSubject, &r.Subject}, {FieldEmailAddress, &r.EmailAddress}, {FieldText, &r.Text},
		{FieldEndpoint, &r.Endpoint}, {FieldMessage, &r.Message}, {FieldMessageType, &r.MessageType},
		{FieldPushURL, &r.PushURL}, {FieldFileID, &r.FileID},
	}
	var op string
	strs = append(strs, struct {
		name string
		dst  *string
	}{FieldOperation, &op})
	for _, f := range strs {
		if v, ok := obj[f.name]; ok {
			if *f.dst, err = flexString(v); err != nil {
				return nil, reqErr(f.name, CodeInvalidRequest, err.Error())
			}
		}
	}
	r.Operation = Operation(op)
	if v, ok := obj[FieldTranscriptPosition]; ok {
		n, err := flexInt(v)
		if err != nil {
			return nil, reqErr(FieldTranscriptPosition, CodeInvalidRequest, err.Error())
		}
		if n < 0 || n > maxIndex {
			return nil, reqErr(FieldTranscriptPosition, CodeInvalidRequest, fmt.Sprintf("%d is out of range", n))
		}
		r.TranscriptPosition = int(n)
	}
	if v, ok := obj[FieldUserData]; ok {
		if r.UserData, err = flexStringMap(v); err != nil {
			return nil, reqErr(FieldUserData, CodeInvalidRequest, err.Error())
		}
	}
	if v, ok := obj[FieldEventAttributes]; ok {
		if r.EventAttributes, err = flexObject(v); err != nil {
			return nil, reqErr(FieldEventAttributes, CodeInvalidRequest, err.Error())
		}
	}
	if v, ok := obj[FieldAuth]; ok && !isNull(v) {
		ao, err := flexStringMap(v)
		if err != nil {
			return nil, reqErr(FieldAuth, CodeInvalidRequest, "want an object {username,password} or {encoded}")
		}
		r.Auth = &Auth{Username: ao["username"], Password: ao["password"], Encoded: ao["encoded"]}
	}
	return r, nil
}
