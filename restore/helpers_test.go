package restore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

var testKey = bytes.Repeat([]byte{0x42}, KeySize)

// sampleSnapshot is a realistic snapshot: a Genesys Cloud session with a JWT, a transcript of
// n messages, two agents, prefilters, userData and a queued message.
func sampleSnapshot(id string, n int) *Snapshot {
	jwt := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + string(bytes.Repeat([]byte("c2VjcmV0"), 90)) + ".sig"
	s := &Snapshot{
		SessionID:     id,
		TransportType: "purecloud-v2-sockets",
		Mode:          "P",
		SessionData: json.RawMessage(fmt.Sprintf(
			`{"jwt":%q,"conversationId":"c0ffee00-1111-2222-3333-444455556666","memberId":"m-1","eventStreamUri":"wss://streaming.example/v2/x"}`, jwt)),
		Cursor:      json.RawMessage(`{"lastMessageId":"msg-42"}`),
		LastContact: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Prefilters:  []string{`/\[\[token:\w+\]\]/i`, `(?i)secret`},
		UserData:    map[string]any{"customerId": "C-1", "tier": "gold", "visits": float64(3)},
		Agents: map[string]Agent{
			"007553863DC30029": {Name: "Ann", Type: "Agent", Connected: true, ConnectedTime: 1767322000000},
			"sup-1":            {Name: "Bob", Type: "Supervisor", Supervisor: true, ConnectedTime: 1767322001000, DisconnectedTime: 1767322002000},
		},
		Stats:   Stats{StartTime: 1767322000000, EndTime: 1767322040000},
		Outbox:  []Outgoing{{ID: "out-1", Message: "are you there?", QueuedAt: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)}},
		Flags:   map[string]bool{"sleeping": false},
		SavedAt: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC),
	}
	for i := range n {
		s.Transcript = append(s.Transcript, json.RawMessage(fmt.Sprintf(
			`{"type":"Message","id":"msg-%d","index":%d,"timestamp":%d,"text":"message number %d from the agent","from":{"id":"007553863DC30029","type":"Agent","name":"Ann"}}`,
			i, i, 1767322000000+int64(i)*1000, i)))
	}
	return s
}

// storeKinds builds every store implementation over a fresh directory.
func storeKinds(t testing.TB) map[string]Store {
	t.Helper()
	fs, err := NewFileStore(t.TempDir(), FileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fs2, err := NewFileStore(t.TempDir(), FileOptions{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	encMem, err := Encrypt(NewMemoryStore(), testKey)
	if err != nil {
		t.Fatal(err)
	}
	encFile, err := Encrypt(fs2, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Store{"memory": NewMemoryStore(), "file": fs, "encrypted-memory": encMem, "encrypted-file": encFile}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
