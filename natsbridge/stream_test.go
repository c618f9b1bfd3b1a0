package natsbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/webchatservice"
)

func TestEventStreamReplay(t *testing.T) {
	sim := startSim(t)
	srv := startNATS(t, true)
	es := &natsbridge.EventStream{Create: true}
	startDaemon(t, srv.ClientURL(), webchatservice.HostOptions{Config: simConfig(sim.URL)}, natsbridge.Options{EventStream: es})
	nc := connect(t, srv.ClientURL())
	subj := natsbridge.Subjects{Prefix: "webchat"}

	opened, live, cmd := chatOverNATS(t, nc)
	id := opened.ID
	for _, text := range []string{"one", "two", "three"} {
		mustResult(t, nc, cmd("sendMessage"), map[string]any{"message": text}, nil)
	}
	live.waitFor(t, "WebChatService.messageReceived", func(e map[string]any) bool { return strings.Contains(dump(e), `"three"`) })
	mustResult(t, nc, cmd("endChat"), nil, nil)
	live.waitFor(t, "WebChatService.ended", nil)

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	js, _ := jetstream.New(nc)
	stream, err := js.Stream(ctx, "WEBCHAT_EVENTS")
	if err != nil {
		t.Fatal(err)
	}
	live.mu.Lock()
	want := make([]string, len(live.events))
	for i, e := range live.events {
		want[i] = e["event"].(string)
	}
	live.mu.Unlock()

	// Replay the whole session from the start, in order.
	replay := func() []string {
		cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj.Events(id)}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			batch, err := cons.Fetch(100, jetstream.FetchMaxWait(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for m := range batch.Messages() {
				n++
				got = append(got, strings.TrimPrefix(m.Subject(), "webchat."+id+".evt."))
			}
			if n == 0 {
				break
			}
		}
		return got
	}
	// The stream holds the session from its first event (before our live subscription
	// started): the live sequence must be exactly its tail.
	got := replay()
	if !containsRun(got, want) {
		t.Fatalf("replay differs from live:\nreplay %v\nlive   %v", got, want)
	}
	// The bridge joins a session right after WebChatService is ready, so the stream starts with
	// the retained ready event.
	if got[0] != "WebChatService.ready" {
		t.Fatalf("replay does not start at the session's beginning: %v", got)
	}
	// A re-sent event (same Nats-Msg-Id) is dropped by the stream.
	info, _ := stream.Info(ctx)
	before := info.State.Msgs
	m := nats.NewMsg(subj.StoredEvent(id, "WebChatService.ended"))
	m.Header.Set(nats.MsgIdHdr, "dup-test")
	m.Data = []byte(`{}`)
	for range 2 {
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	info, _ = stream.Info(ctx)
	if info.State.Msgs != before+1 {
		t.Fatalf("stream messages %d → %d; want +1 (dedupe)", before, info.State.Msgs)
	}
	var apiErr *jetstream.APIError
	_ = errors.As(err, &apiErr)
}

// containsRun reports whether run appears in list as a contiguous sequence.
func containsRun(list, run []string) bool {
	for k := 0; k+len(run) <= len(list); k++ {
		if strings.Join(list[k:k+len(run)], ",") == strings.Join(run, ",") {
			return true
		}
	}
	return false
}

// TestEventStreamOutage: the stream disappears mid-chat (as during a leader election or a
// mistaken delete) and comes back. Events published meanwhile are retried until the stream
// acknowledges them, stored once each, and live subscribers still see every event once.
func TestEventStreamOutage(t *testing.T) {
	sim := startSim(t)
	srv := startNATS(t, true)
	es := &natsbridge.EventStream{Create: true}
	d := startDaemon(t, srv.ClientURL(), webchatservice.HostOptions{Config: simConfig(sim.URL)}, natsbridge.Options{EventStream: es})
	nc := connect(t, srv.ClientURL())
	subj := natsbridge.Subjects{Prefix: "webchat"}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	js, _ := jetstream.New(nc)

	opened, live, cmd := chatOverNATS(t, nc)
	id := opened.ID

	if err := js.DeleteStream(ctx, "WEBCHAT_EVENTS"); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"during outage 1", "during outage 2"} {
		mustResult(t, nc, cmd("sendMessage"), map[string]any{"message": text}, nil)
	}
	live.waitFor(t, "WebChatService.messageReceived", func(e map[string]any) bool { return strings.Contains(dump(e), `during outage 2`) })
	if st := d.bridge.StreamStats(); st.Pending == 0 {
		t.Fatalf("no event awaits the stream during the outage: %+v", st)
	}
	stream, err := natsbridge.EnsureStream(ctx, js, "webchat", *es)
	if err != nil {
		t.Fatal(err)
	}
	mustResult(t, nc, cmd("sendMessage"), map[string]any{"message": "after outage"}, nil)
	live.waitFor(t, "WebChatService.messageReceived", func(e map[string]any) bool { return strings.Contains(dump(e), `after outage`) })

	// Every event published since the outage began reaches the stream, once.
	live.mu.Lock()
	var want []float64
	for _, e := range live.events {
		if strings.Contains(dump(e), "outage") && e["event"] == "WebChatService.messageReceived" {
			want = append(want, e["seq"].(float64))
		}
	}
	live.mu.Unlock()
	stored := map[float64]int{}
	deadline := time.Now().Add(wait)
	for {
		clear(stored)
		cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj.Events(id)}})
		if err != nil {
			t.Fatal(err)
		}
		batch, err := cons.Fetch(1000, jetstream.FetchMaxWait(300*time.Millisecond))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			var e map[string]any
			if err := json.Unmarshal(m.Data(), &e); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Subject(), "webchat."+id+".evt.") {
				t.Fatalf("stored under %q, want the live subject", m.Subject())
			}
			stored[e["seq"].(float64)]++
		}
		missing := 0
		for _, s := range want {
			if stored[s] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			if missing > 0 {
				t.Fatalf("%d of the events %v never reached the stream; stored %v; stats %+v", missing, want, stored, d.bridge.StreamStats())
			}
			break
		}
	}
	for s, n := range stored {
		if n != 1 {
			t.Errorf("event seq %v stored %d times", s, n)
		}
	}
	live.mu.Lock()
	seen := map[float64]int{}
	for _, e := range live.events {
		seen[e["seq"].(float64)]++
	}
	live.mu.Unlock()
	for s, n := range seen {
		if n != 1 {
			t.Errorf("live subscribers saw seq %v %d times", s, n)
		}
	}
	if st := d.bridge.StreamStats(); st.Retried == 0 || st.Lost != 0 {
		t.Errorf("stream stats %+v: want retries and nothing lost", st)
	}
}
