package natsbridge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cxbus/webchat/restore"
)

// KVStore is a restore.Store on a JetStream key-value bucket, shared by every daemon of a
// cluster: a node that takes over a session loads its snapshot from here. Revisions are the
// bucket's revisions (increasing, not consecutive), used for compare-and-set. Wrap it with
// restore.Encrypt to keep JWTs and secure keys encrypted at rest.
type KVStore struct {
	kv  jetstream.KeyValue
	now func() time.Time
}

// NewKVStore returns a store on kv (create the bucket with CreateKeyValue or CreateBuckets).
func NewKVStore(kv jetstream.KeyValue) *KVStore { return &KVStore{kv: kv, now: time.Now} }

var _ restore.Store = (*KVStore)(nil)

// Load returns the snapshot of id with its revision.
func (s *KVStore) Load(ctx context.Context, id string) (*restore.Snapshot, error) {
	if err := restore.ValidateID(id); err != nil {
		return nil, err
	}
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil, fmt.Errorf("%w: session %s", restore.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("natsbridge: kv load %s: %w", id, err)
	}
	var snap restore.Snapshot
	if err := json.Unmarshal(e.Value(), &snap); err != nil {
		return nil, fmt.Errorf("%w: session %s: %v", restore.ErrCorrupt, id, err)
	}
	snap.Revision = e.Revision()
	return &snap, nil
}

// Save stores snap if the stored revision is expected (0: none may exist).
func (s *KVStore) Save(ctx context.Context, snap *restore.Snapshot, expected uint64) (uint64, error) {
	if snap == nil {
		return 0, errors.New("natsbridge: kv save: nil snapshot")
	}
	if err := restore.ValidateID(snap.SessionID); err != nil {
		return 0, err
	}
	if snap.SavedAt.IsZero() {
		snap.SavedAt = s.now()
	}
	cp := *snap
	cp.Revision = 0
	data, err := json.Marshal(&cp)
	if err != nil {
		return 0, fmt.Errorf("natsbridge: kv save %s: %w", snap.SessionID, err)
	}
	var rev uint64
	if expected == 0 {
		rev, err = s.kv.Create(ctx, snap.SessionID, data)
	} else {
		rev, err = s.kv.Update(ctx, snap.SessionID, data, expected)
	}
	if err != nil {
		if isWrongSequence(err) {
			return 0, &restore.ConflictError{ID: snap.SessionID, Expected: expected, Actual: s.revision(ctx, snap.SessionID)}
		}
		return 0, fmt.Errorf("natsbridge: kv save %s: %w", snap.SessionID, err)
	}
	snap.Revision = rev
	return rev, nil
}

func (s *KVStore) revision(ctx context.Context, id string) uint64 {
	e, err := s.kv.Get(ctx, id)
	if err != nil {
		return 0
	}
	return e.Revision()
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, jetstream.ErrKeyExists)
}

// Delete removes the snapshot of id if its revision is expected (0: whatever it is).
func (s *KVStore) Delete(ctx context.Context, id string, expected uint64) error {
	if err := restore.ValidateID(id); err != nil {
		return err
	}
	cur := s.revision(ctx, id)
	if cur == 0 {
		return fmt.Errorf("%w: session %s", restore.ErrNotFound, id)
	}
	var opts []jetstream.KVDeleteOpt
	if expected != 0 {
		if expected != cur {
			return &restore.ConflictError{ID: id, Expected: expected, Actual: cur}
		}
		opts = append(opts, jetstream.LastRevision(expected))
	}
	if err := s.kv.Delete(ctx, id, opts...); err != nil {
		if isWrongSequence(err) {
			return &restore.ConflictError{ID: id, Expected: expected, Actual: s.revision(ctx, id)}
		}
		return fmt.Errorf("natsbridge: kv delete %s: %w", id, err)
	}
	return nil
}

// List returns the stored session ids, sorted.
func (s *KVStore) List(ctx context.Context) ([]string, error) {
	keys, err := s.kv.Keys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return []string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("natsbridge: kv list: %w", err)
	}
	slices.Sort(keys)
	return keys, nil
}
