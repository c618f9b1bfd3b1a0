package natsbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cxbus/webchat/restore"
	"github.com/cxbus/webchat/webchatservice"
)

// Header names of forwarded requests.
const (
	headerSubject   = "Webchat-Subject"
	headerForwarded = "Webchat-Forwarded"
)

// DefaultLeaseTTL is the default lease lifetime.
const DefaultLeaseTTL = 10 * time.Second

// Ownership lets several daemons share sessions. Each session is owned by one daemon, recorded
// as a lease in a KV bucket; requests reaching another daemon are forwarded to the owner. A
// daemon that stops releases its leases; one that dies lets them expire. Either way another
// daemon claims the orphaned sessions (on its next scan, or when a request for one arrives) and
// restores them from their snapshots, so clients keep using the same subjects.
type Ownership struct {
	// Leases is the lease bucket; its TTL must be the lease TTL (CreateBuckets sets it).
	Leases jetstream.KeyValue
	// Store is the snapshot store shared by the daemons: the Host's Store (e.g. a KVStore).
	Store restore.Store
	// TTL is the lease lifetime, equal to the bucket's TTL. Default 10 s. Owners refresh every TTL/3.
	TTL time.Duration
	// ScanInterval is how often a daemon claims orphaned sessions. Default TTL/2.
	ScanInterval time.Duration
}

// Buckets are the KV buckets of a cluster of daemons.
type Buckets struct {
	Snapshots jetstream.KeyValue
	Leases    jetstream.KeyValue
}

// CreateBuckets creates (or opens) the snapshot and lease buckets named after prefix:
// <prefix>_snapshots and <prefix>_leases (TTL leaseTTL, default 10 s).
func CreateBuckets(ctx context.Context, js jetstream.JetStream, prefix string, leaseTTL time.Duration, replicas int) (Buckets, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if leaseTTL <= 0 {
		leaseTTL = DefaultLeaseTTL
	}
	name := bucketName(prefix)
	snaps, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name + "_snapshots", Description: "webchat session snapshots", Replicas: replicas, Storage: jetstream.FileStorage})
	if err != nil {
		return Buckets{}, fmt.Errorf("natsbridge: snapshot bucket: %w", err)
	}
	leases, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: name + "_leases", Description: "webchat session owners", TTL: leaseTTL, Replicas: replicas, Storage: jetstream.FileStorage})
	if err != nil {
		return Buckets{}, fmt.Errorf("natsbridge: lease bucket: %w", err)
	}
	return Buckets{Snapshots: snaps, Leases: leases}, nil
}

func bucketName(prefix string) string {
	out := []byte(prefix)
	for i, c := range out {
		if c == '.' {
			out[i] = '_'
		}
	}
	return string(out)
}

type lease struct {
	Node string    `json:"node"`
	At   time.Time `json:"at"`
}

type owner struct {
	b *Bridge
	o Ownership

	mu    sync.Mutex
	owned map[string]uint64 // session → lease revision
}

func newOwner(b *Bridge, o Ownership) (*owner, error) {
	if o.Leases == nil || o.Store == nil {
		return nil, fmt.Errorf("%w: Ownership.Leases and Ownership.Store are required", ErrOwnershipDisabled)
	}
	if o.TTL <= 0 {
		o.TTL = DefaultLeaseTTL
	}
	if o.ScanInterval <= 0 {
		o.ScanInterval = o.TTL / 2
	}
	return &owner{b: b, o: o, owned: map[string]uint64{}}, nil
}

func (w *owner) start() {
	w.loop(w.o.TTL/3, w.refresh)
	w.loop(w.o.ScanInterval, w.scan)
}

func (w *owner) loop(every time.Duration, fn func(context.Context)) {
	b := w.b
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), every)
				fn(ctx)
				cancel()
			}
		}
	}()
}

func (w *owner) value() []byte {
	v, _ := json.Marshal(lease{Node: w.b.opts.NodeID, At: time.Now()})
	return v
}

// claim takes the lease of id; it fails when another node holds it.
func (w *owner) claim(ctx context.Context, id string) error {
	ok, err := w.tryClaim(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s", ErrLeaseLost, id)
	}
	return nil
}

