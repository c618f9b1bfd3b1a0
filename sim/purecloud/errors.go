package purecloud

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func newCorrelation(s *Simulator) string { return s.newID() }

// writeJSON writes v with status, Content-Type and inin-correlation-id.
func (s *Simulator) writeJSON(w http.ResponseWriter, corr string, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"status":500,"code":"internal.server.error","message":"encode failed","details":[],"errors":[]}`)
	}
	h := w.Header()
	h.Set(wire.HeaderCorrelationID, corr)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

func (s *Simulator) errorBody(corr string, status int, code, msg string, details ...wire.Detail) *wire.ErrorBody {
	if msg == "" {
		msg = fmt.Sprintf(wire.MessageGenericStatusFormat, status)
	}
	if details == nil {
		details = []wire.Detail{}
	}
	return &wire.ErrorBody{Status: status, Code: code, Message: msg, ContextID: corr, Details: details, Errors: []wire.ErrorBody{}}
}

// writeError writes an ErrorBody whose contextId equals the correlation id.
func (s *Simulator) writeError(w http.ResponseWriter, r *http.Request, corr string, status int, code, msg string, details ...wire.Detail) {
	s.log.Debug().Str("method", r.Method).Str("path", redactPath(r.URL.Path)).Int("status", status).Str("code", code).Msg("purecloud sim: error")
	s.writeJSON(w, corr, status, s.errorBody(corr, status, code, msg, details...))
}

// redactPath hides the token of event-stream paths in logs.
func redactPath(p string) string {
	if len(p) > len(wire.EventStreamPathPrefix) && p[:len(wire.EventStreamPathPrefix)] == wire.EventStreamPathPrefix {
		return wire.EventStreamPathPrefix + "<redacted>"
	}
	return p
}

// apiError is a handler's failure, written by serveREST.
type apiError struct {
	status  int
	code    string
	msg     string
	details []wire.Detail
	retry   int // Retry-After seconds (429)
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.status, e.code, e.msg) }

func errNotFound() *apiError { return &apiError{status: 404, code: wire.CodeNotFound} }

func errBadRequest(msg string) *apiError {
	return &apiError{status: 400, code: wire.CodeBadRequest, msg: msg}
}

func errInvalid(msg string, fields ...string) *apiError {
	d := make([]wire.Detail, len(fields))
	for i, f := range fields {
		d[i] = wire.Detail{ErrorCode: wire.CodeInvalidValue, FieldName: f}
	}
	return &apiError{status: 400, code: wire.CodeInvalidValue, msg: msg, details: d}
}

func errState() *apiError {
	return &apiError{status: 400, code: wire.CodeConversationState, msg: "The conversation is not in a state that allows this operation."}
}

func errForbidden(msg string) *apiError {
	return &apiError{status: 403, code: wire.CodeNotAuthorized, msg: msg}
}

func errUnauthorized() *apiError {
	return &apiError{status: 401, code: wire.CodeBadCredentials, msg: wire.MessageNoBearer}
}

// statusCode maps an HTTP status to the simulator's error code.
func statusCode(status int) string {
	switch status {
	case 400:
		return wire.CodeBadRequest
	case 401:
		return wire.CodeBadCredentials
	case 403:
		return wire.CodeNotAuthorized
	case 404:
		return wire.CodeNotFound
	case 408:
		return wire.CodeRequestTimeout
	case 409:
		return wire.CodeConflict
	case 413:
		return wire.CodeRequestTooLarge
	case 415:
		return wire.CodeUnsupportedMediaType
	case 429:
		return wire.CodeTooManyRequests
	case 503:
		return wire.CodeServiceUnavailable
	case 504:
		return wire.CodeGatewayTimeout
	}
	return wire.CodeInternalServerError
}
