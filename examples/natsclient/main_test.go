package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/natsbridge/embedded"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	_ "github.com/cxbus/webchat/transports/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/nats-io/nats-server/v2/server.(*Server).startGoRoutine.func1"))
}

// TestRunAgainstDaemon runs the client against the same pieces `webchat serve --sim` wires up.
func TestRunAgainstDaemon(t *testing.T) {
	sim, err := simpc.Start("127.0.0.1:0", simpc.Options{
		RoutingDelay: -1, AlertDelay: -1, AnswerDelay: -1, CloseGrace: -1,
		Script: &simpc.Script{Agent: &simpc.AgentProfile{Name: "Sam"}, AgentGreeting: "Hello!", Echo: true, EchoPrefix: "You said: "},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	srv, err := embedded.Start(embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	host, err := webchatservice.NewHost(webchatservice.HostOptions{Config: map[string]any{"transport": map[string]any{
		"type": "purecloud-v2-sockets", "dataURL": sim.URL, "deploymentKey": "d", "orgGuid": "o",
		"interactionData": map[string]any{"routing": map[string]any{"targetAddress": "Q"}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	bridge, err := natsbridge.New(natsbridge.Options{Conn: nc, Host: host})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := bridge.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		bridge.Shutdown(context.Background())
		host.Shutdown(context.Background())
	}()

	var out bytes.Buffer
	if err := run(ctx, srv.ClientURL(), "webchat", &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{"session opened", "agent connected", "Sam: Hello!", "Sam: You said: Hi, I need help with my order", "chat ended, session closed"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run(ctx, "nats://127.0.0.1:1", "webchat", &out); err == nil || !strings.Contains(err.Error(), "is `webchat serve` running?") {
		t.Fatalf("no daemon: %v", err)
	}
}
