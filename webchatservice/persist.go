package webchatservice

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/cxbus/webchat/restore"
	"github.com/cxbus/webchat/transports"
)

// Store persists session snapshots (restore.NewMemoryStore, restore.NewFileStore, a NATS KV
// store, optionally wrapped with restore.Encrypt).
type Store = restore.Store

// persistSoon marks the session state dirty; one snapshot is built after the mailbox items
// already queued (so a burst of messages costs one snapshot) and saved in the background.
func (s *Service) persistSoon() {
	if s.persist == nil || s.dirty {
		return
	}
	if s.state != stateActive && s.state != stateStarting && !s.restoring {
		return
	}
	s.dirty = true
	s.plugin.Post(func() {
		s.dirty = false
		if s.closed || s.state == stateIdle && !s.restoring {
			return
		}
		s.persist.save(s.snapshot())
	})
}

// snapshot captures the session (mailbox-owned state) for the store.
func (s *Service) snapshot() *restore.Snapshot {
	sd, _ := json.Marshal(s.sd)
	cur, _ := json.Marshal(s.cursor)
	snap := &restore.Snapshot{
		SessionID:     s.opts.SessionID,
		TransportType: s.set.transportType,
		Mode:          string(s.set.mode),
		Async:         s.async,
		SessionData:   sd,
		Cursor:        cur,
		LastContact:   s.lastContact,
		Prefilters:    s.filters.Patterns(),
		UserData:      s.copyUserData(),
		Transcript:    make([]json.RawMessage, len(s.transcript)),
		Agents:        make(map[string]restore.Agent, len(s.agents)),
		SavedAt:       s.clock.Now(),
	}
	if s.connected {
		// The transport is attached and watching its connection (heartbeats): that is contact.
		snap.LastContact = snap.SavedAt
	}
	if s.sleeping {
		snap.Flags = map[string]bool{"sleeping": true}
	}
	for i := range s.transcript {
		snap.Transcript[i] = s.transcript[i].encoded()
	}
	for id, a := range s.agents {
		typ := string(transports.ParticipantAgent)
		switch {
		case a.Supervisor:
			typ = string(transports.ParticipantSupervisor)
		case a.Bot:
			typ = string(transports.ParticipantBot)
		}
		snap.Agents[id] = restore.Agent{Name: a.Name, Type: typ, Connected: a.Connected, Supervisor: a.Supervisor, ConnectedTime: a.ConnectedTime, DisconnectedTime: a.DisconnectedTime}
	}
	if n := len(s.transcript); n > 0 {
		snap.Stats = restore.Stats{StartTime: s.transcript[0].original.Timestamp.UnixMilli(), EndTime: s.transcript[n-1].original.Timestamp.UnixMilli()}
	}
	for i, o := range s.outbox {
		out := restore.Outgoing{ID: strconv.Itoa(i), Type: o.out.Type, Message: o.out.Text, ParentMessageID: o.out.ParentMessageID}
		if o.inFlight || o.out.Since != nil {
			// An attempt may have reached the server: after a restart, resend with Since so the
			// transport checks the transcript first.
			since := s.cursor
			if o.out.Since != nil {
				since = *o.out.Since
			}
			out.Attempts = 1
			out.Extra, _ = json.Marshal(since)
		}
		snap.Outbox = append(snap.Outbox, out)
	}
	return snap
}

// encoded is the entry's stored form (computed once).
func (e *entry) encoded() json.RawMessage {
	if e.enc == nil {
		e.enc, _ = json.Marshal(e.original)
	}
	return e.enc
}

// applySnapshot loads a stored session into the service (restore step 3's state).
func (s *Service) applySnapshot(snap *restore.Snapshot) error {
	var sd transports.SessionData
	if len(snap.SessionData) > 0 {
		if err := json.Unmarshal(snap.SessionData, &sd); err != nil {
			return err
		}
	}
	var cur transports.Cursor
	if len(snap.Cursor) > 0 {
		if err := json.Unmarshal(snap.Cursor, &cur); err != nil {
			return err
		}
	}
	s.resetSession()
	s.sd, s.cursor, s.async, s.lastContact = sd, cur, snap.Async, snap.LastContact
	for k, v := range snap.UserData {
		s.userData[k] = v
	}
	s.filters.Clear()
	if _, err := s.filters.AddPatterns(snap.Prefilters...); err != nil {
		s.log.Warn().Err(err).Msg("webchatservice: a stored prefilter no longer parses; skipped")
	}
	for _, raw := range snap.Transcript {
		var m Message
		if err := json.Unmarshal(raw, &m); err != nil {
			s.log.Warn().Err(err).Msg("webchatservice: unreadable stored message skipped")
			continue
		}
		s.transcript = append(s.transcript, entry{original: m, enc: raw})
	}
	for id, a := range snap.Agents {
		s.agents[id] = &Agent{Name: a.Name, Connected: a.Connected, Supervisor: a.Supervisor, Bot: a.Type == string(transports.ParticipantBot), ConnectedTime: a.ConnectedTime, DisconnectedTime: a.DisconnectedTime}
	}
	s.clientOnline = true
	for _, o := range snap.Outbox {
		out := transports.Outgoing{Text: o.Message, Type: o.Type, ParentMessageID: o.ParentMessageID}
		if len(o.Extra) > 0 {
			var since transports.Cursor
			if json.Unmarshal(o.Extra, &since) == nil {
				out.Since = &since
			}
		}
		s.outbox = append(s.outbox, &outgoing{out: out})
	}
	return nil
}

