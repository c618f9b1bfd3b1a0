package purecloud

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// Operation ids of the 11 guest operations (swagger operationId). Faults
// target operations by these names.
const (
	OpCreateConversation = "postWebchatGuestConversations"
	OpGetMembers         = "getWebchatGuestConversationMembers"
	OpGetMember          = "getWebchatGuestConversationMember"
	OpDeleteMember       = "deleteWebchatGuestConversationMember"
	OpPostMessage        = "postWebchatGuestConversationMemberMessages"
	OpPostTyping         = "postWebchatGuestConversationMemberTyping"
	OpGetMessages        = "getWebchatGuestConversationMessages"
	OpGetMessage         = "getWebchatGuestConversationMessage"
	OpGetMediaRequests   = "getWebchatGuestConversationMediarequests"
	OpGetMediaRequest    = "getWebchatGuestConversationMediarequest"
	OpPatchMediaRequest  = "patchWebchatGuestConversationMediarequest"
)

// Operations lists every operation id, in spec order.
var Operations = []string{OpCreateConversation, OpGetMembers, OpGetMember, OpDeleteMember, OpPostMessage,
	OpPostTyping, OpGetMessages, OpGetMessage, OpGetMediaRequests, OpGetMediaRequest, OpPatchMediaRequest}

type route struct {
	op                        string
	conv, member, msg, mediaR string
}

// parseRoute maps method and path to an operation; ok is false for any
// other path or a wrong method.
func parseRoute(method, path string) (route, bool) {
	rest, found := strings.CutPrefix(path, wire.ConversationsPath)
	if !found {
		return route{}, false
	}
	rest = strings.TrimPrefix(rest, "/")
	var seg []string
	if rest != "" {
		seg = strings.Split(rest, "/")
	}
	for _, p := range seg {
		if p == "" {
			return route{}, false
		}
	}
	var rt route
	switch len(seg) {
	case 0:
		rt.op = pickOp(method, http.MethodPost, OpCreateConversation)
	case 2:
		rt.conv = seg[0]
		switch seg[1] {
		case "members":
			rt.op = pickOp(method, http.MethodGet, OpGetMembers)
		case "messages":
			rt.op = pickOp(method, http.MethodGet, OpGetMessages)
		case "mediarequests":
			rt.op = pickOp(method, http.MethodGet, OpGetMediaRequests)
		}
	case 3:
		rt.conv = seg[0]
		switch seg[1] {
		case "members":
			rt.member = seg[2]
			rt.op = pickOp(method, http.MethodGet, OpGetMember, http.MethodDelete, OpDeleteMember)
		case "messages":
			rt.msg = seg[2]
			rt.op = pickOp(method, http.MethodGet, OpGetMessage)
		case "mediarequests":
			rt.mediaR = seg[2]
			rt.op = pickOp(method, http.MethodGet, OpGetMediaRequest, http.MethodPatch, OpPatchMediaRequest)
		}
	case 4:
		if seg[1] == "members" {
			rt.conv, rt.member = seg[0], seg[2]
			switch seg[3] {
			case "messages":
				rt.op = pickOp(method, http.MethodPost, OpPostMessage)
			case "typing":
				rt.op = pickOp(method, http.MethodPost, OpPostTyping)
			}
		}
	}
	return rt, rt.op != ""
}

func pickOp(method string, pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if method == pairs[i] {
			return pairs[i+1]
		}
	}
	return ""
}

// call is one REST request being served.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	corr string
	rt   route
	cl   *wire.JWTClaims
	c    *Conversation
}

func (s *Simulator) serveREST(w http.ResponseWriter, r *http.Request) {
	corr := newCorrelation(s)
	if s.isClosed() {
		s.writeError(w, r, corr, http.StatusServiceUnavailable, wire.CodeServiceUnavailable, "")
		return
	}
	rt, ok := parseRoute(r.Method, r.URL.Path)
	if !ok {
		s.writeError(w, r, corr, http.StatusNotFound, wire.CodeNotFound, "")
		return
	}
	f := s.faults.take(s, rt.op)
	if f != nil {
		if !s.applyDelay(r, f) {
			return
		}
		if !f.CommitThenFail && f.fails() {
			s.writeFault(w, r, corr, f)
			return
		}
	}
	k := &call{w: w, r: r, corr: corr, rt: rt}
	status, body, aerr := s.dispatch(k)
	if aerr == nil && f != nil && f.CommitThenFail && f.fails() {
		s.writeFault(w, r, corr, f)
		return
	}
	if aerr != nil {
		if aerr.retry > 0 {
			w.Header().Set(wire.HeaderRetryAfter, strconv.Itoa(aerr.retry))
		}
		s.writeError(w, r, corr, aerr.status, aerr.code, aerr.msg, aerr.details...)
		return
	}
	if body == nil {
		w.Header().Set(wire.HeaderCorrelationID, corr)
		w.WriteHeader(status)
		return
	}
	s.writeJSON(w, corr, status, body)
}

