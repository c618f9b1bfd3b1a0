package gms

import (
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// answerInfo says where an answer came from.
type answerInfo struct {
	op wire.Operation
	// seq is the request sequence (REST, where answers of concurrent
	// requests may be applied out of order): keys are taken only from an
	// answer at least as recent as the one they came from. 0 = always
	// (CometD notifications arrive in order).
	seq uint64
	// suffix: the answer carries the transcript from our cursor, so its
	// nextPosition may move the cursor (refresh, send and typing with
	// transcriptPosition; requestChat; requestNotifications).
	suffix bool
	// status is the HTTP status (REST), 0 for CometD.
	status int
}

// applyLocked applies one answer or notification (t.mu held): the
// connectivity state, the session keys (§2: every present, non-empty,
// non-"deprecated" key; statusCode 1 answers update nothing), the
// transcript events (deduplicated by index, §7), the cursor, and
// chatEnded (the session ends exactly once).
func (t *Transport) applyLocked(a *answer, in answerInfo) {
	if t.life.Phase != transports.PhaseActive && !(t.life.Phase == transports.PhaseNew && t.starting) {
		return
	}
	r := a.resp
	t.conn.answer(t, int(r.StatusCode))
	if r.StatusCode == wire.StatusRetry {
		return
	}
	if in.seq == 0 || in.seq >= t.keySeq {
		if in.seq > 0 {
			t.keySeq = in.seq
		}
		if t.keys.Apply(r) && t.life.Phase == transports.PhaseActive {
			sd := t.sessionDataLocked()
			t.emitLocked(transports.Event{Kind: transports.EventSessionData, SessionData: &sd})
			t.log.Debug().Str("alias", t.keys.Alias).Msg("gms: session keys changed")
		}
	}
	t.deliverLocked(a, in.suffix && r.StatusCode == wire.StatusOK)
	if r.ChatEnded && t.life.Phase == transports.PhaseActive {
		reason, err := transports.EndedByServer, error(nil)
		switch {
		case r.StatusCode == wire.StatusFailed:
			reason, err = transports.EndedSessionLost, apiError(in.op, in.status, a)
		case t.idleClose:
			reason = transports.EndedIdle
		}
		t.endLocked(reason, err)
	}
}

// deliverLocked emits the new events of a (index above the last processed),
// in order. Typing, idle alert and idle close events split the batch so the
// typed event follows its transcript copy. When next is set, the answer's
// nextPosition moves the cursor after the last event (§7: cursor =
// max(nextPosition, lastIndex+1)).
func (t *Transport) deliverLocked(a *answer, next bool) {
	r := a.resp
	var batch []transports.Message
	flush := func() {
		if len(batch) > 0 {
			t.emitLocked(transports.Event{Kind: transports.EventMessages, Messages: batch, Cursor: t.tracker.Cursor()})
			batch = nil
		}
	}
	for i := range r.Messages {
		e := &r.Messages[i]
		if e.Index <= 0 {
			continue // an operation result (the file-limits Notice), not a transcript event
		}
		if !t.tracker.Accept(int64(e.Index)) {
			continue
		}
		t.noteDeliveredLocked(int64(e.Index))
		m := normalize(t.chatPrefixLocked(), e, a.rawAt(i))
		if e.Type == wire.EventMessage && m.From.Type == transports.ParticipantClient {
			t.own.add(m.Index, e.Text, m.Timestamp)
		}
		switch e.Type {
		case wire.EventMessage, wire.EventParticipantJoined, wire.EventParticipantLeft:
			t.idleAlerted = false // these always reset Chat Server's idle timers
		case wire.EventCustomNotice:
			if p, _ := e.EventAttributes["purpose"].(string); p == "cancel-idle-timer" {
				t.idleAlerted = false
			}
		}
		batch = append(batch, m)
		if st, ok := typingState(e); ok && m.From.Type != transports.ParticipantClient {
			flush()
			t.emitLocked(transports.Event{Kind: transports.EventTyping, Typing: &transports.Typing{From: m.From, State: st, Preview: e.Text}})
			continue
		}
		switch e.Type {
		case wire.EventIdleAlert:
			flush()
			t.idleAlerted = true
			secs, _ := e.IdleSecondsLeft()
			t.emitLocked(transports.Event{Kind: transports.EventIdleAlert, IdleSecondsLeft: secs})
		case wire.EventIdleClose:
			flush()
			t.idleClose = true
			t.emitLocked(transports.Event{Kind: transports.EventIdleClose})
		}
	}
	if next {
		t.tracker.SetNext(int64(r.NextPosition))
	}
	flush()
}

// noteDeliveredLocked keeps histFirst (the oldest index this transport
// delivered) for fetchHistory.
func (t *Transport) noteDeliveredLocked(index int64) {
	if t.histFirst == 0 || index < t.histFirst {
		t.histFirst = index
	}
}
