package gms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

func init() {
	transports.MustRegister(transports.TypeGMS, func(cfg json.RawMessage, opts transports.Options) (transports.Transport, error) {
		return NewFromJSON(cfg, opts)
	})
}

// Session data keys (Widgets getSessionData in GMS modes). secureKey is secret.
const (
	KeySessionID = "sessionID" // the chatId
	KeyUserID    = "userId"
	KeySecureKey = "secureKey"
	KeyAlias     = "alias"
)

// Transport is the GMS Chat V2 client of one chat session, in REST polling
// mode or CometD mode (Config.CometD.Enabled). Create it with New (or
// transports.New("gms", …)). Besides transports.Transport it implements
// Files, Notices, UserDataUpdater, Nicknamer, URLPusher, ReadReceipter and
// History; in REST mode also Poller and Sleeper. Capabilities says which
// are usable.
type Transport struct {
	set   settings
	log   zerolog.Logger
	clock transports.Clock
	opts  transports.Options
	hc    *http.Client
	ev    *emitter

	mu        sync.Mutex
	life      *transports.Lifecycle // its Context ends with the session; guarded by mu
	starting  bool                  // Start or Resume is running
	keys      wire.Keys
	keySeq    uint64 // request sequence of the answer the keys came from
	reqSeq    uint64
	tracker   *transports.IndexTracker
	conn      connState
	async     bool
	pushKeys  map[string]string
	preview   string
	own       ownLog
	idleClose bool // an IdleClose was seen: the end is for inactivity
	// idleAlerted: an IdleAlert came and no activity has reset Chat Server's
	// idle timers since (AutoCancelIdleTimer).
	idleAlerted bool
	endReason   transports.EndReason
	endErr      error
	histFirst   int64 // every index ≥ histFirst was delivered or is being delivered
	histMu      sync.Mutex

	// REST polling.
	poll pollState

	// CometD.
	cm *cometd

	sendMu sync.Mutex

	emitting bool // the emitter goroutine runs
	wg       sync.WaitGroup
	closeMu  sync.Mutex
}

// New returns a transport for cfg. It does not contact the server.
func New(cfg Config, opts transports.Options) (*Transport, error) {
	set, err := cfg.settings(opts.Logger)
	if err != nil {
		return nil, err
	}
	opts = opts.WithDefaults()
	set.sendBackoff.Rand = opts.Rand
	hc := opts.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient
	}
	t := &Transport{
		set:     set,
		log:     opts.Logger,
		clock:   opts.Clock,
		opts:    opts,
		hc:      hc,
		ev:      newEmitter(),
		tracker: transports.NewIndexTracker(transports.Cursor{}),
		conn:    newConnState(set),
		async:   set.async,
		life:    transports.NewLifecycle(),
	}
	t.own.init()
	t.poll.init(set)
	return t, nil
}

// NewFromJSON parses a Widgets `webchat` JSON section and returns a transport.
func NewFromJSON(cfg json.RawMessage, opts transports.Options) (*Transport, error) {
	c, err := ParseConfig(cfg)
	if err != nil {
		return nil, err
	}
	return New(c, opts)
}

// Type returns "gms".
func (t *Transport) Type() string { return transports.TypeGMS }

// Mode returns ModeREST or ModeCometD.
func (t *Transport) Mode() Mode { return t.set.mode }

// Capabilities: REST mode has polling and files; CometD mode has files only
// with cometD.apiURL (without it only FileDownload is reported, so that
// downloadFile reaches the transport and rejects with
// ErrFileDownloadNotConfigured), async and history when the chat is
// asynchronous. Both modes send typing stops, custom notices, user data,
// nicknames, push URLs and read receipts.
func (t *Transport) Capabilities() transports.Capabilities {
	c := transports.Capabilities{
		CustomNotice: true, UpdateUserData: true, TypingStop: true, Nickname: true, PushURL: true, ReadReceipt: true,
	}
	files := t.set.mode == ModeREST || t.set.apiURL != ""
	c.FileUpload, c.FileLimits, c.FileDelete, c.FileDownload = files, files, files, true
	switch t.set.mode {
	case ModeREST:
		c.Polling = true
	case ModeCometD:
		t.mu.Lock()
		async := t.async
		t.mu.Unlock()
		c.Async, c.History, c.Pagination = async, async, async
	}
	return c
}

