package gms

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// answer is one decoded Chat V2 response with the raw JSON of its events.
type answer struct {
	resp *wire.Response
	body json.RawMessage
	raw  []json.RawMessage // raw events, index-aligned with resp.Messages (nil when unknown)
}

// decodeAnswer decodes a REST body or CometD notification data.
func decodeAnswer(body []byte) (*answer, error) {
	r, err := wire.DecodeResponse(body)
	if err != nil {
		return nil, err
	}
	a := &answer{resp: r, body: body}
	if len(r.Messages) > 0 {
		var m struct {
			Messages []json.RawMessage `json:"messages"`
		}
		if json.Unmarshal(body, &m) == nil && len(m.Messages) == len(r.Messages) {
			a.raw = m.Messages
		}
	}
	return a, nil
}

func (a *answer) rawAt(i int) json.RawMessage {
	if i < len(a.raw) {
		return a.raw[i]
	}
	return nil
}

// messageID is the stable id of a transcript event: "<chatId>:<index>".
func messageID(chatID string, index int) string {
	return chatID + ":" + strconv.Itoa(index)
}

// partyType maps a GMS from.type (and the bot marker) to the normalized type.
func partyType(e *wire.Event) transports.ParticipantType {
	if e.From == nil {
		return transports.ParticipantSystem
	}
	switch e.From.Type {
	case wire.PartyClient:
		return transports.ParticipantClient
	case wire.PartyAgent:
		if e.IsBot() {
			return transports.ParticipantBot
		}
		return transports.ParticipantAgent
	case wire.PartySupervisor:
		return transports.ParticipantSupervisor
	case wire.PartyExternal:
		if e.IsBot() {
			return transports.ParticipantBot
		}
		return transports.ParticipantExternal
	case "":
		return transports.ParticipantSystem
	}
	return transports.ParticipantType(e.From.Type)
}

// from returns the normalized sender (ids always strings).
func from(e *wire.Event) transports.From {
	f := transports.From{Type: partyType(e)}
	if e.From != nil {
		f.ID = string(e.From.ParticipantID)
		f.Name = e.From.Nickname
	}
	return f
}

// normalize turns one transcript event into the normalized Message.
func normalize(chatID string, e *wire.Event, raw json.RawMessage) transports.Message {
	m := transports.Message{
		Index:       int64(e.Index),
		Type:        transports.MessageType(e.Type),
		Text:        e.DisplayText(),
		From:        from(e),
		MessageType: e.MessageType,
		Raw:         raw,
	}
	if e.Index > 0 {
		m.ID = messageID(chatID, e.Index)
	}
	if e.UTCTime != 0 {
		m.Timestamp = time.UnixMilli(e.UTCTime).UTC()
	}
	if len(e.UserData) > 0 {
		m.UserData = make(map[string]any, len(e.UserData))
		for k, v := range e.UserData {
			m.UserData[k] = v
		}
	}
	if len(e.EventAttributes) > 0 {
		if b, err := json.Marshal(e.EventAttributes); err == nil {
			m.Attributes = b
		}
	}
	if e.Type == wire.EventFileUploaded || e.Type == wire.EventFileDeleted {
		fd := &transports.FileDetails{
			ID:          e.UserData[wire.KeyFileID],
			Name:        e.UserData[wire.KeyFileName],
			Description: e.UserData[wire.KeyFileDescription],
		}
		if n, err := strconv.ParseInt(e.UserData[wire.KeyFileSize], 10, 64); err == nil && n >= 0 {
			fd.Size = n
		}
		m.File = fd
	}
	return m
}

// typingState returns the typing state a TypingStarted/TypingStopped event
// reports, and false for other events.
func typingState(e *wire.Event) (transports.TypingState, bool) {
	switch e.Type {
	case wire.EventTypingStarted:
		return transports.TypingStarted, true
	case wire.EventTypingStopped:
		return transports.TypingStopped, true
	}
	return "", false
}
