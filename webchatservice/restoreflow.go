package webchatservice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/preprocessor"
	"github.com/cxbus/webchat/restore"
	"github.com/cxbus/webchat/transports"
)

// Restore failure reasons (restoreFailed payload).
const (
	RestoreFailedEnded   = "ended"
	RestoreFailedNetwork = "network"
	RestoreFailedServer  = "server"
)

// selfRestore issues the restore command as WebChatService itself, as Widgets does at start
// when the session store holds a session. A missing snapshot is the normal case and quiet.
func (s *Service) selfRestore() {
	res := s.plugin.CommandAsync(context.Background(), CmdRestore, nil)
	res.Catch(func(err error) (any, error) {
		if !errors.Is(err, ErrNoSessionToRestore) {
			s.log.Info().Err(err).Msg("webchatservice: restore at start failed")
		}
		return nil, nil
	})
}

func (s *Service) cmdRestore(ctx context.Context, c *bus.Call) (any, error) {
	o, err := bus.DecodeOptions[RestoreOptions](c.Options)
	if err != nil {
		return nil, err
	}
	async := s.set.async || o.Async != nil && o.Async.Enabled
	if !async && c.Commander != PluginName {
		return nil, ErrRestoreAccessDenied
	}
	if async && s.set.mode != ModeCometD {
		return nil, ErrAsyncOnlyCometD
	}
	if s.restoring {
		return nil, ErrAlreadyRestoring
	}
	if s.state != stateIdle {
		return nil, ErrRestoreWhileActive
	}
	var given *transports.SessionData
	if o.SessionData != nil {
		sd, err := s.sessionDataFrom(o.SessionData)
		if err != nil {
			return nil, err
		}
		given = &sd
	}
	if given == nil && s.persist == nil {
		return nil, ErrNoSessionToRestore
	}
	s.restoring = true
	d := c.Defer()
	if given != nil {
		s.resume(d, &restore.Snapshot{Async: true}, *given)
		return nil, nil
	}
	store, id, now, window := s.persist.store, s.persist.id, s.clock.Now(), s.set.restoreTimeout
	var snap *restore.Snapshot
	s.goIO(func() {
		snap, err = restore.LoadFresh(d.Context(), store, id, now, window)
	}, func() {
		switch {
		case errors.Is(err, restore.ErrExpired):
			s.publish(EventRestoreTimeout, nil, false)
			s.restoreDone(d, withCause(ErrNoSessionToRestore, err))
		case errors.Is(err, restore.ErrNotFound):
			s.restoreDone(d, ErrNoSessionToRestore)
		case err != nil:
			s.publish(EventRestoreFailed, RestoreFailed{Reason: RestoreFailedServer, Error: err.Error()}, false)
			s.restoreDone(d, err)
		default:
			s.persist.setRevision(snap.Revision)
			var sd transports.SessionData
			if uerr := json.Unmarshal(snap.SessionData, &sd); uerr != nil {
				s.restoreDone(d, fmt.Errorf("webchatservice: stored session data unreadable: %w", uerr))
				return
			}
			s.resume(d, snap, sd)
		}
	})
	return nil, nil
}

// resume replays the stored transcript and reattaches the transport from the cursor.
func (s *Service) resume(d bus.Deferred, snap *restore.Snapshot, sd transports.SessionData) {
	if err := s.applySnapshot(snap); err != nil {
		s.restoreDone(d, fmt.Errorf("webchatservice: stored session unreadable: %w", err))
		return
	}
	s.sd = sd
	if len(s.transcript) > 0 {
		for i := range s.transcript {
			s.transcript[i].processed = s.preprocess(s.transcript[i].original)
		}
		s.publishBatch(s.transcript, true, false)
	}
	tr, err := s.newTransport()
	if err != nil {
		s.restoreDone(d, err)
		return
	}
	s.state = stateRestoring
	s.restoredOffline = false
	gen, cur, pump := s.gen, s.cursor, s.pump
	s.goTransport(pump, func() { err = tr.Resume(d.Context(), sd, cur) }, func() {
		if gen != s.gen {
			s.restoreDone(d, ErrClosed)
			return
		}
		if err != nil {
			s.resumeFailed(d, err)
			return
		}
		s.state = stateActive
		s.connected = true
		s.lastContact = s.clock.Now()
		s.setData(DataSessionActive, true)
		s.setData(DataSessionData, s.sessionDataPublic())
		if s.restoredOffline {
			s.publish(EventRestoredOffline, nil, false)
		} else {
			s.publish(EventRestored, Restored{Async: s.async}, false)
		}
		s.publishCapabilities()
		if s.caps.Polling {
			s.polling = true
			s.publish(EventPollingStarted, nil, false)
		}
		s.restoreDone(d, nil)
		held := s.heldEvents
		s.heldEvents = nil
		for _, ev := range held {
			s.onTransportEvent(gen, ev)
		}
		s.persistSoon()
		s.armKeepAlive()
		s.kickOutbox()
	})
}

