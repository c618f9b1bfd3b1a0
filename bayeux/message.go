package bayeux

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Meta channel names (Bayeux 1.0 §2).
const (
	ChannelHandshake   = "/meta/handshake"
	ChannelConnect     = "/meta/connect"
	ChannelSubscribe   = "/meta/subscribe"
	ChannelUnsubscribe = "/meta/unsubscribe"
	ChannelDisconnect  = "/meta/disconnect"
)

// Connection type names.
const (
	TransportWebSocket   = "websocket"
	TransportLongPolling = "long-polling"
)

// Reconnect advice values (Bayeux 1.0 §3).
const (
	ReconnectRetry     = "retry"
	ReconnectHandshake = "handshake"
	ReconnectNone      = "none"
)

// Message is one Bayeux message. The same type is used for requests, replies and
// deliveries, by the client and by the server.
//
// Decoding is tolerant, as the spec requires: ID may arrive as a JSON string or number
// (it is kept as its decimal text), Subscription as a string or an array. Data and the
// values of Ext are kept raw.
type Message struct {
	Channel                  string                     `json:"channel"`
	ID                       string                     `json:"id,omitempty"`
	ClientID                 string                     `json:"clientId,omitempty"`
	Data                     json.RawMessage            `json:"data,omitempty"`
	Successful               bool                       `json:"successful"`
	Error                    string                     `json:"error,omitempty"`
	Advice                   *Advice                    `json:"advice,omitempty"`
	Ext                      map[string]json.RawMessage `json:"ext,omitempty"`
	Subscription             Channels                   `json:"subscription,omitempty"`
	Version                  string                     `json:"version,omitempty"`
	MinimumVersion           string                     `json:"minimumVersion,omitempty"`
	SupportedConnectionTypes []string                   `json:"supportedConnectionTypes,omitempty"`
	ConnectionType           string                     `json:"connectionType,omitempty"`
	Timestamp                string                     `json:"timestamp,omitempty"`
	AuthSuccessful           bool                       `json:"authSuccessful,omitempty"`

	// reply records that the message is a reply (it carries "successful"). It is set by
	// decoding and by the server when it builds replies; a reply with Successful=false
	// is encoded with "successful":false.
	reply bool
}

// IsReply reports whether the message is a reply to a request: it carried a
// "successful" field (or was built as a reply).
func (m *Message) IsReply() bool { return m.reply || m.Successful }

// IsMeta reports whether the message is on a /meta/** channel.
func (m *Message) IsMeta() bool { return IsMetaChannel(m.Channel) }

// MarkReply marks the message as a reply so that "successful" is encoded even when false.
func (m *Message) MarkReply() { m.reply = true }

// ParsedError parses the message's "error" field. It returns nil when there is none.
func (m *Message) ParsedError() *Error {
	if m.Error == "" {
		return nil
	}
	e := ParseError(m.Error)
	return &e
}

// DataAs decodes Data into v.
func (m *Message) DataAs(v any) error {
	if len(m.Data) == 0 {
		return fmt.Errorf("bayeux: message on %q has no data", m.Channel)
	}
	if err := json.Unmarshal(m.Data, v); err != nil {
		return fmt.Errorf("bayeux: decoding data of message on %q: %w", m.Channel, err)
	}
	return nil
}

// Clone returns a copy of m that shares no maps or slices with it (Data is copied too).
func (m *Message) Clone() *Message {
	c := *m
	if m.Data != nil {
		c.Data = append(json.RawMessage(nil), m.Data...)
	}
	if m.Ext != nil {
		c.Ext = make(map[string]json.RawMessage, len(m.Ext))
		for k, v := range m.Ext {
			c.Ext[k] = append(json.RawMessage(nil), v...)
		}
	}
	if m.Advice != nil {
		a := m.Advice.Clone()
		c.Advice = a
	}
	c.Subscription = append(Channels(nil), m.Subscription...)
	c.SupportedConnectionTypes = append([]string(nil), m.SupportedConnectionTypes...)
	return &c
}

// wireMessage is the encoding shape of Message.
type wireMessage struct {
	Channel                  string                     `json:"channel"`
	ID                       json.RawMessage            `json:"id,omitempty"`
	ClientID                 string                     `json:"clientId,omitempty"`
	Data                     json.RawMessage            `json:"data,omitempty"`
	Successful               *bool                      `json:"successful,omitempty"`
	Error                    string                     `json:"error,omitempty"`
	Advice                   *Advice                    `json:"advice,omitempty"`
	Ext                      map[string]json.RawMessage `json:"ext,omitempty"`
	Subscription             json.RawMessage            `json:"subscription,omitempty"`
	Version                  string                     `json:"version,omitempty"`
	MinimumVersion           string                     `json:"minimumVersion,omitempty"`
	SupportedConnectionTypes []string                   `json:"supportedConnectionTypes,omitempty"`
	ConnectionType           string                     `json:"connectionType,omitempty"`
	Timestamp                string                     `json:"timestamp,omitempty"`
	AuthSuccessful           *bool                      `json:"authSuccessful,omitempty"`
}

