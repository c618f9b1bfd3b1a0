package natsbridge_test

import (
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/webchatservice"
)

// Benchmarks with their baselines in this file:
//
//	BenchmarkBridgedCommand     vs BenchmarkRawRequestReply   (target ≤ 2×)
//	BenchmarkBridgedEvents      vs BenchmarkRawPublish        (target ≥ 50% of raw throughput)
//	                            and BenchmarkRawPublishEncoding (raw publish that encodes each event)
//
// Both sides use one embedded nats-server on loopback and one client connection each way.

type benchEnv struct {
	nc      *nats.Conn // client side
	session string
	svcBus  *bus.Bus
}

func newBenchEnv(b *testing.B) *benchEnv {
	sim := startSim(b)
	srv := startNATS(b, false)
	d := startDaemon(b, srv.ClientURL(), webchatservice.HostOptions{Config: simConfig(sim.URL)}, natsbridge.Options{})
	nc := connect(b, srv.ClientURL())
	var opened natsbridge.OpenResult
	mustResult(b, nc, natsbridge.Subjects{Prefix: "webchat"}.Open(), nil, &opened)
	s, err := d.host.Get(opened.ID)
	if err != nil {
		b.Fatal(err)
	}
	return &benchEnv{nc: nc, session: opened.ID, svcBus: s.Bus}
}

// BenchmarkRawRequestReply is a NATS request answered by a plain subscriber that replies with a
// small JSON body: the floor for any request-reply service on this connection.
func BenchmarkRawRequestReply(b *testing.B) {
	srv := startNATS(b, false)
	server := connect(b, srv.ClientURL())
	reply := []byte(`{"result":{"agents":{}}}`)
	sub, err := server.Subscribe("bench.raw", func(m *nats.Msg) { m.Respond(reply) })
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Unsubscribe()
	server.Flush()
	nc := connect(b, srv.ClientURL())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nc.Request("bench.raw", nil, wait); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBridgedCommand is WebChatService.getAgents over NATS: micro endpoint, subject
// parsing, allow-list, the session's bus, the service's handler, JSON reply.
func BenchmarkBridgedCommand(b *testing.B) {
	env := newBenchEnv(b)
	subject := natsbridge.Subjects{Prefix: "webchat"}.Command(env.session, "WebChatService.getAgents")
	b.ReportAllocs()
	for b.Loop() {
		msg, err := env.nc.Request(subject, nil, wait)
		if err != nil {
			b.Fatal(err)
		}
		if len(msg.Data) == 0 || msg.Header.Get("Nats-Service-Error-Code") != "" {
			b.Fatalf("reply %s", msg.Data)
		}
	}
}

// BenchmarkRawPublish publishes pre-encoded events of the same size as the bridged ones and
// counts them at a subscriber; ns/op is per event delivered.
func BenchmarkRawPublish(b *testing.B) {
	srv := startNATS(b, false)
	pub := connect(b, srv.ClientURL())
	data, _ := json.Marshal(bus.Event{Time: time.Now(), Publisher: "App", Name: "App.tick", Data: map[string]any{"n": 12345}})
	runFanOut(b, srv.ClientURL(), "bench.raw.evt.>", func(n int) {
		for range n {
			pub.Publish("bench.raw.evt.App.tick", data)
		}
		pub.Flush()
	})
}

// BenchmarkRawPublishEncoding is the raw publish of an application that encodes each event
// itself (json.Marshal of the same bus.Event, then publish): the fair floor for bridging Go values.
func BenchmarkRawPublishEncoding(b *testing.B) {
	srv := startNATS(b, false)
	pub := connect(b, srv.ClientURL())
	ev := bus.Event{Time: time.Now(), Publisher: "App", Name: "App.tick", Data: map[string]any{"n": 12345}}
	runFanOut(b, srv.ClientURL(), "bench.raw.evt.>", func(n int) {
		for range n {
			data, _ := json.Marshal(ev)
			pub.Publish("bench.raw.evt.App.tick", data)
		}
		pub.Flush()
	})
}

// BenchmarkBridgedEvents publishes events on a session's bus and counts them at a NATS
// subscriber of the session's subject: bus delivery to the bridge, JSON encoding, headers, publish.
func BenchmarkBridgedEvents(b *testing.B) {
	env := newBenchEnv(b)
	app, err := env.svcBus.RegisterPlugin("App")
	if err != nil {
		b.Fatal(err)
	}
	data := map[string]any{"n": 12345}
	runFanOut(b, env.nc.ConnectedUrl(), "webchat."+env.session+".evt.App.>", func(n int) {
		for range n {
			app.Publish("tick", data)
		}
	})
}

// runFanOut times publishing b.N events until a subscriber on subject has received all of them.
func runFanOut(b *testing.B, url, subject string, publish func(n int)) {
	sub := connect(b, url)
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	s, err := sub.Subscribe(subject, func(m *nats.Msg) {
		if got.Add(1) == want.Load() {
			done <- struct{}{}
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	s.SetPendingLimits(-1, -1)
	defer s.Unsubscribe()
	sub.Flush()
	b.ReportAllocs()
	b.ResetTimer()
	want.Store(int64(b.N))
	publish(b.N)
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		b.Fatalf("received %d of %d", got.Load(), b.N)
	}
	b.StopTimer()
}