func (w *owner) tryClaim(ctx context.Context, id string) (bool, error) {
	rev, err := w.o.Leases.Create(ctx, id, w.value())
	if isWrongSequence(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("natsbridge: claim %s: %w", id, err)
	}
	w.mu.Lock()
	w.owned[id] = rev
	w.mu.Unlock()
	return true, nil
}

func (w *owner) release(ctx context.Context, id string) {
	w.mu.Lock()
	rev, ok := w.owned[id]
	delete(w.owned, id)
	w.mu.Unlock()
	if !ok {
		return
	}
	if err := w.o.Leases.Delete(ctx, id, jetstream.LastRevision(rev)); err != nil {
		w.b.log.Debug().Err(err).Str("session", id).Msg("natsbridge: lease release failed (it will expire)")
	}
}

// forget drops a closed session: lease and snapshot.
func (w *owner) forget(ctx context.Context, id string) {
	w.release(ctx, id)
	if err := w.o.Store.Delete(ctx, id, 0); err != nil && !errors.Is(err, restore.ErrNotFound) {
		w.b.log.Warn().Err(err).Str("session", id).Msg("natsbridge: snapshot delete failed")
	}
}

// ownerOf returns the node holding id's lease ("" when none).
func (w *owner) ownerOf(ctx context.Context, id string) (string, error) {
	e, err := w.o.Leases.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var l lease
	if err := json.Unmarshal(e.Value(), &l); err != nil {
		return "", nil
	}
	return l.Node, nil
}

// refresh renews this node's leases; a lease lost to another node detaches the session here.
func (w *owner) refresh(ctx context.Context) {
	w.mu.Lock()
	ids := make(map[string]uint64, len(w.owned))
	for id, rev := range w.owned {
		ids[id] = rev
	}
	w.mu.Unlock()
	for id, rev := range ids {
		n, err := w.o.Leases.Update(ctx, id, w.value(), rev)
		if err == nil {
			w.mu.Lock()
			if _, still := w.owned[id]; still {
				w.owned[id] = n
			}
			w.mu.Unlock()
			continue
		}
		if !isWrongSequence(err) && !errors.Is(err, jetstream.ErrKeyNotFound) {
			w.b.log.Warn().Err(err).Str("session", id).Msg("natsbridge: lease refresh failed; retrying")
			continue
		}
		w.b.log.Warn().Str("session", id).Msg("natsbridge: lease lost; detaching the session here")
		w.mu.Lock()
		delete(w.owned, id)
		w.mu.Unlock()
		if err := w.b.opts.Host.Close(ctx, id); err != nil && !errors.Is(err, webchatservice.ErrSessionNotFound) {
			w.b.log.Warn().Err(err).Str("session", id).Msg("natsbridge: detach after lease loss")
		}
	}
}

// scan claims stored sessions without a live owner and restores them here.
func (w *owner) scan(ctx context.Context) {
	ids, err := w.o.Store.List(ctx)
	if err != nil {
		w.b.log.Warn().Err(err).Msg("natsbridge: scan: listing snapshots failed")
		return
	}
	for _, id := range ids {
		if w.b.isClosed() {
			return
		}
		if _, err := w.b.opts.Host.Get(id); err == nil {
			continue
		}
		if node, err := w.ownerOf(ctx, id); err != nil || node != "" {
			continue
		}
		if err := w.adopt(ctx, id); err != nil {
			w.b.log.Warn().Err(err).Str("session", id).Msg("natsbridge: adopting an orphaned session failed")
		}
	}
}

// adopt claims id and opens it here (the service restores it from its snapshot).
func (w *owner) adopt(ctx context.Context, id string) error {
	ok, err := w.tryClaim(ctx, id)
	if err != nil || !ok {
		return err
	}
	s, err := w.b.opts.Host.Open(ctx, webchatservice.OpenOptions{ID: id})
	if err != nil {
		w.release(ctx, id)
		return err
	}
	w.b.log.Info().Str("session", id).Msg("natsbridge: session taken over")
	_, err = s.Client.VerifySession(ctx) // waits for the restore
	return err
}