// MarshalJSON encodes the message; ids are always sent as strings.
func (m Message) MarshalJSON() ([]byte, error) {
	w := wireMessage{
		Channel:                  m.Channel,
		ClientID:                 m.ClientID,
		Data:                     m.Data,
		Error:                    m.Error,
		Advice:                   m.Advice,
		Ext:                      m.Ext,
		Version:                  m.Version,
		MinimumVersion:           m.MinimumVersion,
		SupportedConnectionTypes: m.SupportedConnectionTypes,
		ConnectionType:           m.ConnectionType,
		Timestamp:                m.Timestamp,
	}
	if m.ID != "" {
		w.ID, _ = json.Marshal(m.ID)
	}
	if m.reply || m.Successful || m.Error != "" {
		s := m.Successful
		w.Successful = &s
	}
	if m.AuthSuccessful {
		t := true
		w.AuthSuccessful = &t
	}
	if len(m.Subscription) > 0 {
		var err error
		if w.Subscription, err = m.Subscription.MarshalJSON(); err != nil {
			return nil, err
		}
	}
	if w.Data != nil && !json.Valid(w.Data) {
		return nil, fmt.Errorf("bayeux: message on %q: data is not valid JSON", m.Channel)
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes one message tolerantly (see Message).
func (m *Message) UnmarshalJSON(b []byte) error {
	var w wireMessage
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("bayeux: bad message: %w", err)
	}
	id, err := decodeID(w.ID)
	if err != nil {
		return err
	}
	var sub Channels
	if len(w.Subscription) > 0 {
		if err := sub.UnmarshalJSON(w.Subscription); err != nil {
			return err
		}
	}
	*m = Message{
		Channel:                  w.Channel,
		ID:                       id,
		ClientID:                 w.ClientID,
		Data:                     w.Data,
		Error:                    w.Error,
		Advice:                   w.Advice,
		Ext:                      w.Ext,
		Subscription:             sub,
		Version:                  w.Version,
		MinimumVersion:           w.MinimumVersion,
		SupportedConnectionTypes: w.SupportedConnectionTypes,
		ConnectionType:           w.ConnectionType,
		Timestamp:                w.Timestamp,
	}
	if bytes.Equal(bytes.TrimSpace(m.Data), []byte("null")) {
		// "data":null is a delivery of null; keep it distinguishable from absent.
		m.Data = json.RawMessage("null")
	}
	if w.Successful != nil {
		m.Successful = *w.Successful
		m.reply = true
	}
	if w.AuthSuccessful != nil {
		m.AuthSuccessful = *w.AuthSuccessful
	}
	return nil
}

func decodeID(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("bayeux: bad message id: %w", err)
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", fmt.Errorf("bayeux: bad message id: %w", err)
		}
		if i, err := n.Int64(); err == nil {
			return strconv.FormatInt(i, 10), nil
		}
		return n.String(), nil
	default:
		return "", fmt.Errorf("bayeux: bad message id %s: want a string or a number", truncate(string(raw), 40))
	}
}

// Channels is the "subscription" field: one channel or pattern, or several. It decodes
// from a string or an array of strings and encodes a single element as a string.
type Channels []string

// MarshalJSON encodes one element as a string, several as an array.
func (s Channels) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	return json.Marshal([]string(s))
}

// UnmarshalJSON accepts a string or an array of strings.
func (s *Channels) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*s = nil
		return nil
	}
	if b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return fmt.Errorf("bayeux: bad subscription: %w", err)
		}
		*s = Channels{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("bayeux: bad subscription %s: want a string or an array of strings", truncate(string(b), 40))
	}
	*s = many
	return nil
}

// DecodeMessages decodes a request or reply body: a JSON array of messages, or (tolerated)
// a single message object. Every message must have a non-empty channel. Malformed input
// returns an error naming what is wrong; it never panics.
func DecodeMessages(body []byte) ([]*Message, error) {
	b := bytes.TrimSpace(body)
	if len(b) == 0 {
		return nil, ErrEmptyBody
	}
	var msgs []*Message
	switch b[0] {
	case '[':
		// Fast path: decode the array at once; on failure redo it element by element
		// for an error that says which message is wrong.
		if err := json.Unmarshal(b, &msgs); err == nil && validDecoded(msgs) {
			if len(msgs) == 0 {
				return nil, ErrEmptyBody
			}
			return msgs, nil
		}
		msgs = nil
		var raws []json.RawMessage
		if err := json.Unmarshal(b, &raws); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
		}
		msgs = make([]*Message, 0, len(raws))
		for i, r := range raws {
			m, err := decodeOne(r)
			if err != nil {
				return nil, fmt.Errorf("%w: message %d: %v", ErrBadMessage, i, err)
			}
			msgs = append(msgs, m)
		}
	case '{':
		m, err := decodeOne(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadMessage, err)
		}
		msgs = []*Message{m}
	default:
		return nil, fmt.Errorf("%w: want a JSON array or object, got %s", ErrBadMessage, truncate(string(b), 40))
	}
	if len(msgs) == 0 {
		return nil, ErrEmptyBody
	}
	return msgs, nil
}

func validDecoded(msgs []*Message) bool {
	for _, m := range msgs {
		if m == nil || m.Channel == "" {
			return false
		}
	}
	return true
}

func decodeOne(raw []byte) (*Message, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil, fmt.Errorf("want a JSON object, got %s", truncate(string(raw), 40))
	}
	m := new(Message)
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "bayeux: "))
	}
	if m.Channel == "" {
		return nil, fmt.Errorf("no channel")
	}
	return m, nil
}

// EncodeMessages encodes messages as a JSON array.
func EncodeMessages(msgs []*Message) ([]byte, error) {
	return json.Marshal(msgs)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
