//lint:file-ignore ST1005 the rejection strings are the exact Genesys Widgets texts (capitalized, with a period)

package transports

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Rejections with the exact Genesys Widgets strings (webchatservice.md §3).
// Error() is the string byte for byte; match with errors.Is.
var (
	ErrFileUploadUnsupported          = errors.New("This transport doesn't support file uploads.")
	ErrFileDownloadUnsupported        = errors.New("This transport doesn't support file download.")
	ErrFileLimitsUnsupported          = errors.New("This transport doesn't support getFileLimits command.")
	ErrCustomNoticeUnsupported        = errors.New("This transport doesn't support sendCustomNotice command.")
	ErrUserDataUpdateUnsupported      = errors.New("This transport doesn't support updating userData during an active chat session.")
	ErrPollingUnsupported             = errors.New("This transport doesn't support polling.")
	ErrResetPollExceptionsUnsupported = errors.New("This transport doesn't support resetPollExceptions command.")

	// fetchHistory rejections (webchatservice.md §3.17).
	ErrHistoryAsyncOnly  = errors.New("Fetching history messages applies only to Asynchronous chat.")
	ErrHistoryNotEnabled = errors.New("Fetching chat history on scroll is not enabled.")
	ErrNoMoreMessages    = errors.New("No more messages to fetch.")

	// Poller rejections (webchatservice.md §3.11, §3.12).
	ErrPollInFlight = errors.New("previous poll has not finished.")
	ErrNotPolling   = errors.New("Not currently polling. Ignoring command.")
)

// Errors of this package's own (prefixed "transports:").
var (
	// ErrNotStarted: an operation needs a started (or resumed) session.
	ErrNotStarted = errors.New("transports: not started")
	// ErrAlreadyStarted: Start or Resume called twice on one transport.
	ErrAlreadyStarted = errors.New("transports: already started")
	// ErrSessionEnded: the session is over; pending and later operations fail with it.
	ErrSessionEnded = errors.New("transports: session ended")
	// ErrClosed: the transport was closed.
	ErrClosed = errors.New("transports: closed")
	// ErrUnknownType: no transport is registered under that type name.
	ErrUnknownType = errors.New("transports: unknown transport type")
	// ErrDuplicateType: Register was called twice with one type name.
	ErrDuplicateType = errors.New("transports: transport type already registered")
	// ErrInvalidConfig: the transport configuration is wrong (wrapped with details).
	ErrInvalidConfig = errors.New("transports: invalid config")
	// ErrEmptyMessage: an empty or blank outgoing text.
	ErrEmptyMessage = errors.New("transports: empty message")
	// ErrMessageTooLong: an outgoing text over the wire limit.
	ErrMessageTooLong = errors.New("transports: message too long")
	// ErrRetryAfterTooLong: the server asked to wait longer than the transport accepts.
	ErrRetryAfterTooLong = errors.New("transports: retry-after too long")
	// ErrCursorNotFound: the server does not know the resume cursor.
	ErrCursorNotFound = errors.New("transports: cursor not found")
	// ErrMalformed: a server frame or answer could not be decoded (wrapped with details).
	ErrMalformed = errors.New("transports: malformed server data")
)

// ErrorDetail is one GMS errors[] entry ({code, advice}).
type ErrorDetail struct {
	Code   int    `json:"code"`
	Advice string `json:"advice,omitempty"`
}

// TransportError is the Widgets "AJAX Response Object" for a failed server
// call (webchatservice.md §1 rule 3). It never holds secrets: Body is redacted
// with [RedactJSON] by the transport that builds it.
type TransportError struct {
	// Operation names the call, e.g. "sendMessage", "postWebchatGuestConversationMemberMessages".
	Operation string `json:"operation,omitempty"`
	// Status is the HTTP status; 0 = network error or timeout.
	Status int `json:"status"`
	// StatusCode is the GMS API statusCode (0 when not applicable).
	StatusCode int `json:"statusCode,omitempty"`
	// Code is the Genesys Cloud ErrorBody.code (e.g. "chat.error.conversation.state").
	Code string `json:"code,omitempty"`
	// Message is the server's error message.
	Message string `json:"message,omitempty"`
	// Errors are GMS errors[] entries.
	Errors []ErrorDetail `json:"errors,omitempty"`
	// ErrorReason is the Widgets errorReason (InvalidService, FileUploadError, MessageFailed…).
	ErrorReason string `json:"errorReason,omitempty"`
	// CorrelationID is the inin-correlation-id header (Genesys Cloud).
	CorrelationID string `json:"correlationId,omitempty"`
	// RetryAfter is the server's requested wait (429), 0 when none.
	RetryAfter time.Duration `json:"-"`
	// Body is the raw answer body, redacted.
	Body json.RawMessage `json:"body,omitempty"`
	// Err is the underlying error (network error, context error), if any.
	Err error `json:"-"`
}

// Error describes the failure without secrets.
func (e *TransportError) Error() string {
	s := "transports: " + e.Operation + " failed"
	if e.Status != 0 {
		s += ": HTTP " + strconv.Itoa(e.Status)
	}
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" statusCode %d", e.StatusCode)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	for _, d := range e.Errors {
		s += fmt.Sprintf(" [%d %s]", d.Code, d.Advice)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }

// Temporary reports whether retrying may succeed: network errors, 408, 429 and
// 5xx other than 501.
func (e *TransportError) Temporary() bool {
	switch {
	case e.Status == 0:
		return true
	case e.Status == 408 || e.Status == 429:
		return true
	case e.Status >= 500 && e.Status != 501:
		return true
	}
	return false
}

// IsTemporary reports whether err is (or wraps) a temporary *TransportError.
func IsTemporary(err error) bool {
	var te *TransportError
	return errors.As(err, &te) && te.Temporary()
}

// AmbiguousSendError reports a send whose outcome is unknown: the request may
// have reached the server (network error or 5xx after sending) and the
// transport could not confirm either way before ctx ended. Resend it with
// Outgoing.Since = &Since: the transport then looks for the message in the
// transcript first, so it is never sent twice.
type AmbiguousSendError struct {
	Since Cursor
	Err   error
}

// Error describes the failure.
func (e *AmbiguousSendError) Error() string {
	return "transports: send outcome unknown (resend with Since): " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *AmbiguousSendError) Unwrap() error { return e.Err }
