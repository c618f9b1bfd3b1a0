package restore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryStore keeps snapshots in memory: the default for embedding, lost when the process
// exits. Snapshots are stored encoded, so callers never share state with the store.
type MemoryStore struct {
	mu   sync.Mutex
	data map[string]memEntry
}

type memEntry struct {
	rev  uint64
	data []byte
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{data: map[string]memEntry{}}
}

// Load implements [Store].
func (m *MemoryStore) Load(ctx context.Context, id string) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	m.mu.Lock()
	e, ok := m.data[id]
	m.mu.Unlock()
	if !ok {
		return nil, notFound(id)
	}
	s := new(Snapshot)
	if err := json.Unmarshal(e.data, s); err != nil {
		return nil, fmt.Errorf("%w: session %s: %w", ErrCorrupt, id, err)
	}
	return s, nil
}

// Save implements [Store].
func (m *MemoryStore) Save(ctx context.Context, s *Snapshot, expected uint64) (uint64, error) {
	if err := checkSave(ctx, s); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur := m.data[s.SessionID].rev
	if err := checkCAS(s.SessionID, expected, cur); err != nil {
		return 0, err
	}
	data, savedAt, err := encode(s, cur+1)
	if err != nil {
		return 0, err
	}
	m.data[s.SessionID] = memEntry{rev: cur + 1, data: data}
	s.Revision, s.SavedAt = cur+1, savedAt
	return cur + 1, nil
}

// Delete implements [Store].
func (m *MemoryStore) Delete(ctx context.Context, id string, expected uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateID(id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[id]
	if !ok {
		return notFound(id)
	}
	if expected != 0 {
		if err := checkCAS(id, expected, e.rev); err != nil {
			return err
		}
	}
	delete(m.data, id)
	return nil
}

// List implements [Store].
func (m *MemoryStore) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	ids := make([]string, 0, len(m.data))
	for id := range m.data {
		ids = append(ids, id)
	}
	m.mu.Unlock()
	slices.Sort(ids)
	return ids, nil
}

// encode returns the JSON of s with the given revision and SavedAt filled in.
func encode(s *Snapshot, rev uint64) ([]byte, time.Time, error) {
	c := *s
	c.Revision = rev
	if c.SavedAt.IsZero() {
		c.SavedAt = time.Now()
	}
	data, err := json.Marshal(&c)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("restore: encoding snapshot of session %s: %w", s.SessionID, err)
	}
	return data, c.SavedAt, nil
}
