package purecloud

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// fuzzTransport is an active transport with keys but no loop or socket;
// frames are fed to a loopState directly. Member lookups go to url.
func fuzzTransport(tb testing.TB, url string, hc *http.Client) (*Transport, *loopState) {
	tb.Helper()
	cfg := Config{Transport: TransportConfig{DataURL: url, ReorderWindow: 0}}
	tr, err := New(cfg, transports.Options{HTTPClient: hc})
	if err != nil {
		tb.Fatal(err)
	}
	tr.keys = sessionKeys{conv: "c1", member: "me", jwt: "not-a-jwt", stream: "ws://127.0.0.1:1/v1/token/x", name: "Joan"}
	tr.life.Phase = transports.PhaseActive
	tr.members.put("me", &member{role: wire.RoleCustomer, name: "Joan"})
	tr.members.put("a1", &member{role: wire.RoleAgent, name: "Alex"})
	tr.members.put("w1", &member{role: wire.RoleWorkflow, name: "Flow"})
	tr.members.put("q1", &member{role: wire.RoleACD})
	ls := newLoopState(tr)
	ls.gen = 1
	return tr, ls
}

func frameSeeds() []string {
	msg := func(id, sender, bt, body string) string {
		return `{"topicName":"v2.conversations.chats.c1.messages","version":"2","eventBody":{"id":"` + id +
			`","conversation":{"id":"c1"},"sender":{"id":"` + sender + `"},"body":"` + body + `","bodyType":"` + bt +
			`","timestamp":"2020-08-05T13:10:02.113Z"},"metadata":{"CorrelationId":"x","type":"message"}}`
	}
	mc := func(member, state string) string {
		return `{"topicName":"v2.conversations.chats.c1.members","version":"2","eventBody":{"id":"e1","conversation":{"id":"c1"},"member":{"id":"` +
			member + `","state":"` + state + `"},"timestamp":"2020-08-05T13:09:51.002Z"},"metadata":{"CorrelationId":"x","type":"member-change"}}`
	}
	return []string{
		string(wire.HeartbeatFrame), string(wire.PongFrame), string(wire.SocketClosingFrame),
		msg("m1", "a1", "standard", "Hello"), msg("m2", "me", "standard", "Hi"), msg("m3", "a1", "member-join", ""),
		msg("m4", "a1", "member-leave", ""), msg("m5", "w1", "notice", "Welcome"), msg("m6", "q1", "member-join", ""),
		msg("m7", "a1", "media-request", ""), msg("m8", "me", "member-leave", ""), msg("m9", "zz", "standard", "?"),
		`{"topicName":"v2.conversations.chats.c1.messages","version":"2","eventBody":{"id":"t1","conversation":{"id":"c1"},"sender":{"id":"a1"},"timestamp":"2020-08-05T13:10:35.673Z"},"metadata":{"CorrelationId":"x","type":"typing-indicator"}}`,
		mc("a1", "DISCONNECTED"), mc("a1", "CONNECTED"), mc("me", "DISCONNECTED"), mc("zz", "ALERTING"),
		`{"topicName":"v2.conversations.chats.other.messages","metadata":{"type":"message"},"eventBody":{}}`,
		`{"topicName":"v2.conversations.chats.c1.messages","metadata":{"type":"message"},"eventBody":null}`,
		`{"topicName":"v2.conversations.chats.c1.messages","metadata":{"type":"message"},"eventBody":{"id":5}}`,
		`{"topicName":"v2.conversations.chats.c1.members","metadata":{"type":"member-change"},"eventBody":{"member":{}}}`,
		`{"topicName":"v2.something.else"}`, `[]`, `null`, `"x"`, `{`, ``, `{"topicName":7}`,
		msg("m10", "a1", "standard", strings.Repeat("x", 5000)),
	}
}

// FuzzFrame feeds arbitrary event-stream frames through decode, dedupe and
// normalization. It must never panic; malformed frames become EventError;
// every delivered message has an id, a type and a sender type.
func FuzzFrame(f *testing.F) {
	for _, s := range frameSeeds() {
		f.Add([]byte(s))
	}
	o := simpc.Options{HeartbeatInterval: -1, RoutingDelay: -1, AlertDelay: -1, AnswerDelay: -1}
	srv := simpc.NewServer(o) // answers the lookups of unknown members (401: bad token)
	hc := &http.Client{Transport: &http.Transport{}}
	f.Cleanup(func() { hc.CloseIdleConnections(); srv.Close() })
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, ls := fuzzTransport(t, srv.URL, hc)
		var evs []transports.Event
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ev := range tr.events {
				evs = append(evs, ev)
			}
		}()
		malformed := json.Valid(data) == false
		_ = ls.handle(item{kind: itemFrame, gen: 1, data: data, at: time.Now()})
		ls.flushHold()
		ls.flush()
		ls.stopTimers()
		_ = tr.Close()
		<-done
		sawError := false
		for _, ev := range evs {
			if ev.Kind < transports.EventMessages || ev.Kind > transports.EventEnded {
				t.Fatalf("invalid event kind %v", ev.Kind)
			}
			if ev.Kind == transports.EventError {
				sawError = true
			}
			for _, m := range ev.Messages {
				if m.ID == "" || m.Type == "" || m.From.Type == "" {
					t.Fatalf("incomplete message %+v", m)
				}
			}
		}
		if malformed && !sawError {
			t.Fatalf("malformed frame %q not reported", data)
		}
	})
}
