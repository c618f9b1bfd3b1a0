package natsbridge_test

import (
	"context"
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

	var opened natsbridge.OpenResult
	mustResult(t, nc, subj.Open(), nil, &opened)
	live := subscribeEvents(t, nc, subj.Events(opened.ID))
	cmd := func(name string) string { return subj.Command(opened.ID, "WebChatService."+name) }
	mustResult(t, nc, cmd("startChat"), map[string]any{"nickname": "Ada"}, nil)
	live.waitFor(t, "WebChatService.agentConnected", nil)
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
		cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj.Events(opened.ID)}})
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
				got = append(got, strings.TrimPrefix(m.Subject(), "webchat."+opened.ID+".evt."))
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
	m := nats.NewMsg(subj.Event(opened.ID, "WebChatService.ended"))
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
