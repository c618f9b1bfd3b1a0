package transports

import (
	"encoding/json"
	"time"
)

// MessageType is the normalized type of a transcript item (webchatservice.md §5.3).
// Unknown server types pass through unchanged as MessageType(serverType).
type MessageType string

// Message types. purecloud-v2-sockets produces only Message, ParticipantJoined and
// ParticipantLeft; GMS produces all of them.
const (
	TypeMessage           MessageType = "Message"
	TypeParticipantJoined MessageType = "ParticipantJoined"
	TypeParticipantLeft   MessageType = "ParticipantLeft"
	TypeTypingStarted     MessageType = "TypingStarted"
	TypeTypingStopped     MessageType = "TypingStopped"
	TypeNotice            MessageType = "Notice"
	TypeCustomNotice      MessageType = "CustomNotice"
	TypePushURL           MessageType = "PushUrl"
	TypeFileUploaded      MessageType = "FileUploaded"
	TypeFileDeleted       MessageType = "FileDeleted"
	TypeNicknameUpdated   MessageType = "NicknameUpdated"
	TypeIdleAlert         MessageType = "IdleAlert"
	TypeIdleClose         MessageType = "IdleClose"
)

// ParticipantType is the kind of party a message comes from (webchatservice.md §5.1 from.type).
type ParticipantType string

// Participant types.
const (
	ParticipantClient     ParticipantType = "Client"
	ParticipantAgent      ParticipantType = "Agent"
	ParticipantSupervisor ParticipantType = "Supervisor"
	ParticipantBot        ParticipantType = "Bot"
	ParticipantExternal   ParticipantType = "External"
	// ParticipantSystem is a server-side party that is neither agent nor bot
	// (e.g. the Genesys Cloud ACD queue member). Transports normally hide it.
	ParticipantSystem ParticipantType = "System"
	// ParticipantUnknown is used when a role lookup failed; the transport retries
	// the lookup later.
	ParticipantUnknown ParticipantType = "Unknown"
)

// From identifies the sender of a message. ID is always a string (webchatservice.md §6.7).
type From struct {
	ID     string          `json:"id,omitempty"`
	Type   ParticipantType `json:"type"`
	Name   string          `json:"name,omitempty"`
	Avatar string          `json:"avatar,omitempty"`
}

// FileDetails describes a file event (GMS FileUploaded/FileDeleted userData).
type FileDetails struct {
	ID          string `json:"fileId,omitempty"`
	Name        string `json:"fileName,omitempty"`
	Size        int64  `json:"fileSize,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	Description string `json:"fileDescription,omitempty"`
}

// Message is the one normalized transcript item every transport produces.
//
// ID is stable across reconnects and restores and is the dedupe key: the server
// message id (purecloud) or "<chatId>:<index>" (GMS). Index orders messages
// within a transcript; for purecloud it is the timestamp in ms as Widgets does
// (not unique, never a dedupe key), for GMS the transcript index.
type Message struct {
	ID        string      `json:"id"`
	Index     int64       `json:"index"`
	Type      MessageType `json:"type"`
	Text      string      `json:"text"`
	Timestamp time.Time   `json:"timestamp"`
	From      From        `json:"from"`
	// UserData is the event's data (GMS userData, e.g. next-idle-timer-secs).
	UserData map[string]any `json:"userData,omitempty"`
	// File is set for file events.
	File *FileDetails `json:"fileDetails,omitempty"`
	// MessageType is the sender's message type (GMS messageType, e.g. "text").
	MessageType string `json:"messageType,omitempty"`
	// Attributes holds GMS eventAttributes (or other transport extras) verbatim.
	Attributes json.RawMessage `json:"eventAttributes,omitempty"`
	// Synthetic is true for items the transport made up rather than received
	// (e.g. purecloud's ParticipantJoined for the client at start).
	Synthetic bool `json:"synthetic,omitempty"`
	// Raw is the server's JSON for this item (nil for synthetic items).
	Raw json.RawMessage `json:"raw,omitempty"`
}

// Own reports whether the message was sent by this session's own party.
func (m Message) Own() bool { return m.From.Type == ParticipantClient }

// IsParticipantEvent reports whether the message is a join or a leave.
func (m Message) IsParticipantEvent() bool {
	return m.Type == TypeParticipantJoined || m.Type == TypeParticipantLeft
}
