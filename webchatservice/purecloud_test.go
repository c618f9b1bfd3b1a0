package webchatservice_test

import (
	"testing"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/webchatservice"
)

func TestPureCloudHappyPath(t *testing.T) {
	sim := startSim(t, fastSimOptions())
	s := newSession(t, webchatservice.Options{Config: pureCloudConfig(sim.URL, nil)})
	s.waitFor(webchatservice.EventReady)

	s.must("startChat", map[string]any{"nickname": "Ada", "firstname": "Ada", "lastname": "Lovelace", "email": "ada@example.com"})
	started := s.waitFor(webchatservice.EventStarted)
	data := started.Data.(webchatservice.Started)["data"].(map[string]any)
	if data["jwt"] != "[redacted]" || data["conversationId"] == "" {
		t.Fatalf("started payload %s", dump(started.Data))
	}
	conv, err := sim.NextConversation(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	s.waitFor(webchatservice.EventAgentConnected)
	s.must("sendMessage", map[string]any{"message": "hello agent"})
	s.waitMessage("hello agent")
	if _, err := conv.Say("hi Ada", simSay()); err != nil {
		t.Fatal(err)
	}
	s.waitMessage("hi Ada")
	s.must("endChat", nil)
	s.waitFor(webchatservice.EventEnded)
	t.Logf("events: %v", s.rec.names())
}

func simSay() simpc.SayOptions { return simpc.SayOptions{} }
