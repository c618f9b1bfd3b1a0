package restore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	childEnv = "RESTORE_TEST_CHILD" // set: the test binary runs runChild instead of tests
	childDir = "RESTORE_TEST_DIR"
	childN   = "RESTORE_TEST_N"
	childKey = "RESTORE_TEST_ENCRYPT"
)

// runChild is a second process sharing a file store: it increments the counter snapshot N
// times and prints how many conflicts it saw.
func runChild() int {
	n, _ := strconv.Atoi(os.Getenv(childN))
	fs, err := NewFileStore(os.Getenv(childDir), FileOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var st Store = fs
	if os.Getenv(childKey) != "" {
		if st, err = Encrypt(fs, testKey); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conflicts := 0
	for range n {
		c, err := increment(ctx, st, "counter")
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			return 1
		}
		conflicts += c
	}
	fmt.Print(conflicts)
	return 0
}

// TestFileStoreConcurrentProcesses shares one directory between this process (two goroutines)
// and two child processes (this test binary re-executed), all incrementing one counter with
// compare-and-set: the final count proves no update was lost.
func TestFileStoreConcurrentProcesses(t *testing.T) {
	for _, encrypted := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypted=%v", encrypted), func(t *testing.T) {
			const children, goroutines, perWorker = 2, 2, 30
			dir := t.TempDir()
			fs, err := NewFileStore(dir, FileOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var st Store = fs
			if encrypted {
				st, _ = Encrypt(fs, testKey)
			}
			ctx := ctxT(t)
			type result struct {
				out string
				err error
			}
			results := make(chan result, children+goroutines)
			for range children {
				cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), childEnv+"=counter", childDir+"="+dir, childN+"="+strconv.Itoa(perWorker))
				if encrypted {
					cmd.Env = append(cmd.Env, childKey+"=1")
				}
				var stdout, stderr bytes.Buffer
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				go func() {
					err := cmd.Wait()
					if err != nil {
						err = fmt.Errorf("child: %w: %s", err, stderr.String())
					}
					results <- result{out: "child conflicts " + stdout.String(), err: err}
				}()
			}
			for range goroutines {
				go func() {
					total := 0
					for range perWorker {
						c, err := increment(ctx, st, "counter")
						if err != nil {
							results <- result{err: err}
							return
						}
						total += c
					}
					results <- result{out: fmt.Sprintf("goroutine conflicts %d", total)}
				}()
			}
			for range children + goroutines {
				r := <-results
				if r.err != nil {
					t.Fatal(r.err)
				}
				t.Log(r.out)
			}
			s, err := st.Load(ctx, "counter")
			if err != nil {
				t.Fatal(err)
			}
			const want = (children + goroutines) * perWorker
			if n := s.UserData["n"].(float64); n != want || s.Revision != want {
				t.Fatalf("counter %v at revision %d, want %d: updates were lost", n, s.Revision, want)
			}
		})
	}
}

// TestFileStoreCrashLeftovers: a writer that crashed before its rename leaves a temp file;
// it must not be seen by Load or List, and old ones are removed when a store opens the dir.
func TestFileStoreCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	st, err := NewFileStore(dir, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, sampleSnapshot("s1", 2), 0); err != nil {
		t.Fatal(err)
	}
	// A crashed writer of s1 (half-written new version) and of a new session s2.
	partial := filepath.Join(dir, ".s1.tmp-123456")
	fresh := filepath.Join(dir, ".s2.tmp-999")
	for _, p := range []string{partial, fresh} {
		if err := os.WriteFile(p, []byte(`{"sessionId":"s1","revision":7,"trans`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(partial, old, old); err != nil {
		t.Fatal(err)
	}
	s, err := st.Load(ctx, "s1")
	if err != nil || s.Revision != 1 || len(s.Transcript) != 2 {
		t.Fatalf("Load after a crashed write = %+v, %v", s, err)
	}
	ids, _ := st.List(ctx)
	if len(ids) != 1 || ids[0] != "s1" {
		t.Errorf("List = %q, want [s1]", ids)
	}
	if _, err := st.Load(ctx, "s2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load of a session only in a temp file = %v", err)
	}
	// The next save still works and counts from the committed revision.
	if rev, err := st.Save(ctx, s, 1); err != nil || rev != 2 {
		t.Fatalf("Save after a crashed write = %d, %v", rev, err)
	}
	// Reopening removes temp files older than StaleTempAge only.
	if _, err := NewFileStore(dir, FileOptions{StaleTempAge: 10 * time.Minute}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file not removed: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("recent temp file (maybe another process's write in progress) removed: %v", err)
	}
	// No temp file of our own saves is left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), tempMarker) && filepath.Join(dir, e.Name()) != fresh {
			t.Errorf("leftover temp file %s", e.Name())
		}
	}
}

