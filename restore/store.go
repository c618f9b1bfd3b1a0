package restore

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Store persists snapshots by session id with compare-and-set revisions. Implementations are
// safe for concurrent use.
type Store interface {
	// Load returns the snapshot of a session, with Revision set. A missing snapshot is an
	// error matching ErrNotFound.
	Load(ctx context.Context, id string) (*Snapshot, error)
	// Save stores s under s.SessionID if the stored revision is expectedRevision (0: no
	// snapshot may exist yet), and returns the new revision. On success it sets s.Revision and,
	// when zero, s.SavedAt. A mismatch is a *ConflictError matching ErrConflict.
	Save(ctx context.Context, s *Snapshot, expectedRevision uint64) (uint64, error)
	// Delete removes a session's snapshot if its revision is expectedRevision (0: whatever
	// it is). A missing snapshot is an error matching ErrNotFound.
	Delete(ctx context.Context, id string, expectedRevision uint64) error
	// List returns the ids of all stored snapshots, sorted.
	List(ctx context.Context) ([]string, error)
}

// Sentinel errors, matched with errors.Is.
var (
	ErrNotFound  = errors.New("restore: snapshot not found")
	ErrConflict  = errors.New("restore: revision conflict")
	ErrExpired   = errors.New("restore: snapshot expired")
	ErrInvalidID = errors.New("restore: invalid session id")
	// ErrCorrupt: a stored snapshot cannot be decoded.
	ErrCorrupt = errors.New("restore: snapshot corrupt")
	// ErrDecrypt: an encrypted snapshot cannot be decrypted (another key, tampered data).
	ErrDecrypt = errors.New("restore: cannot decrypt snapshot")
	// ErrNotEncrypted: an encrypting store found a plaintext snapshot.
	ErrNotEncrypted = errors.New("restore: snapshot is not encrypted")
	// ErrSealed: a snapshot loaded without the key is still encrypted.
	ErrSealed = errors.New("restore: snapshot is encrypted (wrap the store with restore.Encrypt)")
)

// ConflictError reports a failed compare-and-set. It matches ErrConflict.
type ConflictError struct {
	ID       string
	Expected uint64 // the caller's expectedRevision (0: must not exist)
	Actual   uint64 // the stored revision (0: no snapshot)
}

func (e *ConflictError) Error() string {
	switch {
	case e.Actual == 0:
		return fmt.Sprintf("restore: revision conflict: session %s: expected revision %d, no snapshot stored", e.ID, e.Expected)
	case e.Expected == 0:
		return fmt.Sprintf("restore: revision conflict: session %s: expected no snapshot, found revision %d", e.ID, e.Actual)
	}
	return fmt.Sprintf("restore: revision conflict: session %s: expected revision %d, found %d", e.ID, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// checkCAS applies the compare-and-set rule of Save.
func checkCAS(id string, expected, actual uint64) error {
	if expected != actual {
		return &ConflictError{ID: id, Expected: expected, Actual: actual}
	}
	return nil
}

func notFound(id string) error { return fmt.Errorf("%w: session %s", ErrNotFound, id) }

// checkSave validates the arguments common to every Save.
func checkSave(ctx context.Context, s *Snapshot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s == nil {
		return errors.New("restore: nil snapshot")
	}
	return ValidateID(s.SessionID)
}

// LoadFresh loads a session's snapshot for a restore. A snapshot older than restoreTimeout
// (see [Expired]) is deleted and an error matching ErrExpired is returned: the caller
// publishes restoreTimeout. A snapshot still encrypted (store not wrapped with the key) is an
// error matching ErrSealed.
func LoadFresh(ctx context.Context, st Store, id string, now time.Time, restoreTimeout time.Duration) (*Snapshot, error) {
	s, err := st.Load(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.Sealed != nil {
		return nil, fmt.Errorf("%w: session %s", ErrSealed, id)
	}
	if Expired(s, now, restoreTimeout) {
		if err := st.Delete(ctx, id, s.Revision); err != nil && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("%w: session %s (and deleting it failed: %w)", ErrExpired, id, err)
		}
		return nil, fmt.Errorf("%w: session %s", ErrExpired, id)
	}
	return s, nil
}
