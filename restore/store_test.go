package restore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestStoreCAS(t *testing.T) {
	for name, st := range storeKinds(t) {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			if _, err := st.Load(ctx, "s1"); !errors.Is(err, ErrNotFound) || err.Error() != "restore: snapshot not found: session s1" {
				t.Fatalf("Load of a missing snapshot: %v", err)
			}
			s := sampleSnapshot("s1", 3)
			rev, err := st.Save(ctx, s, 0)
			if err != nil || rev != 1 || s.Revision != 1 {
				t.Fatalf("first Save = %d, %v (s.Revision %d)", rev, err, s.Revision)
			}
			// expected 0 on an existing snapshot
			_, err = st.Save(ctx, sampleSnapshot("s1", 1), 0)
			var ce *ConflictError
			if !errors.Is(err, ErrConflict) || !errors.As(err, &ce) || ce.Expected != 0 || ce.Actual != 1 || ce.ID != "s1" {
				t.Fatalf("Save(expected 0) on existing = %v", err)
			}
			if err.Error() != "restore: revision conflict: session s1: expected no snapshot, found revision 1" {
				t.Errorf("conflict text: %s", err)
			}
			// stale revision
			s.Cursor = []byte(`{"lastMessageId":"msg-43"}`)
			if rev, err = st.Save(ctx, s, 1); err != nil || rev != 2 {
				t.Fatalf("second Save = %d, %v", rev, err)
			}
			_, err = st.Save(ctx, s, 1)
			if !errors.As(err, &ce) || ce.Expected != 1 || ce.Actual != 2 {
				t.Fatalf("stale Save = %v", err)
			}
			// expected revision on a missing snapshot
			_, err = st.Save(ctx, sampleSnapshot("nope", 0), 5)
			if !errors.As(err, &ce) || ce.Actual != 0 || err.Error() != "restore: revision conflict: session nope: expected revision 5, no snapshot stored" {
				t.Fatalf("Save(expected 5) on missing = %v", err)
			}
			got, err := st.Load(ctx, "s1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Revision != 2 || string(got.Cursor) != `{"lastMessageId":"msg-43"}` {
				t.Errorf("Load = revision %d cursor %s", got.Revision, got.Cursor)
			}
			want := sampleSnapshot("s1", 3)
			want.Cursor, want.Revision = got.Cursor, 2
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Load returned\n%+v\nwant\n%+v", got, want)
			}
			// Delete with CAS
			if err := st.Delete(ctx, "s1", 1); !errors.Is(err, ErrConflict) {
				t.Fatalf("stale Delete = %v", err)
			}
			if err := st.Delete(ctx, "s1", 2); err != nil {
				t.Fatalf("Delete = %v", err)
			}
			if err := st.Delete(ctx, "s1", 0); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Delete of missing = %v", err)
			}
			if err := st.Delete(ctx, "s1", 2); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Delete(expected) of missing = %v", err)
			}
			if _, err := st.Load(ctx, "s1"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("Load after Delete = %v", err)
			}
		})
	}
}

func TestStoreSavedAtAndIsolation(t *testing.T) {
	for name, st := range storeKinds(t) {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			s := sampleSnapshot("iso", 1)
			s.SavedAt = time.Time{}
			before := time.Now()
			if _, err := st.Save(ctx, s, 0); err != nil {
				t.Fatal(err)
			}
			if s.SavedAt.Before(before) {
				t.Errorf("SavedAt not filled: %v", s.SavedAt)
			}
			// Changing the caller's snapshot must not change the stored one.
			s.UserData["tier"] = "changed"
			s.Transcript[0][2] = 'X'
			got, err := st.Load(ctx, "iso")
			if err != nil {
				t.Fatal(err)
			}
			if got.UserData["tier"] != "gold" || got.Transcript[0][2] != 't' {
				t.Errorf("store shares memory with the caller")
			}
			if !got.SavedAt.Equal(s.SavedAt) {
				t.Errorf("SavedAt %v, want %v", got.SavedAt, s.SavedAt)
			}
			got.UserData["tier"] = "mutated"
			again, _ := st.Load(ctx, "iso")
			if again.UserData["tier"] != "gold" {
				t.Errorf("Load results share memory")
			}
		})
	}
}

func TestStoreListAndValidation(t *testing.T) {
	for name, st := range storeKinds(t) {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			for _, id := range []string{"b-2", "a.1", "C_3"} {
				if _, err := st.Save(ctx, sampleSnapshot(id, 0), 0); err != nil {
					t.Fatal(err)
				}
			}
			ids, err := st.List(ctx)
			if err != nil || !reflect.DeepEqual(ids, []string{"C_3", "a.1", "b-2"}) {
				t.Fatalf("List = %q, %v", ids, err)
			}
			for _, bad := range []string{"", "..", ".", "../x", "a/b", `a\b`, "/etc/passwd", ".hidden", "-x", "a b", "x\x00", "é", string(make([]byte, 129))} {
				if _, err := st.Save(ctx, sampleSnapshot(bad, 0), 0); !errors.Is(err, ErrInvalidID) {
					t.Errorf("Save(%q) = %v, want ErrInvalidID", bad, err)
				}
				if _, err := st.Load(ctx, bad); !errors.Is(err, ErrInvalidID) {
					t.Errorf("Load(%q) = %v, want ErrInvalidID", bad, err)
				}
				if err := st.Delete(ctx, bad, 0); !errors.Is(err, ErrInvalidID) {
					t.Errorf("Delete(%q) = %v, want ErrInvalidID", bad, err)
				}
			}
			if _, err := st.Save(ctx, nil, 0); err == nil {
				t.Error("Save(nil) succeeded")
			}
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := st.Save(cctx, sampleSnapshot("zz", 0), 0); !errors.Is(err, context.Canceled) {
				t.Errorf("Save with a canceled context = %v", err)
			}
			if _, err := st.Load(cctx, "a.1"); !errors.Is(err, context.Canceled) {
				t.Errorf("Load with a canceled context = %v", err)
			}
			if _, err := st.List(cctx); !errors.Is(err, context.Canceled) {
				t.Errorf("List with a canceled context = %v", err)
			}
		})
	}
}

