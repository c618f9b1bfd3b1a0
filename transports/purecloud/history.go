package purecloud

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// noteHistory records the oldest message this transport delivered: the
// point fetchHistory pages back from.
func (t *Transport) noteHistory(id string) {
	t.mu.Lock()
	if t.histBefore == "" {
		t.histBefore = id
	}
	t.mu.Unlock()
}

// FetchHistory returns the next older page of the transcript (Widgets
// fetchHistory): #7 with sortOrder=descending&maxResults=maxMessagePageSize
// &before=<oldest id seen>. Messages are normalized as live ones and
// returned oldest first. It fails with transports.ErrHistoryNotEnabled when
// pagination is off and transports.ErrNoMoreMessages at the start of the chat.
func (t *Transport) FetchHistory(ctx context.Context) (transports.HistoryPage, error) {
	if !t.set.pagination {
		return transports.HistoryPage{}, transports.ErrHistoryNotEnabled
	}
	t.histMu.Lock()
	defer t.histMu.Unlock()
	t.mu.Lock()
	if t.life.Phase == transports.PhaseNew || t.life.Phase == transports.PhaseClosed {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return transports.HistoryPage{}, err
	}
	before, done, k := t.histBefore, t.histDone, t.keys
	t.mu.Unlock()
	if done || before == "" {
		return transports.HistoryPage{}, transports.ErrNoMoreMessages
	}
	size := t.set.pageSize
	var raw json.RawMessage
	page, err := t.rest.getMessages(ctx, k.jwt, k.conv, "", before, wire.SortDescending, size, 3)
	if err != nil {
		return transports.HistoryPage{}, err
	}
	if len(page.Entities) == 0 {
		t.mu.Lock()
		t.histDone = true
		t.mu.Unlock()
		return transports.HistoryPage{}, transports.ErrNoMoreMessages
	}
	raw, _ = json.Marshal(page)
	out := transports.HistoryPage{Answer: raw}
	for i := range page.Entities {
		if m, ok := t.historyMessage(ctx, k, &page.Entities[i]); ok {
			out.Messages = append(out.Messages, m)
		}
	}
	slices.Reverse(out.Messages)
	oldest := page.Entities[len(page.Entities)-1].ID
	out.More = page.Next != "" || len(page.Entities) == size
	t.mu.Lock()
	t.histBefore = oldest
	t.histDone = !out.More
	t.mu.Unlock()
	return out, nil
}

// historyMessage normalizes a transcript message without touching the live
// participant state. Our own join/leave, ACD and (without botEventsEnabled)
// WORKFLOW joins and leaves are hidden, as live.
func (t *Transport) historyMessage(ctx context.Context, k sessionKeys, m *wire.WebChatMessage) (transports.Message, bool) {
	if m.ID == "" || m.Sender == nil {
		return transports.Message{}, false
	}
	ts := m.Timestamp.Time
	raw, _ := json.Marshal(m)
	msg := transports.Message{ID: m.ID, Index: ts.UnixMilli(), Text: m.Body, Timestamp: ts, Raw: raw, Type: transports.TypeMessage}
	sid := m.Sender.ID
	var mem member
	if sid == k.member {
		mem = member{role: wire.RoleCustomer, name: k.name}
	} else {
		mem = t.resolve(ctx, sid)
	}
	switch m.BodyType {
	case wire.BodyMemberJoin, wire.BodyMemberLeave:
		if sid == k.member || mem.role == wire.RoleACD || (mem.role == wire.RoleWorkflow && !t.set.botEvents) {
			return transports.Message{}, false
		}
		msg.Type = transports.TypeParticipantJoined
		if m.BodyType == wire.BodyMemberLeave {
			msg.Type = transports.TypeParticipantLeft
		}
	case wire.BodyMediaRequest:
		msg.Type = transports.MessageType(wire.BodyMediaRequest)
	}
	msg.From = t.from(sid, mem, m.BodyType)
	if sid == k.member {
		msg.From.Name = k.name
	}
	return msg, true
}
