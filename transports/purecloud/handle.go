package purecloud

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// loopState is owned by the session loop goroutine.
type loopState struct {
	t      *Transport
	conn   *sockConn
	gen    uint64
	seen   *transports.Seen // processed message ids
	tseen  *transports.Seen // processed typing event ids
	cursor transports.Cursor
	curTS  time.Time
	batch  []transports.Message

	typing map[string]*typingState

	hold       []held
	holdSeq    uint64
	holdTimer  transports.Timer
	releasedTS time.Time

	transferTimer transports.Timer
	transferGen   uint64
}

type typingState struct {
	gen    uint64
	active bool
	timer  transports.Timer
	from   transports.From
}

type held struct {
	ev  *wire.Event
	ts  time.Time
	at  time.Time
	seq uint64
}

func newLoopState(t *Transport) *loopState {
	return &loopState{
		t:      t,
		seen:   transports.NewSeen(transports.DefaultSeenCap),
		tseen:  transports.NewSeen(64),
		cursor: t.Cursor(),
		typing: map[string]*typingState{},
	}
}

// handle processes one mailbox item. A non-nil error means the socket is
// gone (or must be replaced) and carries the reason.
func (ls *loopState) handle(it item) error {
	switch it.kind {
	case itemFrame:
		if it.gen != ls.gen {
			return nil // a frame of an older socket; backfill covers it
		}
		return ls.frame(it.data, it.at)
	case itemConnClosed:
		if it.gen != ls.gen {
			return nil
		}
		return it.err
	case itemTypingTimeout:
		if st := ls.typing[it.member]; st != nil && st.active && st.gen == it.gen {
			st.active = false
			ls.emitTyping(st.from, transports.TypingTimeout)
		}
	case itemHoldRelease:
		ls.releaseHold(false)
	case itemTransferCheck:
		if it.gen == ls.transferGen {
			ls.checkTransfer(it.member)
		}
	}
	return nil
}

// frame decodes one event-stream frame. Malformed frames are reported as
// EventError and skipped; they never stop the stream.
func (ls *loopState) frame(data []byte, at time.Time) error {
	ev, err := wire.ParseEvent(data)
	if err != nil {
		ls.flush()
		ls.t.emit(transports.Event{Kind: transports.EventError, Err: fmt.Errorf("%w: %w", transports.ErrMalformed, err)})
		return nil
	}
	switch ev.Kind {
	case wire.KindSocketClosing:
		return errClosing
	case wire.KindMessage, wire.KindTyping, wire.KindMemberChange:
	default:
		return nil // heartbeat, pong, unknown topic or type
	}
	k := ls.t.snapshotKeys()
	if ev.ConversationID != k.conv {
		return nil
	}
	if ls.t.set.reorderWindow > 0 {
		ls.holdEvent(ev, at)
		return nil
	}
	ls.event(ev)
	return nil
}

// event dispatches a decoded chat event.
func (ls *loopState) event(ev *wire.Event) {
	switch ev.Kind {
	case wire.KindMessage:
		ls.message(ev.Message, ev.EventBody)
	case wire.KindTyping:
		ls.typingIndicator(ev.Typing)
	case wire.KindMemberChange:
		ls.memberChange(ev.MemberChange)
	}
}

// message processes a message from the socket or a backfill page: dedupe by
// id, normalize, deliver (own echoes as Client messages), advance the cursor.
func (ls *loopState) message(m *wire.WebChatMessage, raw json.RawMessage) {
	t := ls.t
	if m.ID == "" || m.Sender == nil || !ls.seen.Add(m.ID) {
		return
	}
	ts := m.Timestamp.Time
	if !ts.Before(ls.curTS) || ls.cursor.ID == "" {
		ls.cursor, ls.curTS = transports.Cursor{ID: m.ID}, ts
	}
	t.noteHistory(m.ID)
	if raw == nil {
		raw, _ = json.Marshal(m)
	}
	k := t.snapshotKeys()
	sid := m.Sender.ID
	msg := transports.Message{ID: m.ID, Index: ts.UnixMilli(), Text: m.Body, Timestamp: ts, Raw: raw}
	if sid == k.member {
		switch m.BodyType {
		case wire.BodyMemberJoin:
			return // reported at start (synthetic ParticipantJoined)
		case wire.BodyMemberLeave:
			t.endSession(transports.EndedByServer, nil) // a leave is permanent
			return
		}
		msg.Type = transports.TypeMessage
		msg.From = transports.From{ID: sid, Type: transports.ParticipantClient, Name: k.name}
		ls.batch = append(ls.batch, msg)
		return
	}
	mem := ls.resolve(sid)
	switch m.BodyType {
	case wire.BodyMemberJoin:
		ls.join(sid, mem, msg)
	case wire.BodyMemberLeave:
		ls.leave(sid, mem, msg)
	default:
		if st := ls.typing[sid]; st != nil && st.active {
			st.active = false
			st.timer.Stop()
			ls.emitTyping(st.from, transports.TypingStopped)
		}
		msg.Type = transports.TypeMessage
		if m.BodyType == wire.BodyMediaRequest {
			msg.Type = transports.MessageType(wire.BodyMediaRequest) // unknown types pass through
		}
		msg.From = t.from(sid, mem, m.BodyType)
		ls.batch = append(ls.batch, msg)
	}
}

