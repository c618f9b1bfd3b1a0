package restore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// FileOptions configure a [FileStore]. The zero value works.
type FileOptions struct {
	// Logger receives debug lines (session id and revision only, never snapshot contents).
	// The zero value discards everything.
	Logger zerolog.Logger
	// FileMode is the permission of snapshot files. Default 0600 (snapshots hold secrets).
	FileMode fs.FileMode
	// NoSync skips fsync of files and the directory. Faster, but a crash of the machine may
	// lose or (on some file systems) empty a recent snapshot. For tests and tmpfs.
	NoSync bool
	// StaleTempAge is the age beyond which leftover temp files of crashed writers are removed
	// by NewFileStore. Default 15 minutes.
	StaleTempAge time.Duration
}

// FileStore keeps one JSON file per session in a directory: <dir>/<id>.json.
//
// Writes are atomic and durable: the snapshot is written to a temp file in the same
// directory, fsynced, renamed over <id>.json, and the directory is fsynced; a reader sees the
// old or the new snapshot, never a mix, and leftover temp files of a crashed writer are
// ignored. The compare-and-set of Save and Delete runs under an exclusive flock(2) on one of
// 64 lock files (.lock-00 … .lock-3f, chosen by a hash of the id), so several processes may
// share the directory safely; goroutines of one process exclude each other the same way.
type FileStore struct {
	dir  string
	mode fs.FileMode
	sync bool
	log  zerolog.Logger
}

var _ Store = (*FileStore)(nil)

const (
	fileExt     = ".json"
	tempMarker  = ".tmp-"
	lockPrefix  = ".lock-"
	lockStripes = 64 // fixed: every process sharing a directory must agree
)

// NewFileStore opens (creating it with mode 0700 if needed) a directory of snapshots and
// removes stale temp files left by crashed writers.
func NewFileStore(dir string, opts FileOptions) (*FileStore, error) {
	if err := lockSupported(); err != nil {
		return nil, err
	}
	if dir == "" {
		return nil, errors.New("restore: file store needs a directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("restore: creating snapshot directory: %w", err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("restore: snapshot directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("restore: snapshot directory %s is not a directory", dir)
	}
	st := &FileStore{dir: dir, mode: opts.FileMode, sync: !opts.NoSync, log: opts.Logger}
	if st.mode == 0 {
		st.mode = 0o600
	}
	age := opts.StaleTempAge
	if age <= 0 {
		age = 15 * time.Minute
	}
	st.removeStaleTemps(time.Now().Add(-age))
	return st, nil
}

// Dir returns the directory of the store.
func (f *FileStore) Dir() string { return f.dir }

func (f *FileStore) path(id string) string { return filepath.Join(f.dir, id+fileExt) }

func (f *FileStore) removeStaleTemps(before time.Time) {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") || !strings.Contains(e.Name(), tempMarker) {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(before) {
			if err := os.Remove(filepath.Join(f.dir, e.Name())); err == nil {
				f.log.Debug().Str("file", e.Name()).Msg("restore: removed stale temp file")
			}
		}
	}
}

// Load implements [Store]. It takes no lock: renames are atomic.
func (f *FileStore) Load(ctx context.Context, id string) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	s, err := f.read(id)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, notFound(id)
	}
	return s, nil
}

// read returns the stored snapshot, or nil when there is none.
func (f *FileStore) read(id string) (*Snapshot, error) {
	data, err := os.ReadFile(f.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("restore: reading snapshot of session %s: %w", id, err)
	}
	s := new(Snapshot)
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("%w: session %s: %w", ErrCorrupt, id, err)
	}
	if s.SessionID != id {
		return nil, fmt.Errorf("%w: file %s holds session %q", ErrCorrupt, id+fileExt, s.SessionID)
	}
	return s, nil
}

// revision returns the stored revision (0: none). It decodes only the head of the file:
// sessionId and revision are the first two fields a store writes.
func (f *FileStore) revision(id string) (uint64, error) {
	data, err := os.ReadFile(f.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("restore: reading snapshot of session %s: %w", id, err)
	}
	sid, rev, err := peekHead(data)
	if err != nil {
		return 0, fmt.Errorf("%w: session %s: %w", ErrCorrupt, id, err)
	}
	if sid != id {
		return 0, fmt.Errorf("%w: file %s holds session %q", ErrCorrupt, id+fileExt, sid)
	}
	return rev, nil
}