func TestFileStoreFilesAndCorruption(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	st, err := NewFileStore(filepath.Join(dir, "snapshots"), FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, sampleSnapshot("s1", 1), 0); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(st.Dir(), "s1.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file mode %v, %v; want 0600", fi.Mode(), err)
	}
	di, _ := os.Stat(st.Dir())
	if di.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", di.Mode().Perm())
	}
	// A file holding another session (renamed by hand) is corrupt, not silently used.
	data, _ := os.ReadFile(path)
	if err := os.WriteFile(filepath.Join(st.Dir(), "s2.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx, "s2"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of a renamed file = %v, want ErrCorrupt", err)
	}
	// Truncated JSON: Load refuses it; Save with the revision of its intact head repairs it.
	if err := os.WriteFile(path, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Load(ctx, "s1"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load of truncated JSON = %v", err)
	}
	if rev, err := st.Save(ctx, sampleSnapshot("s1", 0), 1); err != nil || rev != 2 {
		t.Errorf("Save over a truncated file = %d, %v", rev, err)
	}
	if _, err := st.Load(ctx, "s1"); err != nil {
		t.Errorf("Load after the repair = %v", err)
	}
	// Garbage: neither Save nor a compare-and-set Delete can know the revision.
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Save(ctx, sampleSnapshot("s1", 0), 2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Save over a garbage file = %v, want ErrCorrupt", err)
	}
	if err := st.Delete(ctx, "s1", 2); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Delete(expected) of a garbage file = %v, want ErrCorrupt", err)
	}
	if err := st.Delete(ctx, "s1", 0); err != nil {
		t.Errorf("Delete(0) must remove a corrupt file: %v", err)
	}
	// A file that is not a directory.
	if _, err := NewFileStore(path+"x", FileOptions{}); err != nil {
		t.Fatal(err) // creates it
	}
	if err := os.WriteFile(filepath.Join(dir, "plain"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileStore(filepath.Join(dir, "plain"), FileOptions{}); err == nil {
		t.Error("NewFileStore on a regular file succeeded")
	}
	if _, err := NewFileStore("", FileOptions{}); err == nil {
		t.Error("NewFileStore(\"\") succeeded")
	}
}

// TestFileStorePathTraversal makes sure no id reaches outside the directory.
func TestFileStorePathTraversal(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "store")
	st, err := NewFileStore(dir, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := os.WriteFile(filepath.Join(root, "victim.json"), []byte(`{"sessionId":"victim","revision":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"../victim", "..", "../../etc/passwd", "a/../../victim", "/tmp/x", ".lock-00", ".s1.tmp-1", "victim\x00", "..\\victim"} {
		if _, err := st.Save(ctx, sampleSnapshot(id, 0), 0); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Save(%q) = %v", id, err)
		}
		if _, err := st.Load(ctx, id); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Load(%q) = %v", id, err)
		}
		if err := st.Delete(ctx, id, 0); !errors.Is(err, ErrInvalidID) {
			t.Errorf("Delete(%q) = %v", id, err)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "victim.json")); err != nil {
		t.Errorf("file outside the store touched: %v", err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 2 {
		t.Errorf("files created outside the store: %v", entries)
	}
}

// TestFileStoreLockWaitsForContext holds a session's lock from outside and checks that Save
// waits for it and gives up with the context.
func TestFileStoreLockWaitsForContext(t *testing.T) {
	dir := t.TempDir()
	st, err := NewFileStore(dir, FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lf, err := os.OpenFile(filepath.Join(dir, lockName("busy")), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if ok, err := tryLock(lf); !ok || err != nil {
		t.Fatalf("tryLock = %v, %v", ok, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := st.Save(ctx, sampleSnapshot("busy", 0), 0)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Save did not wait for the lock: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Save = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Save ignored the canceled context")
	}
	// Released: a waiting Save proceeds.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, err := st.Save(ctxT(t), sampleSnapshot("busy", 0), 0); err != nil {
			t.Error(err)
		}
	}()
	unlockFile(lf)
	wg.Wait()
}
