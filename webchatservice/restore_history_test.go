package webchatservice_test

// fetchHistory's resolved row (§3.17) in mode P: after a restore the transport pages backwards
// from the restore cursor by transport.maxMessagePageSize; each page arrives as messageReceived
// with oldMessages:true, sorted by index descending, until "No more messages to fetch.".

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cxbus/webchat/restore"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

func TestResolutionsFetchHistoryPages(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	store := restore.NewMemoryStore()
	cfg := pureCloudConfig(sim.URL, nil)
	cfg["transport"].(map[string]any)["maxMessagePageSize"] = 2
	o := webchatservice.Options{Config: cfg, Store: store, SessionID: "history-1"}

	a := newTS(t, o)
	a.must(webchatservice.CmdVerifySession, nil)
	a.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	a.wait(webchatservice.EventAgentConnected)
	a.must(webchatservice.CmdSendMessage, map[string]any{"message": "m1"})
	for i := 1; i <= 5; i++ {
		if _, err := conv.Say(fmt.Sprintf("h%d", i), simpc.SayOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	a.waitMsg("h5", false)
	a.sync()
	a.close()

	b := newTS(t, o)
	b.wait(webchatservice.EventRestored)
	seen := map[string]int{}
	var pages int
	for {
		from := b.log.len()
		v, err := b.cmd(webchatservice.CmdFetchHistory, nil)
		if err != nil {
			rejects(t, err, transports.ErrNoMoreMessages, "No more messages to fetch.")
			break
		}
		pages++
		if pages > 10 {
			t.Fatal("history never ends")
		}
		if raw, ok := v.(json.RawMessage); !ok || !json.Valid(raw) {
			t.Errorf("resolution %T, want the server answer", v)
		}
		// A page may hold only items hidden from the customer (own join, ACD): then nothing is
		// published.
		b.sync()
		e, ok := b.log.findFrom(from, webchatservice.EventMessageReceived)
		if !ok {
			continue
		}
		mr := e.Data.(webchatservice.MessageReceived)
		if !mr.OldMessages || mr.Restoring || len(mr.Messages) == 0 || len(mr.Messages) > 2 || len(mr.OriginalMessages) != len(mr.Messages) {
			t.Fatalf("page %d: %s", pages, dump(mr))
		}
		for i, m := range mr.Messages {
			if i > 0 && m.Index > mr.Messages[i-1].Index {
				t.Errorf("page %d not sorted by index descending: %s", pages, dump(mr.Messages))
			}
			if m.Type == transports.TypeMessage {
				seen[m.Text]++
			}
		}
	}
	// Everything before the restore cursor (the last message, h5) comes back once.
	for _, txt := range []string{"m1", "h1", "h2", "h3", "h4"} {
		if seen[txt] != 1 {
			t.Errorf("history: %q %d times (%v)", txt, seen[txt], seen)
		}
	}
	if pages < 3 {
		t.Errorf("%d pages of at most 2 for 5+ messages", pages)
	}
	// History pages are not new messages and do not touch the live transcript.
	if got := b.received(false); len(got) != 0 {
		t.Errorf("history delivered as new: %v", got)
	}
	tr := b.must(webchatservice.CmdGetTranscript, nil).(webchatservice.Transcript)
	n := 0
	for _, m := range tr.Messages {
		if m.Text == "h1" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("transcript holds h1 %d times after fetchHistory", n)
	}
}
