package bayeux

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Match them with errors.Is.
var (
	// ErrBadMessage wraps every decoding failure of a Bayeux body.
	ErrBadMessage = errors.New("bayeux: bad message")
	// ErrEmptyBody is returned for an empty body or an empty array.
	ErrEmptyBody = errors.New("bayeux: empty message body")
	// ErrClosed is returned by calls on a client that was disconnected or closed.
	ErrClosed = errors.New("bayeux: client closed")
	// ErrNotConnected is returned when a request needs a session and there is none.
	ErrNotConnected = errors.New("bayeux: not connected")
	// ErrHandshakeFailed is the terminal error after too many consecutive failed handshakes.
	ErrHandshakeFailed = errors.New("bayeux: handshake failed")
	// ErrReconnectNone is the terminal error after the server advised reconnect "none".
	ErrReconnectNone = errors.New("bayeux: server advised reconnect none")
	// ErrTimeout is returned when a reply did not arrive within the network delay.
	ErrTimeout = errors.New("bayeux: request timed out")
	// ErrTransport wraps transport failures (network errors, non-200 statuses, lost sockets).
	ErrTransport = errors.New("bayeux: transport failure")
	// ErrUnsuccessful is matched by every *ReplyError (a reply with successful=false).
	ErrUnsuccessful = errors.New("bayeux: unsuccessful reply")
	// ErrSessionUnknown is matched by a *ReplyError whose code is 401 or 402 (an unknown or
	// expired session, whatever the server's text).
	ErrSessionUnknown = errors.New("bayeux: session unknown")
	// ErrBadChannel is returned for an invalid channel name.
	ErrBadChannel = errors.New("bayeux: bad channel")
	// ErrServerClosed is returned by server calls after Close.
	ErrServerClosed = errors.New("bayeux: server closed")
	// ErrSessionGone is returned by ServerSession.Deliver after the session ended.
	ErrSessionGone = errors.New("bayeux: session gone")
)

// Error is a parsed Bayeux "error" field: code ":" args ":" message. Parsing is lenient:
// a text without the code prefix (e.g. "Authentication failed") gives Code 0 and the
// whole text in Text.
type Error struct {
	Code int
	Args []string
	Text string
}

// ParseError parses a Bayeux error string leniently. It never fails.
func ParseError(s string) Error {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) == 3 && len(parts[0]) == 3 {
		if code, err := strconv.Atoi(parts[0]); err == nil && code >= 0 {
			var args []string
			if parts[1] != "" {
				args = strings.Split(parts[1], ",")
			}
			return Error{Code: code, Args: args, Text: parts[2]}
		}
	}
	return Error{Text: s}
}

// String formats the error back into Bayeux form.
func (e Error) String() string {
	if e.Code == 0 && e.Args == nil {
		return e.Text
	}
	return fmt.Sprintf("%03d:%s:%s", e.Code, strings.Join(e.Args, ","), e.Text)
}

// NewError builds a Bayeux error string: code, comma-separated args and a message.
func NewError(code int, text string, args ...string) string {
	return Error{Code: code, Args: args, Text: text}.String()
}

// ReplyError is returned when a reply has successful=false. It matches ErrUnsuccessful,
// and ErrSessionUnknown for codes 401/402.
type ReplyError struct {
	Channel string  // channel of the reply
	Err     Error   // parsed "error" field
	Raw     string  // the "error" field verbatim
	Advice  *Advice // advice carried by the reply, if any
	Reply   *Message
}

func (e *ReplyError) Error() string {
	if e.Raw == "" {
		return fmt.Sprintf("bayeux: %s unsuccessful", e.Channel)
	}
	return fmt.Sprintf("bayeux: %s unsuccessful: %s", e.Channel, e.Raw)
}

// Is matches ErrUnsuccessful, and ErrSessionUnknown for codes 401 and 402.
func (e *ReplyError) Is(target error) bool {
	switch target {
	case ErrUnsuccessful:
		return true
	case ErrSessionUnknown:
		return e.Err.Code == 401 || e.Err.Code == 402
	}
	return false
}

func replyError(m *Message) *ReplyError {
	return &ReplyError{Channel: m.Channel, Err: ParseError(m.Error), Raw: m.Error, Advice: m.Advice, Reply: m}
}
