package natsbridge

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Retry timing of events the stream did not acknowledge.
const (
	streamRetryFirst = 250 * time.Millisecond
	streamRetryMax   = 5 * time.Second
)

// StreamStats counts what the bridge stored in its event stream since it started.
type StreamStats struct {
	// Stored events were acknowledged by the stream (duplicates it dropped included).
	Stored int64 `json:"stored"`
	// Retried counts publishes sent again after a failed or missing acknowledgement.
	Retried int64 `json:"retried"`
	// Pending events await an acknowledgement or a retry.
	Pending int64 `json:"pending"`
	// Lost events were given up after retrying for half the stream's duplicates window (so a
	// late retry could never be stored twice), or because the bridge closed first. Each is
	// logged with its Nats-Msg-Id.
	Lost int64 `json:"lost"`
}

// streamWriter stores events in the event stream through JetStream. Live subscribers get
// each event once, by a core publish on <prefix>.<session>.evt.…; the stream's copy goes to
// <prefix>.stored.<session>.evt.…, which the stream maps back to the live subject. Every
// stored copy is acknowledged; one that is not (no stream leader during an election, a
// timeout, a reconnect) is published again with the same Nats-Msg-Id, so the stream holds it
// exactly once and live subscribers never see a repeat.
type streamWriter struct {
	b        *Bridge
	js       jetstream.JetStream
	giveUp   time.Duration // retry for this long after the first failure
	retryMax time.Duration

	mu       sync.Mutex
	failures map[string]streamFailure // by Nats-Msg-Id: events that failed at least once
	timers   map[*time.Timer]struct{}
	closed   bool

	stored, retried, lost atomic.Int64
}

type streamFailure struct {
	first    time.Time
	attempts int
}

func newStreamWriter(b *Bridge, es EventStream) (*streamWriter, error) {
	w := &streamWriter{b: b, failures: map[string]streamFailure{}, timers: map[*time.Timer]struct{}{}, retryMax: streamRetryMax}
	window := es.Duplicates
	if window <= 0 {
		window = DefaultStreamDuplicates
	}
	w.giveUp = window / 2
	js, err := jetstream.New(b.opts.Conn,
		jetstream.WithPublishAsyncErrHandler(w.failed),
		jetstream.WithPublishAsyncAckHandler(w.acked),
		jetstream.WithPublishAsyncTimeout(5*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: jetstream: %w", err)
	}
	w.js = js
	return w, nil
}

// publish sends one event to the stream; data is copied (the caller reuses its buffer).
func (w *streamWriter) publish(subject string, data []byte, msgID string) {
	m := &nats.Msg{Subject: subject, Data: append([]byte(nil), data...), Header: nats.Header{nats.MsgIdHdr: []string{msgID}}}
	w.send(m)
}

func (w *streamWriter) send(m *nats.Msg) {
	// No retries inside nats.go: every failure comes to failed, which paces the retries.
	if _, err := w.js.PublishMsgAsync(m, jetstream.WithRetryAttempts(0)); err != nil {
		w.failed(w.js, m, err)
	}
}

func (w *streamWriter) acked(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
	w.stored.Add(1)
	id := m.Header.Get(nats.MsgIdHdr)
	w.mu.Lock()
	delete(w.failures, id)
	w.mu.Unlock()
}

// failed schedules the next try of m, or gives it up.
func (w *streamWriter) failed(_ jetstream.JetStream, m *nats.Msg, err error) {
	id := m.Header.Get(nats.MsgIdHdr)
	now := time.Now()
	w.mu.Lock()
	f, seen := w.failures[id]
	if !seen {
		f.first = now
	}
	f.attempts++
	if w.closed || now.Sub(f.first) >= w.giveUp {
		delete(w.failures, id)
		closed := w.closed
		w.mu.Unlock()
		w.lost.Add(1)
		w.b.log.Error().Err(err).Str("subject", m.Subject).Str("msg_id", id).Int("attempts", f.attempts).Bool("closing", closed).
			Msg("natsbridge: event not stored in the event stream")
		return
	}
	w.failures[id] = f
	delay := min(streamRetryFirst<<min(f.attempts-1, 10), w.retryMax)
	retry := &nats.Msg{Subject: m.Subject, Data: m.Data, Header: m.Header} // a published Msg carries its reply inbox
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		w.mu.Lock()
		_, live := w.timers[t]
		delete(w.timers, t)
		w.mu.Unlock()
		if !live {
			return
		}
		w.retried.Add(1)
		w.send(retry)
	})
	w.timers[t] = struct{}{}
	w.mu.Unlock()
	if !seen {
		w.b.log.Warn().Err(err).Str("subject", m.Subject).Str("msg_id", id).Msg("natsbridge: event stream did not acknowledge an event; retrying")
	}
}

func (w *streamWriter) stats() StreamStats {
	w.mu.Lock()
	pending := int64(len(w.timers)) // waiting for their retry; those in flight are counted by js
	w.mu.Unlock()
	return StreamStats{Stored: w.stored.Load(), Retried: w.retried.Load(), Lost: w.lost.Load(),
		Pending: pending + int64(w.js.PublishAsyncPending())}
}

// flush waits until every event is acknowledged or given up, or ctx ends.
func (w *streamWriter) flush(ctx context.Context) error {
	for {
		w.mu.Lock()
		waiting := len(w.failures)
		w.mu.Unlock()
		if waiting == 0 {
			select {
			case <-w.js.PublishAsyncComplete():
				w.mu.Lock()
				waiting = len(w.failures)
				w.mu.Unlock()
				if waiting == 0 {
					return nil
				}
			case <-ctx.Done():
				return fmt.Errorf("natsbridge: event stream: %d events unacknowledged: %w", w.js.PublishAsyncPending(), ctx.Err())
			}
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("natsbridge: event stream: %d events awaiting a retry: %w", waiting, ctx.Err())
		}
	}
}

// close stops the retries; what is still unacknowledged counts as lost.
func (w *streamWriter) close() {
	w.mu.Lock()
	w.closed = true
	n := len(w.failures)
	for t := range w.timers {
		t.Stop()
	}
	w.timers = map[*time.Timer]struct{}{}
	w.failures = map[string]streamFailure{}
	w.mu.Unlock()
	if n > 0 {
		w.lost.Add(int64(n))
		w.b.log.Error().Int("events", n).Msg("natsbridge: closed with events not stored in the event stream")
	}
}