// Events returns the ordered event stream.
func (t *Transport) Events() <-chan transports.Event { return t.ev.out }

// SessionData returns the current session data (Widgets getSessionData keys:
// sessionID, userId, secureKey, alias; secureKey is secret). State holds the
// mode, the async flag and the push keys.
func (t *Transport) SessionData() transports.SessionData {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sessionDataLocked()
}

type sessionState struct {
	Mode     Mode              `json:"mode"`
	Async    bool              `json:"async,omitempty"`
	PushKeys map[string]string `json:"pushKeys,omitempty"`
}

func (t *Transport) sessionDataLocked() transports.SessionData {
	if t.keys.SecureKey == "" {
		return transports.SessionData{}
	}
	st, _ := json.Marshal(sessionState{Mode: t.set.mode, Async: t.async, PushKeys: t.pushKeys})
	return transports.SessionData{
		Transport: transports.TypeGMS,
		Values: map[string]string{
			KeySessionID: t.keys.ChatID, KeyUserID: t.keys.UserID, KeySecureKey: t.keys.SecureKey, KeyAlias: t.keys.Alias,
		},
		Secret: []string{KeySecureKey},
		State:  st,
	}
}

// Cursor returns the transcript cursor: the last delivered index and the
// server's nextPosition.
func (t *Transport) Cursor() transports.Cursor {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tracker.Cursor()
}

// begin marks Start/Resume as running; it fails unless the transport is new and idle.
func (t *Transport) begin() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.life.Phase != transports.PhaseNew {
		return t.life.PhaseErr()
	}
	if t.starting {
		return transports.ErrAlreadyStarted
	}
	t.starting = true
	return nil
}

// abort undoes begin after a failed Start/Resume: events queued meanwhile
// are dropped and the keys forgotten, so Start may be called again.
func (t *Transport) abort() {
	t.mu.Lock()
	t.starting = false
	if t.life.Phase == transports.PhaseNew {
		t.keys = wire.Keys{}
		t.tracker = transports.NewIndexTracker(transports.Cursor{})
		t.conn = newConnState(t.set)
		t.ev.reset()
	}
	t.mu.Unlock()
}

// activateLocked makes the session active and starts the emitter; t.mu held.
func (t *Transport) activateLocked() {
	t.starting = false
	t.life.Phase = transports.PhaseActive
	if !t.emitting {
		t.emitting = true
		t.wg.Add(1)
		go func() {
			defer t.wg.Done()
			t.ev.run(t.life.Closed())
		}()
	}
}

// emitLocked queues an event (t.mu held or not: the emitter never blocks).
func (t *Transport) emitLocked(ev transports.Event) {
	if ev.Time.IsZero() {
		ev.Time = t.clock.Now()
	}
	t.ev.push(ev)
}

// active reports whether the session is active; t.mu not held.
func (t *Transport) checkActive() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.life.Phase != transports.PhaseActive {
		return t.life.PhaseErr()
	}
	return nil
}

// endLocked ends the session once: EventEnded is the last event and the
// stream closes after it; every goroutine of the session stops. t.mu held.
func (t *Transport) endLocked(r transports.EndReason, err error) bool {
	r, ok := t.life.End(r, err)
	if !ok {
		return false
	}
	now := t.clock.Now()
	t.ev.finish(&transports.Event{Kind: transports.EventEnded, Time: now, Reason: r, Err: err})
	return true
}

