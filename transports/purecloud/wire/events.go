package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Event-stream constants (spec §6).
const (
	// TopicHeartbeat is the heartbeat topic; it carries no metadata.
	TopicHeartbeat = "channel.metadata"
	// TopicSocketClosing warns that the server will close the socket soon.
	TopicSocketClosing = "v2.system.socket_closing"

	// EventTypeMessage is metadata.type of a message on the messages topic.
	EventTypeMessage = "message"
	// EventTypeTypingIndicator is metadata.type of a typing indicator.
	EventTypeTypingIndicator = "typing-indicator"
	// EventTypeMemberChange is metadata.type of a member state change.
	EventTypeMemberChange = "member-change"

	// EnvelopeVersion is the version literal the simulator sends.
	EnvelopeVersion = "2"
	// HeartbeatText is eventBody.message of a heartbeat.
	HeartbeatText = "WebSocket Heartbeat"
	// PingText and PongText are the client ping {"message":"ping"} and the
	// eventBody.message of the server's pong on channel.metadata.
	PingText = "ping"
	PongText = "pong"

	// CloseConversationEnded (1001) closes the stream of an ended chat.
	CloseConversationEnded = 1001
	// CloseConnectError (4100) closes a stream whose token or conversation
	// is not usable.
	CloseConnectError = 4100
	// CloseReasonEnded is the close reason sent with 1001.
	CloseReasonEnded = "The conversation is ended"

	topicPrefix   = "v2.conversations.chats."
	topicMessages = ".messages"
	topicMembers  = ".members"
)

// CloseReasonConnectError is the close reason sent with 4100.
func CloseReasonConnectError(convID string) string {
	return "Error connecting to conversation (" + convID + ")"
}

// MessagesTopic is v2.conversations.chats.{conversationId}.messages.
func MessagesTopic(convID string) string { return topicPrefix + convID + topicMessages }

// MembersTopic is v2.conversations.chats.{conversationId}.members.
func MembersTopic(convID string) string { return topicPrefix + convID + topicMembers }

// TopicKind classifies a topicName.
type TopicKind int

// Topic kinds.
const (
	TopicUnknown TopicKind = iota
	TopicMessages
	TopicMembers
	TopicHeartbeatKind
	TopicSocketClosingKind
)

// ParseTopic classifies a topicName and extracts the conversation id of the
// chat topics.
func ParseTopic(topic string) (kind TopicKind, convID string) {
	switch topic {
	case TopicHeartbeat:
		return TopicHeartbeatKind, ""
	case TopicSocketClosing:
		return TopicSocketClosingKind, ""
	}
	rest, ok := strings.CutPrefix(topic, topicPrefix)
	if !ok {
		return TopicUnknown, ""
	}
	if id, ok := strings.CutSuffix(rest, topicMessages); ok && id != "" && !strings.Contains(id, ".") {
		return TopicMessages, id
	}
	if id, ok := strings.CutSuffix(rest, topicMembers); ok && id != "" && !strings.Contains(id, ".") {
		return TopicMembers, id
	}
	return TopicUnknown, ""
}

// Envelope is one event-stream frame.
type Envelope struct {
	TopicName string          `json:"topicName"`
	Version   string          `json:"version,omitempty"`
	EventBody json.RawMessage `json:"eventBody,omitempty"`
	Metadata  *Metadata       `json:"metadata,omitempty"`
}

// Metadata is Envelope.metadata. Note the capital C of CorrelationId;
// encoding/json matches keys case-insensitively when decoding.
type Metadata struct {
	CorrelationID string `json:"CorrelationId,omitempty"`
	Type          string `json:"type,omitempty"`
}

// MemberChangeEvent is the eventBody of a member-change event. Member
// carries only id and state, never the role.
type MemberChangeEvent struct {
	ID           string               `json:"id,omitempty"`
	Conversation *WebChatConversation `json:"conversation,omitempty"`
	Member       *WebChatMemberInfo   `json:"member"`
	Timestamp    Time                 `json:"timestamp"`
}

// ChannelMessage is the eventBody of channel.metadata frames (heartbeat and
// pong) and of the client ping frame.
type ChannelMessage struct {
	Message string `json:"message"`
}

// NewEnvelope builds a chat envelope on topic with metadata type typ.
func NewEnvelope(topic, typ, correlationID string, body any) (*Envelope, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("wire: encode event body: %w", err)
	}
	return &Envelope{
		TopicName: topic,
		Version:   EnvelopeVersion,
		EventBody: raw,
		Metadata:  &Metadata{CorrelationID: correlationID, Type: typ},
	}, nil
}

// MessageEnvelope builds the "message" event for m in conversation convID.
func MessageEnvelope(convID, correlationID string, m *WebChatMessage) (*Envelope, error) {
	return NewEnvelope(MessagesTopic(convID), EventTypeMessage, correlationID, m)
}