// join reports a member-join: agents always, bots with botEventsEnabled,
// ACD never. Idempotent per member.
func (ls *loopState) join(id string, mem member, msg transports.Message) {
	t := ls.t
	msg.Type = transports.TypeParticipantJoined
	msg.From = t.from(id, mem, wire.BodyMemberJoin)
	switch mem.role {
	case wire.RoleAgent:
	case wire.RoleWorkflow:
		if !t.set.botEvents {
			return
		}
	case "":
		// Role unknown (lookup failed): deliver rather than lose it; a later
		// successful lookup cannot re-type it, so flag it.
		t.members.update(id, func(m *member) { m.joinedUnknown = true })
	default:
		return
	}
	first := false
	t.members.update(id, func(m *member) {
		if !m.joined || m.left {
			first = true
			m.joined, m.left = true, false
		}
	})
	if first {
		ls.batch = append(ls.batch, msg)
	}
}

// leave reports a member-leave (or a DISCONNECTED member-change): once per
// member, for the members whose join was reported.
func (ls *loopState) leave(id string, mem member, msg transports.Message) {
	t := ls.t
	report := false
	t.members.update(id, func(m *member) {
		if m.joined && !m.left {
			report = true
			m.left = true
		}
	})
	if !report && mem.role == wire.RoleAgent {
		// Join happened before our cursor (e.g. after a restore): still report the leave once.
		t.members.update(id, func(m *member) {
			if !m.left {
				report, m.left, m.joined = true, true, true
			}
		})
	}
	if !report {
		return
	}
	if st := ls.typing[id]; st != nil && st.active {
		st.active = false
		st.timer.Stop()
		ls.emitTyping(st.from, transports.TypingStopped)
	}
	msg.Type = transports.TypeParticipantLeft
	msg.From = t.from(id, mem, wire.BodyMemberLeave)
	ls.batch = append(ls.batch, msg)
	if mem.role == wire.RoleAgent {
		ls.scheduleTransferCheck(id)
	}
}

// memberChange applies a state change; idempotent (duplicate CONNECTED is a no-op).
func (ls *loopState) memberChange(c *wire.MemberChangeEvent) {
	t := ls.t
	k := t.snapshotKeys()
	id := c.Member.ID
	if id == k.member {
		if c.Member.State == wire.StateDisconnected {
			ls.flush()
			t.endSession(transports.EndedByServer, nil) // §7.3 (a)
		}
		return
	}
	prev, known := t.members.get(id)
	t.members.update(id, func(m *member) { m.state = c.Member.State })
	if !known || prev.role == "" {
		prev = ls.resolve(id)
	}
	if c.Member.State == wire.StateDisconnected && prev.role == wire.RoleAgent {
		ts := c.Timestamp.Time
		if ts.IsZero() {
			ts = t.clock.Now()
		}
		eid := c.ID
		if eid == "" {
			eid = fmt.Sprint(ts.UnixNano())
		}
		ls.leave(id, prev, transports.Message{ID: id + ":left:" + eid, Index: ts.UnixMilli(), Timestamp: ts, Synthetic: true})
	}
}

// typingIndicator handles an incoming typing-indicator: started on the first,
// re-armed on each, timed out after agentTypingTimeout.
func (ls *loopState) typingIndicator(ty *wire.WebChatTyping) {
	t := ls.t
	k := t.snapshotKeys()
	sid := ty.Sender.ID
	if sid == k.member || (ty.ID != "" && !ls.tseen.Add(ty.ID)) {
		return // our own echo, or a re-delivery
	}
	mem := ls.resolve(sid)
	st := ls.typing[sid]
	if st == nil {
		st = &typingState{}
		ls.typing[sid] = st
	}
	st.from = t.from(sid, mem, wire.BodyStandard)
	st.gen++
	if st.timer != nil {
		st.timer.Stop()
	}
	gen := st.gen
	st.timer = t.clock.AfterFunc(t.set.typingTimeout, func() {
		t.mbox.push(item{kind: itemTypingTimeout, member: sid, gen: gen})
	})
	if !st.active {
		st.active = true
		ls.emitTyping(st.from, transports.TypingStarted)
	}
}

func (ls *loopState) emitTyping(f transports.From, s transports.TypingState) {
	ls.flush()
	ls.t.emit(transports.Event{Kind: transports.EventTyping, Typing: &transports.Typing{From: f, State: s}})
}

// flush delivers the pending batch with the cursor after it.
func (ls *loopState) flush() {
	t := ls.t
	t.mu.Lock()
	moved := t.cursor != ls.cursor
	t.cursor = ls.cursor
	t.mu.Unlock()
	if len(ls.batch) == 0 {
		if moved {
			// Hidden items (echo of a join, ACD events) still move the cursor.
			t.emit(transports.Event{Kind: transports.EventMessages, Cursor: ls.cursor})
		}
		return
	}
	b := ls.batch
	ls.batch = nil
	t.emit(transports.Event{Kind: transports.EventMessages, Messages: b, Cursor: ls.cursor})
}