// End ends the chat on the server (Widgets endChat): REST POST disconnect;
// CometD publish disconnect, wait (bounded) for the chatEnded notification,
// then disconnect the Bayeux session. The session ends locally even when the
// call fails (the error is returned). EventEnded{EndedByClient} follows and
// the event stream closes.
func (t *Transport) End(ctx context.Context) error {
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return err
	}
	t.life.Ending = true
	t.mu.Unlock()
	t.poll.stopAll(t)
	var err error
	if t.set.mode == ModeCometD {
		err = t.endCometD(ctx)
	} else {
		err = t.endREST(ctx)
	}
	t.mu.Lock()
	t.endLocked(transports.EndedByClient, err)
	t.mu.Unlock()
	return err
}

// Close stops every goroutine, timer and connection without ending the chat
// on the server, so a later Resume can continue it. Idempotent. The event
// stream closes.
func (t *Transport) Close() error {
	t.closeMu.Lock()
	defer t.closeMu.Unlock()
	t.mu.Lock()
	if !t.life.Close() {
		t.mu.Unlock()
		t.wg.Wait()
		return nil
	}
	emitting := t.emitting
	t.emitting = true
	cm := t.cm
	t.mu.Unlock()
	if cm != nil {
		cm.shutdown()
	}
	t.wg.Wait()
	if !emitting {
		close(t.ev.out)
	}
	return nil
}

// waitUp blocks until the link is up (the session is active, connected and
// the Chat Server online), ctx is done, or the session is over.
func (t *Transport) waitUp(ctx context.Context) error {
	for {
		t.mu.Lock()
		if t.life.Phase != transports.PhaseActive {
			err := t.life.PhaseErr()
			t.mu.Unlock()
			return err
		}
		if t.conn.up() {
			t.mu.Unlock()
			return nil
		}
		w := t.conn.upWait
		t.mu.Unlock()
		select {
		case <-w:
		case <-t.life.Done():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sleep waits d on the transport's clock, or until ctx or the session ends.
func (t *Transport) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := t.clock.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.life.Done():
		t.mu.Lock()
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return err
	}
}

// sessionEndedErr wraps err as the end of the session.
func sessionEndedErr(err error) error {
	if err == nil {
		return transports.ErrSessionEnded
	}
	if errors.Is(err, transports.ErrSessionEnded) {
		return err
	}
	return fmt.Errorf("%w: %w", transports.ErrSessionEnded, err)
}

// ownLog remembers the client's own Message events (index and text) so a
// send whose outcome was unknown can be found in the transcript, and which
// of them a Send already returned (claimed).
type ownLog struct {
	items   []ownMsg
	claimed *transports.Seen
}

type ownMsg struct {
	index int64
	text  string
	at    time.Time
}

const ownLogCap = 512

func (o *ownLog) init() { o.claimed = transports.NewSeen(ownLogCap) }

func (o *ownLog) add(index int64, text string, at time.Time) {
	if len(o.items) == ownLogCap {
		copy(o.items, o.items[1:])
		o.items = o.items[:ownLogCap-1]
	}
	o.items = append(o.items, ownMsg{index: index, text: text, at: at})
}

// find returns the first unclaimed own message with text after index since.
func (o *ownLog) find(since int64, text string) (int64, time.Time, bool) {
	for _, m := range o.items {
		if m.index > since && m.text == text && !o.claimed.Has(idxKey(m.index)) {
			return m.index, m.at, true
		}
	}
	return 0, time.Time{}, false
}

func (o *ownLog) claim(index int64) { o.claimed.Add(idxKey(index)) }

func idxKey(i int64) string { return strconv.FormatInt(i, 10) }

// chatPrefixLocked is the prefix of message ids: the chatId, or the userId
// when a CometD server sent only "deprecated" ids. t.mu held.
func (t *Transport) chatPrefixLocked() string {
	if t.keys.ChatID != "" {
		return t.keys.ChatID
	}
	return t.keys.UserID
}
