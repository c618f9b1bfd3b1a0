package wire

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// StatusCode is the API statusCode of every Chat V2 answer (§5).
type StatusCode int

const (
	// StatusOK (0): success, every field is valid.
	StatusOK StatusCode = 0
	// StatusRetry (1): transient error (typically Chat Server offline); the
	// other fields are not trustworthy; the client may keep trying.
	StatusRetry StatusCode = 1
	// StatusFailed (2): the operation failed for good; read chatEnded and errors.
	StatusFailed StatusCode = 2
)

// String returns "0 (ok)", "1 (retry)" or "2 (failed)".
func (c StatusCode) String() string {
	switch c {
	case StatusOK:
		return "0 (ok)"
	case StatusRetry:
		return "1 (retry)"
	case StatusFailed:
		return "2 (failed)"
	}
	return strconv.Itoa(int(c))
}

// Deprecated is the literal some 8.5.112+ CometD notifications carry in
// place of userId and chatId; it never overwrites a stored key (§2).
const Deprecated = "deprecated"

// Response is the Chat V2 answer, identical for every REST operation and for
// every CometD notification (§5). Decode one with [DecodeResponse] (or
// json.Unmarshal, which runs the same validation).
//
// Encoding: statusCode, chatEnded and messages (as [] when empty) are always
// written; the ids, nextPosition (when > 0), errors and userData when set.
type Response struct {
	StatusCode StatusCode `json:"statusCode"`
	ChatEnded  bool       `json:"chatEnded"`

	ChatID    string `json:"chatId,omitempty"`
	UserID    string `json:"userId,omitempty"`
	SecureKey string `json:"secureKey,omitempty"`
	Alias     string `json:"alias,omitempty"`

	// NextPosition is the transcriptPosition for the next request; 0 when absent.
	NextPosition int `json:"nextPosition,omitempty"`

	Messages []Event           `json:"messages"`
	Errors   []Error           `json:"errors,omitempty"`
	UserData map[string]string `json:"userData,omitempty"`

	// Monitored appears in CometD notifications; its meaning is undocumented.
	Monitored *bool `json:"monitored,omitempty"`
}

// MarshalJSON writes messages as [] when empty.
func (r Response) MarshalJSON() ([]byte, error) {
	type plain Response
	p := plain(r)
	if p.Messages == nil {
		p.Messages = []Event{}
	}
	return json.Marshal(p)
}

// Err returns nil when StatusCode is 0 and a *ResponseError otherwise.
func (r *Response) Err() error {
	if r == nil || r.StatusCode == StatusOK {
		return nil
	}
	return &ResponseError{StatusCode: r.StatusCode, ChatEnded: r.ChatEnded, Errors: append([]Error(nil), r.Errors...)}
}

// MaxIndex returns the highest event index in the answer (0 when none).
func (r *Response) MaxIndex() int {
	m := 0
	for i := range r.Messages {
		if r.Messages[i].Index > m {
			m = r.Messages[i].Index
		}
	}
	return m
}

// Cursor returns the transcriptPosition to send next given the highest index
// processed so far (§7): max(nextPosition, lastIndex+1, 1).
func Cursor(nextPosition, lastIndex int) int {
	c := lastIndex + 1
	if nextPosition > c {
		c = nextPosition
	}
	if c < 1 {
		c = 1
	}
	return c
}

// Error is one entry of errors[]. Advice is a text or, for file errors, the
// limit that was exceeded (a JSON number on the wire).
type Error struct {
	Code   int        `json:"code"`
	Advice FlexString `json:"advice,omitempty"`
}

// AdviceInt returns Advice as an integer when it is one.
func (e Error) AdviceInt() (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(e.Advice)), 10, 64)
	return n, err == nil
}

func (e Error) String() string {
	if e.Advice == "" {
		return strconv.Itoa(e.Code)
	}
	return fmt.Sprintf("%d (%s)", e.Code, e.Advice)
}

// ResponseError is the error form of an answer whose statusCode is not 0.
type ResponseError struct {
	StatusCode StatusCode
	ChatEnded  bool
	Errors     []Error
}

func (e *ResponseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wire: statusCode %d", int(e.StatusCode))
	if e.ChatEnded {
		b.WriteString(", chat ended")
	}
	for i, x := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(x.String())
	}
	return b.String()
}

// Has reports whether errors[] holds code.
func (e *ResponseError) Has(code int) bool {
	for _, x := range e.Errors {
		if x.Code == code {
			return true
		}
	}
	return false
}

// EventType is the type of a transcript event (§6). Unknown types are kept
// verbatim.
type EventType string

// Transcript event types.
const (
	EventParticipantJoined EventType = "ParticipantJoined"
	EventParticipantLeft   EventType = "ParticipantLeft"
	EventMessage           EventType = "Message"
	EventTypingStarted     EventType = "TypingStarted"
	EventTypingStopped     EventType = "TypingStopped"
	EventNotice            EventType = "Notice"
	EventCustomNotice      EventType = "CustomNotice"
	EventPushURL           EventType = "PushUrl"
	EventFileUploaded      EventType = "FileUploaded"
	EventFileDeleted       EventType = "FileDeleted"
	EventNicknameUpdated   EventType = "NicknameUpdated"
	EventIdleAlert         EventType = "IdleAlert"
	EventIdleClose         EventType = "IdleClose"
)

