package restore

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// The snapshot of the benchmarks: a JWT session with 50 transcript messages (about 12 KB).
func benchSnapshot() *Snapshot { return sampleSnapshot("bench", 50) }

func benchSave(b *testing.B, st Store) {
	ctx := context.Background()
	s := benchSnapshot()
	rev, err := st.Save(ctx, s, 0)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := json.Marshal(s)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if rev, err = st.Save(ctx, s, rev); err != nil {
			b.Fatal(err)
		}
	}
}

func benchLoad(b *testing.B, st Store) {
	ctx := context.Background()
	s := benchSnapshot()
	if _, err := st.Save(ctx, s, 0); err != nil {
		b.Fatal(err)
	}
	data, _ := json.Marshal(s)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Load(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func fileStore(b *testing.B, noSync bool) *FileStore {
	st, err := NewFileStore(b.TempDir(), FileOptions{NoSync: noSync})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkFileStoreSave: lock, read-check revision, encode, temp file, fsync, rename, dir fsync.
func BenchmarkFileStoreSave(b *testing.B) { benchSave(b, fileStore(b, false)) }

// BenchmarkFileStoreSaveNoSync: the same without the two fsyncs.
func BenchmarkFileStoreSaveNoSync(b *testing.B) { benchSave(b, fileStore(b, true)) }

// BenchmarkFileStoreSaveEncrypted: the same as FileStoreSave, sealed with AES-256-GCM.
func BenchmarkFileStoreSaveEncrypted(b *testing.B) {
	st, _ := Encrypt(fileStore(b, false), testKey)
	benchSave(b, st)
}

// BenchmarkBaselineWriteFile: plain json.Marshal + os.WriteFile of the same snapshot (no CAS,
// no atomicity, no fsync).
func BenchmarkBaselineWriteFile(b *testing.B) { benchWriteFile(b, false) }

// BenchmarkBaselineWriteFileSync: json.Marshal + write + fsync of the file, the cheapest
// durable write (still not atomic).
func BenchmarkBaselineWriteFileSync(b *testing.B) { benchWriteFile(b, true) }

func benchWriteFile(b *testing.B, sync bool) {
	path := filepath.Join(b.TempDir(), "bench.json")
	s := benchSnapshot()
	data, _ := json.Marshal(s)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		data, err := json.Marshal(s)
		if err != nil {
			b.Fatal(err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Write(data); err != nil {
			b.Fatal(err)
		}
		if sync {
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileStoreLoad: read the file and decode it.
func BenchmarkFileStoreLoad(b *testing.B) { benchLoad(b, fileStore(b, true)) }

// BenchmarkFileStoreLoadEncrypted: read, decode the envelope, decrypt, decode.
func BenchmarkFileStoreLoadEncrypted(b *testing.B) {
	st, _ := Encrypt(fileStore(b, true), testKey)
	benchLoad(b, st)
}

// BenchmarkBaselineReadFile: plain os.ReadFile + json.Unmarshal of the same snapshot.
func BenchmarkBaselineReadFile(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.json")
	data, _ := json.Marshal(benchSnapshot())
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		raw, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		var s Snapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMemoryStoreSave and Load: the in-memory default (encode/decode dominate).
func BenchmarkMemoryStoreSave(b *testing.B) { benchSave(b, NewMemoryStore()) }
func BenchmarkMemoryStoreLoad(b *testing.B) { benchLoad(b, NewMemoryStore()) }