func (s *Simulator) dispatch(k *call) (int, any, *apiError) {
	if k.rt.op == OpCreateConversation {
		return s.create(k)
	}
	if err := s.authorize(k); err != nil {
		return 0, nil, err
	}
	switch k.rt.op {
	case OpGetMembers:
		return s.getMembers(k)
	case OpGetMember:
		return s.getMember(k)
	case OpDeleteMember:
		return s.deleteMember(k)
	case OpPostMessage:
		return s.postMessage(k)
	case OpPostTyping:
		return s.postTyping(k)
	case OpGetMessages:
		return s.getMessages(k)
	case OpGetMessage:
		return s.getMessage(k)
	case OpGetMediaRequests:
		return s.getMediaRequests(k)
	case OpGetMediaRequest:
		return s.getMediaRequest(k)
	case OpPatchMediaRequest:
		return s.patchMediaRequest(k)
	}
	return 0, nil, errNotFound()
}

// authorize checks the Bearer JWT (401), its conversation scope (403), the
// conversation (404) and, on #4-#6, that the path member is the token's
// subject (403).
func (s *Simulator) authorize(k *call) *apiError {
	tok, ok := wire.IsBearer(k.r.Header.Get("Authorization"))
	if !ok {
		return errUnauthorized()
	}
	cl, err := s.verifyJWT(tok)
	if err != nil {
		e := errUnauthorized()
		if errors.Is(err, errTokenExpired) {
			e.msg = "The authentication token has expired."
		}
		return e
	}
	if cl.Data.Conv != k.rt.conv {
		return errForbidden("The token is not valid for this conversation.")
	}
	k.c = s.conversation(k.rt.conv)
	if k.c == nil {
		return errNotFound()
	}
	switch k.rt.op {
	case OpDeleteMember, OpPostMessage, OpPostTyping:
		if k.rt.member != cl.Data.Sub {
			return errForbidden("The token's member may not act for this member.")
		}
	}
	k.cl = cl
	return nil
}

// readJSON checks Content-Type (415), the size limit (413) and JSON syntax
// (400), then decodes into v. Unknown fields are ignored.
func (s *Simulator) readJSON(k *call, v any) *apiError {
	if ct := k.r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || !strings.EqualFold(mt, "application/json") {
			return &apiError{status: http.StatusUnsupportedMediaType, code: wire.CodeUnsupportedMediaType,
				msg: "Unsupported media type; use application/json."}
		}
	}
	data, err := io.ReadAll(io.LimitReader(k.r.Body, s.set.maxBody+1))
	if err != nil {
		return errBadRequest("The request body could not be read.")
	}
	if int64(len(data)) > s.set.maxBody {
		return &apiError{status: http.StatusRequestEntityTooLarge, code: wire.CodeRequestTooLarge,
			msg: strings.Replace(wire.MessageSizeLimitFormat, "%s", strconv.FormatInt(s.set.maxBody, 10), 1)}
	}
	if msg := decodeJSONObject(data, v); msg != "" {
		return errBadRequest(msg)
	}
	return nil
}

// decodeJSONObject decodes one JSON object into v. It returns "" on
// success, else the ErrorBody message naming what is wrong (null, a
// non-object, bad syntax, a wrong field type, trailing data).
func decodeJSONObject(data []byte, v any) string {
	trimmed := strings.TrimSpace(string(data))
	if trimmed == "" {
		return "The request body is empty; a JSON object is required."
	}
	if trimmed[0] != '{' {
		return "The request body must be a JSON object."
	}
	dec := json.NewDecoder(strings.NewReader(trimmed))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return "The request body has a wrong type for field " + strconv.Quote(te.Field) + "."
		}
		return "The request body is not valid JSON."
	}
	if _, err := dec.Token(); err != io.EOF {
		return "The request body has data after the JSON object."
	}
	return ""
}