// peekHead reads sessionId and revision from the top level of a snapshot's JSON, stopping as
// soon as it has both.
func peekHead(data []byte) (id string, rev uint64, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return "", 0, fmt.Errorf("not a JSON object")
	}
	haveID, haveRev := false, false
	for dec.More() && !(haveID && haveRev) {
		t, err := dec.Token()
		if err != nil {
			return "", 0, err
		}
		switch t {
		case "sessionId":
			err, haveID = dec.Decode(&id), true
		case "revision":
			err, haveRev = dec.Decode(&rev), true
		default:
			var skip json.RawMessage
			err = dec.Decode(&skip)
		}
		if err != nil {
			return "", 0, err
		}
	}
	if !haveID || !haveRev {
		return "", 0, fmt.Errorf("sessionId or revision missing")
	}
	return id, rev, nil
}

// Save implements [Store].
func (f *FileStore) Save(ctx context.Context, s *Snapshot, expected uint64) (uint64, error) {
	if err := checkSave(ctx, s); err != nil {
		return 0, err
	}
	id := s.SessionID
	unlock, err := f.lock(ctx, id)
	if err != nil {
		return 0, err
	}
	defer unlock()
	cur, err := f.revision(id)
	if err != nil {
		return 0, err
	}
	if err := checkCAS(id, expected, cur); err != nil {
		return 0, err
	}
	data, savedAt, err := encode(s, cur+1)
	if err != nil {
		return 0, err
	}
	if err := f.writeAtomic(id, data); err != nil {
		return 0, err
	}
	s.Revision, s.SavedAt = cur+1, savedAt
	f.log.Debug().Str("session", id).Uint64("revision", cur+1).Msg("restore: snapshot saved")
	return cur + 1, nil
}

func (f *FileStore) writeAtomic(id string, data []byte) (err error) {
	tmp, err := os.CreateTemp(f.dir, "."+id+tempMarker+"*")
	if err != nil {
		return fmt.Errorf("restore: writing snapshot of session %s: %w", id, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("restore: writing snapshot of session %s: %w", id, err)
		}
	}()
	if err = tmp.Chmod(f.mode); err != nil {
		return err
	}
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if f.sync {
		if err = tmp.Sync(); err != nil {
			return err
		}
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), f.path(id)); err != nil {
		return err
	}
	return f.syncDir()
}

func (f *FileStore) syncDir() error {
	if !f.sync {
		return nil
	}
	d, err := os.Open(f.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Delete implements [Store].
func (f *FileStore) Delete(ctx context.Context, id string, expected uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := ValidateID(id); err != nil {
		return err
	}
	unlock, err := f.lock(ctx, id)
	if err != nil {
		return err
	}
	defer unlock()
	if expected != 0 {
		cur, err := f.revision(id)
		if err != nil {
			return err
		}
		if cur == 0 {
			return notFound(id)
		}
		if err := checkCAS(id, expected, cur); err != nil {
			return err
		}
	}
	// expected == 0 deletes whatever is there, corrupt files included.
	if err := os.Remove(f.path(id)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return notFound(id)
		}
		return fmt.Errorf("restore: deleting snapshot of session %s: %w", id, err)
	}
	if err := f.syncDir(); err != nil {
		return fmt.Errorf("restore: deleting snapshot of session %s: %w", id, err)
	}
	f.log.Debug().Str("session", id).Msg("restore: snapshot deleted")
	return nil
}

// List implements [Store]. Temp and lock files are not listed.
func (f *FileStore) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		return nil, fmt.Errorf("restore: listing snapshots: %w", err)
	}
	var ids []string
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), fileExt)
		if !ok || !e.Type().IsRegular() || ValidateID(id) != nil {
			continue
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}

// lockName returns the lock file of an id.
func lockName(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return fmt.Sprintf("%s%02x", lockPrefix, h.Sum32()%lockStripes)
}

// lock takes the exclusive lock of an id, waiting until ctx is done.
func (f *FileStore) lock(ctx context.Context, id string) (func(), error) {
	lf, err := os.OpenFile(filepath.Join(f.dir, lockName(id)), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("restore: lock file: %w", err)
	}
	wait := 50 * time.Microsecond
	var timer *time.Timer
	for {
		ok, err := tryLock(lf)
		if err != nil {
			lf.Close()
			return nil, fmt.Errorf("restore: locking session %s: %w", id, err)
		}
		if ok {
			break
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			timer.Stop()
			lf.Close()
			return nil, fmt.Errorf("restore: waiting for the lock of session %s: %w", id, ctx.Err())
		case <-timer.C:
		}
		if wait < 20*time.Millisecond {
			wait *= 2
		}
	}
	if timer != nil {
		timer.Stop()
	}
	return func() {
		unlockFile(lf)
		lf.Close()
	}, nil
}
