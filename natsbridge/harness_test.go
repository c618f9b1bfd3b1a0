package natsbridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.uber.org/goleak"

	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/natsbridge/embedded"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	_ "github.com/cxbus/webchat/transports/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// nats-server and nats.go keep a few process-wide goroutines after shutdown.
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*Server).startGoRoutine"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startGoRoutine.func1"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.startRouteHandling"),
		goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*ipQueue[...]).push"),
	)
}

const wait = 20 * time.Second

func startSim(t testing.TB) *simpc.Server {
	t.Helper()
	s, err := simpc.Start("127.0.0.1:0", simpc.Options{RoutingDelay: -1, AlertDelay: -1, AnswerDelay: -1, CloseGrace: -1,
		HeartbeatInterval: 100 * time.Millisecond,
		Script:            &simpc.Script{Agent: &simpc.AgentProfile{Name: "Alex"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func simConfig(url string) map[string]any {
	return map[string]any{"transport": map[string]any{
		"type": "purecloud-v2-sockets", "dataURL": url, "deploymentKey": "d-1", "orgGuid": "o-1",
		"interactionData":                map[string]any{"routing": map[string]any{"targetAddress": "Chat"}},
		"socketHeartbeatTrackerInterval": 3000, "socketReconnectInterval": 100, "transferConfirmDelay": 200,
	}}
}

func startNATS(t testing.TB, js bool) *embedded.Server {
	t.Helper()
	o := embedded.Options{}
	if js {
		o.JetStream, o.Dir = true, t.TempDir()
	}
	s, err := embedded.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

func connect(t testing.TB, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.Name(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// daemon is a Host + Bridge on one connection.
type daemon struct {
	host   *webchatservice.Host
	bridge *natsbridge.Bridge
	nc     *nats.Conn
}

func startDaemon(t testing.TB, natsURL string, hopts webchatservice.HostOptions, bopts natsbridge.Options) *daemon {
	t.Helper()
	nc := connect(t, natsURL)
	host, err := webchatservice.NewHost(hopts)
	if err != nil {
		t.Fatal(err)
	}
	bopts.Conn, bopts.Host = nc, host
	br, err := natsbridge.New(bopts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := br.Start(ctx); err != nil {
		t.Fatal(err)
	}
	d := &daemon{host: host, bridge: br, nc: nc}
	t.Cleanup(func() { d.stop(t) })
	return d
}

func (d *daemon) stop(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := d.bridge.Shutdown(ctx); err != nil {
		t.Errorf("bridge shutdown: %v", err)
	}
	if err := d.host.Shutdown(ctx); err != nil {
		t.Errorf("host shutdown: %v", err)
	}
	d.nc.Drain()
}

// request sends a JSON request and decodes the reply envelope.
func request(t testing.TB, nc *nats.Conn, subject string, payload any) (*nats.Msg, natsbridge.Reply) {
	t.Helper()
	var data []byte
	switch p := payload.(type) {
	case nil:
	case []byte:
		data = p
	case string:
		data = []byte(p)
	default:
		data, _ = json.Marshal(p)
	}
	msg, err := nc.Request(subject, data, wait)
	if err != nil {
		t.Fatalf("request %s: %v", subject, err)
	}
	var r natsbridge.Reply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		t.Fatalf("reply of %s is not an envelope: %s", subject, msg.Data)
	}
	return msg, r
}

func mustResult(t testing.TB, nc *nats.Conn, subject string, payload any, into any) {
	t.Helper()
	_, r := request(t, nc, subject, payload)
	if r.Error != nil {
		t.Fatalf("%s: error %d %s", subject, r.Error.Code, r.Error.Message)
	}
	if into != nil {
		if err := json.Unmarshal(r.Result, into); err != nil {
			t.Fatalf("%s: result %s: %v", subject, r.Result, err)
		}
	}
}

func wantError(t testing.TB, nc *nats.Conn, subject string, payload any, code int, message string) {
	t.Helper()
	msg, r := request(t, nc, subject, payload)
	if r.Error == nil {
		t.Fatalf("%s: want error %d, got result %s", subject, code, r.Result)
	}
	if r.Error.Code != code || (message != "" && r.Error.Message != message) {
		t.Fatalf("%s: got error %d %q, want %d %q", subject, r.Error.Code, r.Error.Message, code, message)
	}
	if msg.Header.Get(micro.ErrorCodeHeader) == "" || msg.Header.Get(micro.ErrorHeader) != r.Error.Message {
		t.Fatalf("%s: micro error headers %v", subject, msg.Header)
	}
}

// eventLog subscribes to a session's events.
type eventLog struct {
	mu     sync.Mutex
	events []map[string]any
	ch     chan map[string]any
}

func subscribeEvents(t testing.TB, nc *nats.Conn, subject string) *eventLog {
	t.Helper()
	l := &eventLog{ch: make(chan map[string]any, 4096)}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		var e map[string]any
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Errorf("event %s not JSON: %s", m.Subject, m.Data)
			return
		}
		l.mu.Lock()
		l.events = append(l.events, e)
		l.mu.Unlock()
		l.ch <- e
	})
	if err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	t.Cleanup(func() { sub.Unsubscribe() })
	return l
}

func (l *eventLog) waitFor(t testing.TB, name string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case e := <-l.ch:
			if e["event"] == name && (ok == nil || ok(e)) {
				return e
			}
		case <-deadline:
			l.mu.Lock()
			var names []string
			for _, e := range l.events {
				names = append(names, fmt.Sprint(e["event"]))
				if e["event"] == "WebChatService.restoreFailed" || e["event"] == "WebChatService.error" || e["event"] == "WebChatService.messageReceived" {
					names = append(names, dump(e["data"]))
				}
			}
			l.mu.Unlock()
			t.Fatalf("timed out waiting for %s; events: %v", name, names)
		}
	}
}

// messageTexts collects the message texts of messageReceived events (restoring:false only).
func (l *eventLog) messageTexts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, e := range l.events {
		if e["event"] != "WebChatService.messageReceived" {
			continue
		}
		d := e["data"].(map[string]any)
		if d["restoring"] == true {
			continue
		}
		for _, m := range d["messages"].([]any) {
			mm := m.(map[string]any)
			if mm["type"] == "Message" {
				out = append(out, mm["text"].(string))
			}
		}
	}
	return out
}

func simSay() simpc.SayOptions { return simpc.SayOptions{} }

// chatOverNATS opens a session over nc, subscribes to its events, starts a chat and waits for
// the agent. cmd builds the subject of one of the session's WebChatService commands.
func chatOverNATS(t testing.TB, nc *nats.Conn) (opened natsbridge.OpenResult, live *eventLog, cmd func(command string) string) {
	t.Helper()
	subj := natsbridge.Subjects{Prefix: "webchat"}
	mustResult(t, nc, subj.Open(), nil, &opened)
	live = subscribeEvents(t, nc, subj.Events(opened.ID))
	cmd = func(command string) string { return subj.Command(opened.ID, "WebChatService."+command) }
	mustResult(t, nc, cmd("startChat"), map[string]any{"nickname": "Ada"}, nil)
	live.waitFor(t, "WebChatService.agentConnected", nil)
	return opened, live, cmd
}