// TypingEnvelope builds the "typing-indicator" event for t.
func TypingEnvelope(convID, correlationID string, t *WebChatTyping) (*Envelope, error) {
	return NewEnvelope(MessagesTopic(convID), EventTypeTypingIndicator, correlationID, t)
}

// MemberChangeEnvelope builds the "member-change" event for c.
func MemberChangeEnvelope(convID, correlationID string, c *MemberChangeEvent) (*Envelope, error) {
	return NewEnvelope(MembersTopic(convID), EventTypeMemberChange, correlationID, c)
}

// HeartbeatFrame is the exact heartbeat frame.
var HeartbeatFrame = []byte(`{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}`)

// PongFrame is the exact answer to a client ping.
var PongFrame = []byte(`{"topicName":"channel.metadata","eventBody":{"message":"pong"}}`)

// PingFrame is the client ping frame.
var PingFrame = []byte(`{"message":"ping"}`)

// SocketClosingFrame is a v2.system.socket_closing notice.
var SocketClosingFrame = []byte(`{"topicName":"v2.system.socket_closing","eventBody":{"message":"socket closing"}}`)

// EventKind classifies a decoded frame.
type EventKind int

// Event kinds.
const (
	// KindUnknown is a well-formed frame of an unknown topic or type; clients ignore it.
	KindUnknown EventKind = iota
	KindHeartbeat
	KindPong
	KindSocketClosing
	KindMessage
	KindTyping
	KindMemberChange
)

var kindNames = [...]string{"unknown", "heartbeat", "pong", "socket-closing", "message", "typing-indicator", "member-change"}

func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// Event is a decoded event-stream frame. Exactly one of Message, Typing and
// MemberChange is set for the chat kinds.
type Event struct {
	Envelope
	Kind           EventKind
	ConversationID string
	Message        *WebChatMessage
	Typing         *WebChatTyping
	MemberChange   *MemberChangeEvent
}

// ErrMalformedFrame is wrapped by every ParseEvent error.
var ErrMalformedFrame = errors.New("wire: malformed event frame")

// ParseEvent decodes an untrusted event-stream frame. Heartbeats are told by
// topicName; chat events dispatch on metadata.type. Unknown topics and types
// give KindUnknown with no error. A frame that is not a JSON object, or a
// known event whose body is missing or lacks the fields clients need,
// gives an error wrapping ErrMalformedFrame.
func ParseEvent(data []byte) (*Event, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedFrame)
	}
	ev := &Event{}
	if err := json.Unmarshal(data, &ev.Envelope); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedFrame, err)
	}
	topicKind, convID := ParseTopic(ev.TopicName)
	ev.ConversationID = convID
	switch topicKind {
	case TopicHeartbeatKind:
		var cm ChannelMessage
		if len(ev.EventBody) > 0 && json.Unmarshal(ev.EventBody, &cm) == nil && cm.Message == PongText {
			ev.Kind = KindPong
		} else {
			ev.Kind = KindHeartbeat
		}
		return ev, nil
	case TopicSocketClosingKind:
		ev.Kind = KindSocketClosing
		return ev, nil
	case TopicUnknown:
		return ev, nil
	}
	if ev.Metadata == nil {
		return ev, nil
	}
	typ := ev.Metadata.Type
	switch {
	case topicKind == TopicMessages && typ == EventTypeMessage:
		var m WebChatMessage
		if err := decodeBody(ev, &m); err != nil {
			return nil, err
		}
		if m.ID == "" || m.Sender == nil || m.Sender.ID == "" {
			return nil, fmt.Errorf("%w: message event without id or sender.id", ErrMalformedFrame)
		}
		ev.Kind, ev.Message = KindMessage, &m
	case topicKind == TopicMessages && typ == EventTypeTypingIndicator:
		var t WebChatTyping
		if err := decodeBody(ev, &t); err != nil {
			return nil, err
		}
		if t.Sender == nil || t.Sender.ID == "" {
			return nil, fmt.Errorf("%w: typing-indicator event without sender.id", ErrMalformedFrame)
		}
		ev.Kind, ev.Typing = KindTyping, &t
	case topicKind == TopicMembers && typ == EventTypeMemberChange:
		var c MemberChangeEvent
		if err := decodeBody(ev, &c); err != nil {
			return nil, err
		}
		if c.Member == nil || c.Member.ID == "" {
			return nil, fmt.Errorf("%w: member-change event without member.id", ErrMalformedFrame)
		}
		ev.Kind, ev.MemberChange = KindMemberChange, &c
	}
	return ev, nil
}

func decodeBody(ev *Event, v any) error {
	if len(ev.EventBody) == 0 || bytes.Equal(ev.EventBody, []byte("null")) {
		return fmt.Errorf("%w: %s event without eventBody", ErrMalformedFrame, ev.Metadata.Type)
	}
	if err := json.Unmarshal(ev.EventBody, v); err != nil {
		return fmt.Errorf("%w: %s eventBody: %v", ErrMalformedFrame, ev.Metadata.Type, err)
	}
	return nil
}
