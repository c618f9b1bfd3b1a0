package natsbridge

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

// Errors of the bridge (the "code" of a reply error is an HTTP-like status, see ReplyError).
var (
	ErrBadSubject        = errors.New("natsbridge: bad subject")
	ErrUnknownSession    = errors.New("natsbridge: unknown session")
	ErrNotAllowed        = errors.New("natsbridge: command not allowed over NATS")
	ErrPayloadTooLarge   = errors.New("natsbridge: payload too large")
	ErrBadPayload        = errors.New("natsbridge: payload must be a JSON object")
	ErrResultEncoding    = errors.New("natsbridge: result cannot be encoded as JSON")
	ErrClosed            = errors.New("natsbridge: bridge closed")
	ErrForwardFailed     = errors.New("natsbridge: the owning node did not answer")
	ErrInvalidOptions    = errors.New("natsbridge: invalid options")
	ErrLeaseLost         = errors.New("natsbridge: session lease lost to another node")
	ErrOwnershipDisabled = errors.New("natsbridge: ownership needs a leases bucket")
)

// Reply is the JSON body of every reply: Result on success, Error on failure.
type Reply struct {
	Result json.RawMessage `json:"result,omitempty"`
	Error  *ReplyError     `json:"error,omitempty"`
}

// ReplyError describes a failed request. Message is the exact rejection text of the bus or
// WebChatService ("There is no active chat session.") or the bridge's own error. Code is an
// HTTP-like status, also sent in the micro headers Nats-Service-Error-Code and
// Nats-Service-Error: 400 rejected, 403 not allowed, 404 unknown session or command, 413 too
// large, 502 contact-center failure, 503 not available, 504 timed out, 500 bridge failure.
type ReplyError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	// Transport holds the contact center's answer for 502 (the Widgets AJAX Response Object),
	// without secrets.
	Transport *transports.TransportError `json:"transport,omitempty"`
}

func (e *ReplyError) Error() string { return e.Message }

// replyError classifies err for a reply.
func replyError(err error) *ReplyError {
	re := &ReplyError{Code: http.StatusBadRequest, Message: err.Error()}
	var te *transports.TransportError
	switch {
	case errors.Is(err, ErrUnknownSession), errors.Is(err, bus.ErrCommandNotFound), errors.Is(err, bus.ErrPluginNotFound),
		errors.Is(err, webchatservice.ErrSessionNotFound):
		re.Code = http.StatusNotFound
	case errors.Is(err, ErrNotAllowed), errors.Is(err, bus.ErrAccessDenied), errors.Is(err, webchatservice.ErrRestoreAccessDenied):
		re.Code = http.StatusForbidden
	case errors.Is(err, ErrPayloadTooLarge):
		re.Code = http.StatusRequestEntityTooLarge
	case errors.Is(err, bus.ErrTimeout):
		re.Code = http.StatusGatewayTimeout
	case errors.Is(err, ErrForwardFailed), errors.Is(err, ErrClosed), errors.Is(err, bus.ErrClosed), errors.Is(err, webchatservice.ErrHostClosed):
		re.Code = http.StatusServiceUnavailable
	case errors.Is(err, ErrResultEncoding), errors.Is(err, bus.ErrHandlerPanic):
		re.Code = http.StatusInternalServerError
	case errors.As(err, &te):
		re.Code = http.StatusBadGateway
		cp := *te
		cp.Err = nil
		cp.Body = transports.RedactJSON(cp.Body, nil)
		re.Transport = &cp
	}
	return re
}
