package gms

import (
	"context"
	"sort"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// FetchHistory returns the next older page of an asynchronous CometD chat
// (async.maxMessagePageSize events before the oldest one delivered so far),
// oldest first, using requestNotifications with transcriptPosition
// (gms-chat-v2.md §7). These events are older than the cursor: they bypass
// the dedupe rule and are not put on the event stream. It fails with
// transports.ErrHistoryAsyncOnly for other chats and
// transports.ErrNoMoreMessages once the transcript's start was reached.
func (t *Transport) FetchHistory(ctx context.Context) (transports.HistoryPage, error) {
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		if err == transports.ErrNotStarted {
			err = transports.ErrHistoryAsyncOnly
		}
		return transports.HistoryPage{}, err
	}
	async := t.async
	t.mu.Unlock()
	if t.set.mode != ModeCometD || !async {
		return transports.HistoryPage{}, transports.ErrHistoryAsyncOnly
	}
	t.histMu.Lock()
	defer t.histMu.Unlock()
	t.mu.Lock()
	before := t.histFirst
	if before == 0 {
		before = t.tracker.LastIndex() + 1
	}
	t.mu.Unlock()
	if before <= 1 {
		return transports.HistoryPage{}, transports.ErrNoMoreMessages
	}
	pos := before - int64(t.set.pageSize)
	if pos < 1 {
		pos = 1
	}
	if err := t.waitUp(ctx); err != nil {
		return transports.HistoryPage{}, err
	}
	a, err := t.cometdCall(ctx, &wire.Request{Operation: wire.OpRequestNotifications, TranscriptPosition: int(pos)}, matchHistory(before))
	if err != nil {
		return transports.HistoryPage{}, err
	}
	t.mu.Lock()
	prefix := t.chatPrefixLocked()
	var msgs []transports.Message
	for i := range a.resp.Messages {
		e := &a.resp.Messages[i]
		if idx := int64(e.Index); idx >= pos && idx < before {
			msgs = append(msgs, normalize(prefix, e, a.rawAt(i)))
		}
	}
	if pos < t.histFirst || t.histFirst == 0 {
		t.histFirst = pos
	}
	t.mu.Unlock()
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].Index < msgs[j].Index })
	return transports.HistoryPage{Messages: msgs, More: pos > 1, Answer: a.body}, nil
}