// TestStoreConcurrentSavers runs goroutines that each increment a counter in one snapshot
// with Load + Save(expected) and retry on conflict: no increment may be lost.
func TestStoreConcurrentSavers(t *testing.T) {
	const workers, perWorker = 6, 25
	for name, st := range storeKinds(t) {
		t.Run(name, func(t *testing.T) {
			ctx := ctxT(t)
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range perWorker {
						if _, err := increment(ctx, st, "counter"); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			s, err := st.Load(ctx, "counter")
			if err != nil {
				t.Fatal(err)
			}
			if n := s.UserData["n"].(float64); n != workers*perWorker || s.Revision != workers*perWorker {
				t.Errorf("counter %v at revision %d, want %d", n, s.Revision, workers*perWorker)
			}
		})
	}
}

// increment adds 1 to UserData["n"] of a snapshot with compare-and-set, retrying on conflict.
// It returns the number of conflicts seen.
func increment(ctx context.Context, st Store, id string) (conflicts int, err error) {
	for {
		s, err := st.Load(ctx, id)
		var expected uint64
		switch {
		case errors.Is(err, ErrNotFound):
			s = &Snapshot{SessionID: id, UserData: map[string]any{"n": float64(0)}}
		case err != nil:
			return conflicts, err
		default:
			expected = s.Revision
		}
		s.UserData["n"] = s.UserData["n"].(float64) + 1
		_, err = st.Save(ctx, s, expected)
		if errors.Is(err, ErrConflict) {
			conflicts++
			continue
		}
		if err != nil {
			return conflicts, fmt.Errorf("save: %w", err)
		}
		return conflicts, nil
	}
}

func TestExpired(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		s       Snapshot
		now     time.Time
		timeout time.Duration
		want    bool
	}{
		{"fresh, default timeout", Snapshot{LastContact: t0}, t0.Add(59 * time.Second), 0, false},
		{"exactly the default timeout", Snapshot{LastContact: t0}, t0.Add(60 * time.Second), 0, true},
		{"older than the default", Snapshot{LastContact: t0}, t0.Add(2 * time.Minute), 0, true},
		{"custom timeout", Snapshot{LastContact: t0}, t0.Add(2 * time.Minute), 5 * time.Minute, false},
		{"SavedAt when no LastContact", Snapshot{SavedAt: t0}, t0.Add(61 * time.Second), 0, true},
		{"LastContact wins over SavedAt", Snapshot{SavedAt: t0.Add(-time.Hour), LastContact: t0}, t0.Add(time.Second), 0, false},
		{"async never expires", Snapshot{Async: true, LastContact: t0}, t0.Add(24 * time.Hour), 0, false},
		{"no time at all", Snapshot{}, t0, 0, true},
	}
	for _, tt := range tests {
		if got := Expired(&tt.s, tt.now, tt.timeout); got != tt.want {
			t.Errorf("%s: Expired = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLoadFresh(t *testing.T) {
	ctx := ctxT(t)
	st := NewMemoryStore()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := sampleSnapshot("fresh", 1)
	s.LastContact = t0
	if _, err := st.Save(ctx, s, 0); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFresh(ctx, st, "fresh", t0.Add(30*time.Second), 0)
	if err != nil || got.Revision != 1 {
		t.Fatalf("LoadFresh within the window = %v, %v", got, err)
	}
	if _, err := LoadFresh(ctx, st, "fresh", t0.Add(time.Minute), 0); !errors.Is(err, ErrExpired) ||
		err.Error() != "restore: snapshot expired: session fresh" {
		t.Fatalf("LoadFresh after the window = %v", err)
	}
	if _, err := st.Load(ctx, "fresh"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an expired snapshot must be deleted, Load = %v", err)
	}
	if _, err := LoadFresh(ctx, st, "fresh", t0, 0); !errors.Is(err, ErrNotFound) {
		t.Errorf("LoadFresh of missing = %v", err)
	}
	// A sealed snapshot read without the key.
	enc, _ := Encrypt(st, testKey)
	s2 := sampleSnapshot("sealed", 0)
	if _, err := enc.Save(ctx, s2, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFresh(ctx, st, "sealed", time.Now(), 0); !errors.Is(err, ErrSealed) {
		t.Errorf("LoadFresh of a sealed snapshot without key = %v", err)
	}
}