// armKeepAlive re-saves the snapshot every restoreTimeout/4 while the session is active, so a
// quiet chat's LastContact stays fresh and a restore after a crash stays within the window.
func (s *Service) armKeepAlive() {
	if s.persist == nil {
		return
	}
	if s.keepAlive != nil {
		s.keepAlive.Stop()
	}
	s.keepAlive = s.clock.AfterFunc(s.set.restoreTimeout/4, func() {
		s.plugin.Post(func() {
			if s.state == stateActive && !s.closed {
				s.persistSoon()
				s.armKeepAlive()
			}
		})
	})
}

func (s *Service) stopKeepAlive() {
	if s.keepAlive != nil {
		s.keepAlive.Stop()
		s.keepAlive = nil
	}
}

func (s *Service) deleteSnapshot() {
	if s.persist != nil {
		s.persist.delete()
	}
}

// persister writes snapshots in the background, latest wins, one write at a time, with
// compare-and-set revisions.
type persister struct {
	s     *Service
	store restore.Store
	id    string

	mu      sync.Mutex
	pending *restore.Snapshot
	del     bool
	running bool
	rev     uint64
	idle    chan struct{} // closed when nothing is pending or running
}

func newPersister(s *Service, store restore.Store, id string) *persister {
	p := &persister{s: s, store: store, id: id, idle: make(chan struct{})}
	close(p.idle)
	return p
}

func (p *persister) save(snap *restore.Snapshot) {
	p.mu.Lock()
	p.pending, p.del = snap, false
	p.startLocked()
	p.mu.Unlock()
}

func (p *persister) delete() {
	p.mu.Lock()
	p.pending, p.del = nil, true
	p.startLocked()
	p.mu.Unlock()
}

func (p *persister) startLocked() {
	if p.running {
		return
	}
	p.running = true
	p.idle = make(chan struct{})
	go p.loop()
}

func (p *persister) loop() {
	for {
		p.mu.Lock()
		snap, del := p.pending, p.del
		p.pending, p.del = nil, false
		if snap == nil && !del {
			p.running = false
			close(p.idle)
			p.mu.Unlock()
			return
		}
		rev := p.rev
		p.mu.Unlock()

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var err error
		if del {
			err = p.store.Delete(ctx, p.id, 0)
			if errors.Is(err, restore.ErrNotFound) {
				err = nil
			}
			rev = 0
		} else {
			rev, err = p.saveCAS(ctx, snap, rev)
		}
		cancel()
		p.mu.Lock()
		p.rev = rev
		p.mu.Unlock()
		if err != nil {
			p.s.log.Error().Err(err).Str("session", p.id).Msg("webchatservice: snapshot write failed")
		}
	}
}

// saveCAS saves with the known revision; after a conflict (another writer, or a revision we
// never learnt) it adopts the stored revision once and retries.
func (p *persister) saveCAS(ctx context.Context, snap *restore.Snapshot, rev uint64) (uint64, error) {
	n, err := p.store.Save(ctx, snap, rev)
	var ce *restore.ConflictError
	if errors.As(err, &ce) {
		n, err = p.store.Save(ctx, snap, ce.Actual)
	}
	if err != nil {
		return rev, err
	}
	return n, nil
}

// setRevision records the revision of a snapshot loaded for a restore.
func (p *persister) setRevision(rev uint64) {
	p.mu.Lock()
	p.rev = rev
	p.mu.Unlock()
}

// close waits until pending writes are done or ctx ends.
func (p *persister) close(ctx context.Context) error {
	p.mu.Lock()
	idle := p.idle
	p.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
