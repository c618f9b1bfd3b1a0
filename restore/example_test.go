package restore_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cxbus/webchat/restore"
)

func Example() {
	ctx := context.Background()
	st := restore.NewMemoryStore()

	// Save a new session (expected revision 0: must not exist yet).
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := &restore.Snapshot{
		SessionID:     "3f6c9a0e5b2d4c1a8e7f6a5b4c3d2e1f",
		TransportType: "purecloud-v2-sockets",
		SessionData:   json.RawMessage(`{"jwt":"…","conversationId":"c-1","memberId":"m-1"}`),
		Cursor:        json.RawMessage(`{"lastMessageId":"msg-7"}`),
		LastContact:   now,
		SavedAt:       now,
	}
	rev, err := st.Save(ctx, s, 0)
	fmt.Println("saved revision", rev, err)

	// Another writer holding an old revision loses the compare-and-set.
	_, err = st.Save(ctx, s, 0)
	var conflict *restore.ConflictError
	fmt.Println(errors.Is(err, restore.ErrConflict), errors.As(err, &conflict) && conflict.Actual == 1)

	// Restore within the window, then after it.
	got, err := restore.LoadFresh(ctx, st, s.SessionID, now.Add(30*time.Second), restore.DefaultRestoreTimeout)
	fmt.Println("restore after 30s:", string(got.Cursor), err)
	_, err = restore.LoadFresh(ctx, st, s.SessionID, now.Add(90*time.Second), restore.DefaultRestoreTimeout)
	fmt.Println("restore after 90s:", errors.Is(err, restore.ErrExpired))
	// Output:
	// saved revision 1 <nil>
	// true true
	// restore after 30s: {"lastMessageId":"msg-7"} <nil>
	// restore after 90s: true
}

func ExampleNewFileStore() {
	dir, _ := os.MkdirTemp("", "snapshots")
	defer os.RemoveAll(dir)

	st, err := restore.NewFileStore(dir, restore.FileOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	s := &restore.Snapshot{SessionID: "s-1", Prefilters: []string{`/\[\[code:\d+\]\]/i`}}
	rev, _ := st.Save(ctx, s, 0)
	s.Prefilters = append(s.Prefilters, "(?i)secret")
	rev, _ = st.Save(ctx, s, rev)

	ids, _ := st.List(ctx)
	back, _ := st.Load(ctx, "s-1")
	fmt.Println(ids, back.Revision, back.Prefilters)

	_, err = st.Load(ctx, "../etc/passwd")
	fmt.Println(errors.Is(err, restore.ErrInvalidID))
	// Output:
	// [s-1] 2 [/\[\[code:\d+\]\]/i (?i)secret]
	// true
}

func ExampleEncrypt() {
	key := make([]byte, restore.KeySize) // in production: from a secret manager, never logged
	rand.Read(key)
	inner := restore.NewMemoryStore()
	st, err := restore.Encrypt(inner, key)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	st.Save(ctx, &restore.Snapshot{SessionID: "s-1", SessionData: json.RawMessage(`{"secureKey":"k"}`)}, 0)

	clear, _ := st.Load(ctx, "s-1")
	sealed, _ := inner.Load(ctx, "s-1")
	fmt.Println(string(clear.SessionData), sealed.SessionData == nil, sealed.Sealed.Alg)

	other := make([]byte, restore.KeySize)
	wrong, _ := restore.Encrypt(inner, other)
	_, err = wrong.Load(ctx, "s-1")
	fmt.Println(errors.Is(err, restore.ErrDecrypt))
	// Output:
	// {"secureKey":"k"} true A256GCM
	// true
}

func ExampleExpired() {
	last := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := &restore.Snapshot{LastContact: last}
	fmt.Println(restore.Expired(s, last.Add(59*time.Second), 0)) // 0: the default 60 s
	fmt.Println(restore.Expired(s, last.Add(60*time.Second), 0))
	s.Async = true
	fmt.Println(restore.Expired(s, last.Add(24*time.Hour), 0))
	// Output:
	// false
	// true
	// false
}
