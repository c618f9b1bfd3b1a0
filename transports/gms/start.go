//lint:file-ignore ST1005 the rejection strings are the exact Genesys Widgets texts (capitalized, with a period)

package gms

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// ErrAsyncOnlyCometD is the rejection of an asynchronous chat in REST mode
// (the exact Widgets string).
var ErrAsyncOnlyCometD = fmt.Errorf("%w: Invalid configuration. WebChatService supports Async chat only in CometD mode.", transports.ErrInvalidConfig)

// AsyncModeKey is the userData key that starts an asynchronous chat.
const AsyncModeKey = "GCTI_Chat_AsyncMode"

// pushKeyPrefix prefixes the push notification keys of userData (§12),
// re-sent identically with every requestNotifications.
const pushKeyPrefix = "push_notification_"

// Start requests a chat (Request Chat in REST mode; handshake + requestChat
// in CometD mode) and returns once GMS answered with the session keys. The
// answer's events (the client's ParticipantJoined) follow EventConnected on
// the stream. REST mode then polls. userData is the configured userData
// merged under req.UserData (non-string values JSON-encoded); an
// asynchronous chat adds GCTI_Chat_AsyncMode "true".
func (t *Transport) Start(ctx context.Context, req transports.StartRequest) (transports.SessionData, error) {
	if err := t.begin(); err != nil {
		return transports.SessionData{}, err
	}
	async := t.set.async || req.Async
	if async && t.set.mode != ModeCometD {
		t.abort()
		return transports.SessionData{}, ErrAsyncOnlyCometD
	}
	ud := flatten(t.set.cfg.UserData, req.UserData)
	if async {
		if ud == nil {
			ud = map[string]string{}
		}
		ud[AsyncModeKey] = "true"
	}
	wr := &wire.Request{
		Operation: wire.OpRequestChat, Nickname: strings.TrimSpace(req.Nickname),
		FirstName: strings.TrimSpace(req.FirstName), LastName: strings.TrimSpace(req.LastName),
		Subject: req.Subject, EmailAddress: strings.TrimSpace(req.Email), Endpoint: t.set.cfg.Endpoint, UserData: ud,
	}
	t.mu.Lock()
	t.async = async
	t.pushKeys = pushKeysOf(ud)
	t.emitLocked(transports.Event{Kind: transports.EventConnected})
	t.mu.Unlock()

	var a *answer
	var err error
	if t.set.mode == ModeCometD {
		a, err = t.startCometD(ctx, wr)
	} else {
		a, err = t.startREST(ctx, wr)
	}
	if err != nil {
		t.abort()
		return transports.SessionData{}, err
	}
	t.mu.Lock()
	if t.life.Phase != transports.PhaseNew {
		err := t.life.PhaseErr()
		t.starting = false
		t.mu.Unlock()
		return transports.SessionData{}, err
	}
	t.activateLocked()
	t.afterActivateLocked()
	sd := t.sessionDataLocked()
	t.mu.Unlock()
	sd.Answer = a.body
	t.ev.flush(ctx, t.life.Closed()) // the answer's events are on the stream before Start returns
	return sd, nil
}

// Resume reattaches to a saved session (REST: refresh from the cursor;
// CometD: handshake + requestNotifications from the cursor) and backfills
// everything after the cursor. It fails with an error wrapping
// transports.ErrSessionEnded when GMS says the chat is over or no longer
// knows it; a statusCode 1 answer keeps the session and reports
// EventServerOffline (Widgets' restoredOffline).
func (t *Transport) Resume(ctx context.Context, sd transports.SessionData, cur transports.Cursor) error {
	if err := t.begin(); err != nil {
		return err
	}
	if sd.Transport != "" && sd.Transport != transports.TypeGMS {
		t.abort()
		return fmt.Errorf("%w: session data of transport %q", transports.ErrInvalidConfig, sd.Transport)
	}
	keys := wire.Keys{ChatID: sd.Get(KeySessionID), UserID: sd.Get(KeyUserID), SecureKey: sd.Get(KeySecureKey), Alias: sd.Get(KeyAlias)}
	if keys.ChatID == "" {
		keys.ChatID = sd.Get("chatId")
	}
	if keys.SecureKey == "" || (keys.ChatID == "" && t.set.mode == ModeREST) {
		t.abort()
		return fmt.Errorf("%w: session data needs %s and %s", transports.ErrInvalidConfig, KeySessionID, KeySecureKey)
	}
	var st sessionState
	if len(sd.State) > 0 {
		_ = json.Unmarshal(sd.State, &st) // opaque and optional: a bad state only loses the flags
	}
	t.mu.Lock()
	t.keys = keys
	t.tracker = transports.NewIndexTracker(cur)
	t.async = t.set.async || st.Async
	t.pushKeys = st.PushKeys
	if t.async && t.set.mode != ModeCometD {
		t.mu.Unlock()
		t.abort()
		return ErrAsyncOnlyCometD
	}
	t.emitLocked(transports.Event{Kind: transports.EventConnected})
	t.mu.Unlock()

	var err error
	if t.set.mode == ModeCometD {
		err = t.resumeCometD(ctx, cur)
	} else {
		err = t.resumeREST(ctx)
	}
	if err != nil {
		t.abort()
		return err
	}
	t.mu.Lock()
	if t.life.Phase != transports.PhaseNew {
		err := t.life.PhaseErr()
		t.starting = false
		t.mu.Unlock()
		return err
	}
	t.activateLocked()
	t.afterActivateLocked()
	t.mu.Unlock()
	t.ev.flush(ctx, t.life.Closed()) // e.g. EventServerOffline of a statusCode 1 answer comes before the result
	return nil
}

// afterActivateLocked starts the mode's background work; t.mu held.
func (t *Transport) afterActivateLocked() {
	switch t.set.mode {
	case ModeREST:
		t.startPollingLocked()
	case ModeCometD:
		t.cm.linkBack = true
		for _, ev := range t.cm.startEvents {
			t.cm.stateLocked(ev)
		}
		t.cm.startEvents = nil
		t.wg.Add(1)
		go t.cm.run()
		if t.conn.offline || t.conn.needResync {
			t.cm.poke()
		}
	}
}

// pushKeysOf returns the push_notification_* keys of ud (nil when none).
func pushKeysOf(ud map[string]string) map[string]string {
	var out map[string]string
	for k, v := range ud {
		if strings.HasPrefix(k, pushKeyPrefix) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}