// list returns every session with a lease or a snapshot.
func (w *owner) list(ctx context.Context) ([]SessionInfo, error) {
	seen := map[string]string{}
	keys, err := w.o.Leases.Keys(ctx)
	if err != nil && !errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, fmt.Errorf("natsbridge: list leases: %w", err)
	}
	for _, id := range keys {
		node, _ := w.ownerOf(ctx, id)
		seen[id] = node
	}
	stored, err := w.o.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, id := range stored {
		if _, ok := seen[id]; !ok {
			seen[id] = ""
		}
	}
	out := make([]SessionInfo, 0, len(seen))
	for id, node := range seen {
		out = append(out, SessionInfo{ID: id, Node: node})
	}
	slices.SortFunc(out, func(a, b SessionInfo) int { return cmpString(a.ID, b.ID) })
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// releaseAll closes this node's sessions (flushing snapshots) and releases their leases.
func (w *owner) releaseAll(ctx context.Context) error {
	w.mu.Lock()
	ids := make([]string, 0, len(w.owned))
	for id := range w.owned {
		ids = append(ids, id)
	}
	w.mu.Unlock()
	var errs []error
	for _, id := range ids {
		if err := w.b.opts.Host.Close(ctx, id); err != nil && !errors.Is(err, webchatservice.ErrSessionNotFound) {
			errs = append(errs, err)
		}
		w.release(ctx, id)
	}
	return errors.Join(errs...)
}

// route handles a request for a session this node does not run: forward it to the owner, or
// adopt an orphaned session and handle it here, or answer "unknown session".
func (b *Bridge) route(ctx context.Context, r responder, session string) {
	if b.own == nil || isForwarded(r) {
		r.Fail(replyError(fmt.Errorf("%w: %s", ErrUnknownSession, session)))
		return
	}
	node, err := b.own.ownerOf(ctx, session)
	if err != nil {
		r.Fail(replyError(fmt.Errorf("%w: %v", ErrForwardFailed, err)))
		return
	}
	if node != "" && node != b.opts.NodeID {
		b.forward(ctx, r, node)
		return
	}
	if _, err := b.own.o.Store.Load(ctx, session); err != nil {
		r.Fail(replyError(fmt.Errorf("%w: %s", ErrUnknownSession, session)))
		return
	}
	if node == b.opts.NodeID { // our own stale lease (e.g. after a restart with the same id)
		b.own.mu.Lock()
		delete(b.own.owned, session)
		b.own.mu.Unlock()
		b.own.o.Leases.Delete(ctx, session)
	}
	if err := b.own.adopt(ctx, session); err != nil {
		r.Fail(replyError(err))
		return
	}
	if _, err := b.opts.Host.Get(session); err != nil {
		// Another node won the claim meanwhile: forward to it.
		if node, _ := b.own.ownerOf(ctx, session); node != "" && node != b.opts.NodeID {
			b.forward(ctx, r, node)
			return
		}
		r.Fail(replyError(fmt.Errorf("%w: %s", ErrUnknownSession, session)))
		return
	}
	b.redispatch(r)
}

func (b *Bridge) redispatch(r responder) {
	if r.Subject() == b.subj.Close() {
		b.closeSession(r)
		return
	}
	b.command(r)
}

// forward sends the request to the owning node and relays its reply.
func (b *Bridge) forward(ctx context.Context, r responder, node string) {
	m := nats.NewMsg(b.subj.Node(node) + ".req")
	m.Data = r.Data()
	m.Header.Set(headerSubject, r.Subject())
	m.Header.Set(headerForwarded, b.opts.NodeID)
	reply, err := b.opts.Conn.RequestMsgWithContext(ctx, m)
	if err != nil {
		r.Fail(replyError(fmt.Errorf("%w: node %s: %v", ErrForwardFailed, node, err)))
		return
	}
	r.Respond(reply.Data, reply.Header)
}

// onForwarded serves a request another node forwarded to this one.
func (b *Bridge) onForwarded(m *nats.Msg) {
	r := forwardedReq{msg: m, subject: m.Header.Get(headerSubject)}
	if r.subject == b.subj.Close() {
		if !b.track(func() { b.closeSession(r) }) {
			r.Fail(replyError(ErrClosed))
		}
		return
	}
	b.command(r)
}

func isForwarded(r responder) bool {
	f, ok := r.(forwardedReq)
	return ok && f.msg.Header.Get(headerForwarded) != ""
}
