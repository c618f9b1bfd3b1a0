package natsbridge_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/restore"
)

func TestKVStoreCompareAndSet(t *testing.T) {
	srv := startNATS(t, true)
	nc := connect(t, srv.ClientURL())
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	buckets, err := natsbridge.CreateBuckets(ctx, js, "webchat", 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	st := natsbridge.NewKVStore(buckets.Snapshots)

	if _, err := st.Load(ctx, "s1"); !errors.Is(err, restore.ErrNotFound) {
		t.Fatalf("load missing: %v", err)
	}
	if ids, err := st.List(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("list empty: %v %v", ids, err)
	}
	snap := &restore.Snapshot{SessionID: "s1", TransportType: "gms", UserData: map[string]any{"a": "b"}}
	r1, err := st.Save(ctx, snap, 0)
	if err != nil || r1 == 0 || snap.Revision != r1 {
		t.Fatalf("first save: %d %v", r1, err)
	}
	// A second "create" conflicts; the conflict names the stored revision.
	var ce *restore.ConflictError
	if _, err := st.Save(ctx, &restore.Snapshot{SessionID: "s1"}, 0); !errors.As(err, &ce) || ce.Actual != r1 || !errors.Is(err, restore.ErrConflict) {
		t.Fatalf("create over existing: %v", err)
	}
	snap.UserData["a"] = "c"
	r2, err := st.Save(ctx, snap, r1)
	if err != nil || r2 <= r1 {
		t.Fatalf("update: %d %v", r2, err)
	}
	if _, err := st.Save(ctx, snap, r1); !errors.Is(err, restore.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	got, err := st.Load(ctx, "s1")
	if err != nil || got.Revision != r2 || got.UserData["a"] != "c" || got.SavedAt.IsZero() {
		t.Fatalf("load: %+v %v", got, err)
	}
	if err := st.Delete(ctx, "s1", r1); !errors.Is(err, restore.ErrConflict) {
		t.Fatalf("stale delete: %v", err)
	}
	st.Save(ctx, &restore.Snapshot{SessionID: "s0"}, 0)
	if ids, _ := st.List(ctx); len(ids) != 2 || ids[0] != "s0" {
		t.Fatalf("list %v", ids)
	}
	if err := st.Delete(ctx, "s1", r2); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "s1", 0); !errors.Is(err, restore.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	// Re-create after delete starts a new life of the key.
	if _, err := st.Save(ctx, &restore.Snapshot{SessionID: "s1"}, 0); err != nil {
		t.Fatalf("recreate: %v", err)
	}
	for _, bad := range []string{"../x", "", "a b"} {
		if _, err := st.Load(ctx, bad); !errors.Is(err, restore.ErrInvalidID) {
			t.Fatalf("id %q: %v", bad, err)
		}
	}
	// It works encrypted too.
	key := make([]byte, 32)
	enc, err := restore.Encrypt(st, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Save(ctx, &restore.Snapshot{SessionID: "sec", SessionData: []byte(`{"values":{"jwt":"secret"}}`)}, 0); err != nil {
		t.Fatal(err)
	}
	raw, _ := buckets.Snapshots.Get(ctx, "sec")
	if string(raw.Value()) == "" || contains(raw.Value(), "secret") {
		t.Fatalf("snapshot not encrypted at rest: %s", raw.Value())
	}
	back, err := enc.Load(ctx, "sec")
	if err != nil || string(back.SessionData) != `{"values":{"jwt":"secret"}}` {
		t.Fatalf("decrypt: %v %s", err, back.SessionData)
	}
}

func contains(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}
