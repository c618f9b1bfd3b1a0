package restore

import (
	"encoding/json"
	"testing"
)

// FuzzPeekHead feeds arbitrary file contents to the head reader the file store uses for its
// compare-and-set: it must never panic, and on snapshots the store wrote it must agree with a
// full decode.
func FuzzPeekHead(f *testing.F) {
	f.Add([]byte(`{"sessionId":"s1","revision":3,"transcript":[]}`), "s1", uint64(3))
	f.Add([]byte(`{"revision":1,"sessionId":"x"}`), "x", uint64(1))
	f.Add([]byte(`{"sessionId":"s1","revision":-1}`), "s", uint64(0))
	f.Add([]byte(`[1,2]`), "a", uint64(1<<63))
	f.Add([]byte(`{"a":{"b":[`), "b", uint64(7))
	f.Fuzz(func(t *testing.T, data []byte, id string, rev uint64) {
		peekHead(data) // must not panic
		s := &Snapshot{SessionID: id, Revision: rev, UserData: map[string]any{"raw": string(data)}}
		enc, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		gotID, gotRev, err := peekHead(enc)
		var full Snapshot
		if uerr := json.Unmarshal(enc, &full); uerr != nil {
			t.Fatal(uerr)
		}
		if err != nil || gotID != full.SessionID || gotRev != rev {
			t.Fatalf("peekHead(%s) = %q, %d, %v; want %q, %d", enc, gotID, gotRev, err, full.SessionID, rev)
		}
	})
}