func (s *Service) resumeFailed(d bus.Deferred, err error) {
	s.dropTransport()
	s.state = stateIdle
	s.heldEvents = nil
	switch {
	case errors.Is(err, transports.ErrSessionEnded):
		s.publish(EventRestoreFailed, RestoreFailed{Reason: RestoreFailedEnded, Error: err.Error()}, false)
		s.deleteSnapshot()
		s.rejectOutbox(ErrNoActiveChat)
		if s.set.mode == ModePureCloud {
			err = withCause(ErrCustomerDisconnected, err)
		} else {
			err = withCause(ErrNoSessionToRestore, err)
		}
	case transports.IsTemporary(err) || errors.Is(err, context.DeadlineExceeded):
		s.publish(EventRestoreFailed, RestoreFailed{Reason: RestoreFailedNetwork, Error: err.Error()}, false)
		if s.set.mode == ModePureCloud { // P: the state is unreadable whatever the cause (§3.13)
			err = withCause(ErrConversationState, err)
		}
	default:
		s.publish(EventRestoreFailed, RestoreFailed{Reason: RestoreFailedServer, Error: err.Error()}, false)
		if s.set.mode == ModePureCloud {
			err = withCause(ErrConversationState, err)
		}
	}
	// The queued messages of a failed restore stay in the snapshot for a later attempt.
	s.outbox = nil
	s.restoreDone(d, err)
}

// restoreDone settles the restore call and every verifySession that waited for it.
func (s *Service) restoreDone(d bus.Deferred, err error) {
	s.restoring = false
	if err != nil {
		d.Reject(err)
	} else {
		d.Resolve(nil)
	}
	waiters := s.restoreWait
	s.restoreWait = nil
	for _, w := range waiters {
		w.Resolve(VerifySessionResult{SessionActive: s.state == stateActive})
	}
	after := s.afterRestore
	s.afterRestore = nil
	for _, fn := range after {
		fn()
	}
}

// sessionDataFrom builds transport session data from restore's sessionData option (an object
// or JSON object text with the getSessionData keys).
func (s *Service) sessionDataFrom(v any) (transports.SessionData, error) {
	m, err := parseUserData(v)
	if err != nil || len(m) == 0 {
		return transports.SessionData{}, fmt.Errorf("%w: restore: sessionData must be an object of session keys", bus.ErrInvalidOptions)
	}
	sd := transports.SessionData{Transport: s.set.transportType, Values: map[string]string{}}
	for k, val := range m {
		switch x := val.(type) {
		case string:
			sd.Values[k] = x
		case json.Number:
			sd.Values[k] = x.String()
		case float64:
			sd.Values[k] = fmt.Sprintf("%.0f", x)
		default:
			b, _ := json.Marshal(x)
			sd.Values[k] = string(b)
		}
		for _, secret := range transports.SecretKeys {
			if secret == k {
				sd.Secret = append(sd.Secret, k)
			}
		}
	}
	return sd, nil
}

// causeError has the exact text of a contract rejection and also wraps the cause.
type causeError struct {
	sentinel, cause error
}

func withCause(sentinel, cause error) error { return &causeError{sentinel, cause} }

func (e *causeError) Error() string   { return e.sentinel.Error() }
func (e *causeError) Unwrap() []error { return []error{e.sentinel, e.cause} }

// asPreprocessor accepts the preprocessor shapes registerPreProcessor takes.
func asPreprocessor(v any) (preprocessor.Func, bool) {
	switch f := v.(type) {
	case preprocessor.Func:
		return f, f != nil
	case func(context.Context, *Message) (*Message, error):
		return f, f != nil
	case func(*Message) *Message:
		if f == nil {
			return nil, false
		}
		return func(_ context.Context, m *Message) (*Message, error) { return f(m), nil }, true
	}
	return nil, false
}