// Transfer vs end (§13.10): after an agent leaves, read our own member a
// little later. Still connected → EventTransfer; gone → the chat ended.
func (ls *loopState) scheduleTransferCheck(agent string) {
	t := ls.t
	if ls.transferTimer != nil {
		ls.transferTimer.Stop()
	}
	ls.transferGen++
	gen := ls.transferGen
	ls.transferTimer = t.clock.AfterFunc(t.set.transferDelay, func() {
		t.mbox.push(item{kind: itemTransferCheck, member: agent, gen: gen})
	})
}

func (ls *loopState) checkTransfer(agent string) {
	t := ls.t
	if t.life.Context().Err() != nil {
		return
	}
	if t.confirmEnded(ls) {
		return
	}
	mem, _ := t.members.get(agent)
	f := t.from(agent, mem, wire.BodyMemberLeave)
	ls.flush()
	t.emit(transports.Event{Kind: transports.EventTransfer, Participant: &f})
}

// Reorder hold (reorderWindow > 0): live events wait this long and leave
// sorted by timestamp, so a swapped delivery is repaired.
func (ls *loopState) holdEvent(ev *wire.Event, at time.Time) {
	ts := eventTime(ev)
	if ts.Before(ls.releasedTS) {
		ls.event(ev) // too late to reorder: deliver rather than lose it
		return
	}
	ls.holdSeq++
	h := held{ev: ev, ts: ts, at: at, seq: ls.holdSeq}
	i := sort.Search(len(ls.hold), func(i int) bool {
		x := ls.hold[i]
		return x.ts.After(ts) || (x.ts.Equal(ts) && x.seq > h.seq)
	})
	ls.hold = append(ls.hold, held{})
	copy(ls.hold[i+1:], ls.hold[i:])
	ls.hold[i] = h
	ls.armHold()
}

func (ls *loopState) armHold() {
	if len(ls.hold) == 0 || ls.holdTimer != nil {
		return
	}
	t := ls.t
	due := ls.hold[0].at.Add(t.set.reorderWindow)
	for _, h := range ls.hold {
		if d := h.at.Add(t.set.reorderWindow); d.Before(due) {
			due = d
		}
	}
	wait := due.Sub(t.clock.Now())
	if wait < 0 {
		wait = 0
	}
	ls.holdTimer = t.clock.AfterFunc(wait, func() { t.mbox.push(item{kind: itemHoldRelease}) })
}

// releaseHold delivers every held event whose window passed and that no
// younger-arrived event precedes; all of them when force.
func (ls *loopState) releaseHold(force bool) {
	ls.holdTimer = nil
	now := ls.t.clock.Now()
	n := 0
	if force {
		n = len(ls.hold)
	} else {
		// Release the longest prefix (timestamp order) in which some event is due:
		// everything up to the last due event leaves together, in order.
		for i, h := range ls.hold {
			if !h.at.Add(ls.t.set.reorderWindow).After(now) {
				n = i + 1
			}
		}
	}
	rel := ls.hold[:n]
	for _, h := range rel {
		if h.ts.After(ls.releasedTS) {
			ls.releasedTS = h.ts
		}
		ls.event(h.ev)
	}
	ls.hold = append(ls.hold[:0], ls.hold[n:]...)
	ls.armHold()
}

func (ls *loopState) flushHold() {
	if ls.holdTimer != nil {
		ls.holdTimer.Stop()
	}
	ls.releaseHold(true)
	if ls.holdTimer != nil {
		ls.holdTimer.Stop()
		ls.holdTimer = nil
	}
}

func eventTime(ev *wire.Event) time.Time {
	switch {
	case ev.Message != nil:
		return ev.Message.Timestamp.Time
	case ev.Typing != nil:
		return ev.Typing.Timestamp.Time
	case ev.MemberChange != nil:
		return ev.MemberChange.Timestamp.Time
	}
	return time.Time{}
}

func (ls *loopState) stopTimers() {
	for _, st := range ls.typing {
		if st.timer != nil {
			st.timer.Stop()
		}
	}
	if ls.holdTimer != nil {
		ls.holdTimer.Stop()
	}
	if ls.transferTimer != nil {
		ls.transferTimer.Stop()
	}
}

// resolve looks a member up (members.go) and, when an agent whose join was
// delivered with an unknown role is now known, reports its join again, this
// time as an Agent (synthetic), so agentConnected is never missed.
func (ls *loopState) resolve(id string) member {
	t := ls.t
	mem := t.resolve(t.life.Context(), id)
	if mem.role != wire.RoleAgent || !mem.joinedUnknown || mem.left {
		return mem
	}
	t.members.update(id, func(m *member) { m.joinedUnknown = false })
	now := t.clock.Now()
	ls.batch = append(ls.batch, transports.Message{
		ID: id + ":joined", Index: now.UnixMilli(), Type: transports.TypeParticipantJoined, Timestamp: now,
		From: t.from(id, mem, wire.BodyMemberJoin), Synthetic: true,
	})
	mem.joinedUnknown = false
	return mem
}