// EventTypes lists every known event type.
var EventTypes = []EventType{
	EventParticipantJoined, EventParticipantLeft, EventMessage, EventTypingStarted,
	EventTypingStopped, EventNotice, EventCustomNotice, EventPushURL, EventFileUploaded,
	EventFileDeleted, EventNicknameUpdated, EventIdleAlert, EventIdleClose,
}

// PartyType is the type of the party in an event's from.
type PartyType string

// Party types.
const (
	PartyClient     PartyType = "Client"
	PartyAgent      PartyType = "Agent"
	PartySupervisor PartyType = "Supervisor"
	PartyExternal   PartyType = "External"
)

// Party is an event's from.
type Party struct {
	Nickname      string     `json:"nickname"`
	ParticipantID FlexString `json:"participantId"`
	Type          PartyType  `json:"type"`
}

// Event is one transcript event (§6).
type Event struct {
	// Index is the transcript position, from 1. 0 means the item has no index
	// (an operation result such as the file-limits Notice): never dedupe it
	// and never move the cursor with it.
	Index   int       `json:"index,omitempty"`
	Type    EventType `json:"type"`
	UTCTime int64     `json:"utcTime"` // epoch milliseconds
	From    *Party    `json:"from,omitempty"`
	Text    string    `json:"text,omitempty"`

	MessageType     string            `json:"messageType,omitempty"`
	UserData        map[string]string `json:"userData,omitempty"`
	EventAttributes map[string]any    `json:"eventAttributes,omitempty"`
}

// UserData keys found in events.
const (
	KeyFileID            = "file-id"
	KeyFileName          = "file-name"
	KeyFileSize          = "file-size"
	KeyFileDescription   = "file-description"
	KeyNextIdleTimerType = "next-idle-timer-type"
	KeyNextIdleTimerSecs = "next-idle-timer-secs"
)

// IsBot reports whether eventAttributes.GCTI_SYSTEM["party-info"].style is "BOT".
func (e *Event) IsBot() bool {
	sys, _ := e.EventAttributes["GCTI_SYSTEM"].(map[string]any)
	pi, _ := sys["party-info"].(map[string]any)
	s, _ := pi["style"].(string)
	return strings.EqualFold(s, "BOT")
}

// IdleSecondsLeft returns userData["next-idle-timer-secs"] of an IdleAlert.
func (e *Event) IdleSecondsLeft() (int, bool) {
	v, ok := e.UserData[KeyNextIdleTimerSecs]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	return n, err == nil
}

// DisplayText returns eventAttributes["structured-content"]["genesys-chat"]
// ["content"].text when present (Widgets shows it instead of text), else Text.
func (e *Event) DisplayText() string {
	sc, _ := e.EventAttributes["structured-content"].(map[string]any)
	gc, _ := sc["genesys-chat"].(map[string]any)
	c, _ := gc["content"].(map[string]any)
	if t, ok := c["text"].(string); ok && t != "" {
		return t
	}
	return e.Text
}

// Keys are the four session keys (§2). The zero value holds nothing.
type Keys struct {
	ChatID    string
	UserID    string
	SecureKey string
	Alias     string
}

// Apply stores each key of r that is present, non-empty and not "deprecated"
// (§2 rule 1; a missing field never clears a stored value). Answers with
// statusCode 1 update nothing (§16.2). It reports whether any key changed.
func (k *Keys) Apply(r *Response) bool {
	if r == nil || r.StatusCode == StatusRetry {
		return false
	}
	changed := false
	set := func(dst *string, v string) {
		if v != "" && v != Deprecated && *dst != v {
			*dst = v
			changed = true
		}
	}
	set(&k.ChatID, r.ChatID)
	set(&k.UserID, r.UserID)
	set(&k.SecureKey, r.SecureKey)
	set(&k.Alias, r.Alias)
	return changed
}

// Empty reports whether no secureKey is held.
func (k Keys) Empty() bool { return k.SecureKey == "" }

// String prints the keys with secureKey redacted.
func (k Keys) String() string {
	sk := ""
	if k.SecureKey != "" {
		sk = "[redacted]"
	}
	return fmt.Sprintf("chatId=%s userId=%s alias=%s secureKey=%s", k.ChatID, k.UserID, k.Alias, sk)
}

// GoString is String, so %#v does not leak the secureKey either.
func (k Keys) GoString() string { return "wire.Keys{" + k.String() + "}" }

// Notification is a CometD delivery on the service channel (§4.2): a Bayeux
// message whose data is a Chat V2 response. Decode Data with DecodeResponse
// when the Bayeux layer hands over raw JSON.
type Notification struct {
	Channel string   `json:"channel"`
	Data    Response `json:"data"`
}
