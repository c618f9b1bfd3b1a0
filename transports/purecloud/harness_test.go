package purecloud_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud"
	"github.com/cxbus/webchat/transports/purecloud/wire"
	"github.com/cxbus/webchat/transports/transporttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fastSim: routing at once, agent "Alex" behind an ACD member, heartbeats every 100 ms.
func fastSim() simpc.Options {
	return simpc.Options{
		RoutingDelay:      -1,
		AlertDelay:        -1,
		AnswerDelay:       -1,
		CloseGrace:        -1,
		HeartbeatInterval: 100 * time.Millisecond,
		Script:            &simpc.Script{ACD: true, Agent: &simpc.AgentProfile{Name: "Alex", AvatarURL: "https://example.com/alex.png"}},
	}
}

func startSim(t *testing.T, o simpc.Options) *simpc.Server {
	t.Helper()
	s, err := simpc.Start("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// baseConfig points the client at the simulator.
func baseConfig(url string) purecloud.Config {
	return purecloud.Config{Transport: purecloud.TransportConfig{
		Type:                           transports.TypePureCloud,
		DataURL:                        url,
		DeploymentKey:                  "deployment-1",
		OrgGUID:                        "org-1",
		InteractionData:                purecloud.InteractionData{Routing: purecloud.Routing{TargetAddress: "Chat Queue"}},
		SocketHeartbeatTrackerInterval: 3000,
		SocketReconnectInterval:        200,
		TransferConfirmDelay:           200,
	}}
}

// newClient builds a transport with its own HTTP client (closed at cleanup,
// so goleak sees no idle connections) and records its events.
func newClient(t *testing.T, cfg purecloud.Config, mod ...func(*transports.Options)) (*purecloud.Transport, *transporttest.Recorder) {
	t.Helper()
	opts := transports.Options{HTTPClient: newHTTPClient(t)}
	for _, m := range mod {
		m(&opts)
	}
	tr, err := purecloud.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	rec := transporttest.Record(tr)
	t.Cleanup(func() {
		_ = tr.Close()
		<-rec.Done()
	})
	return tr, rec
}

// newHTTPClient returns a client whose idle connections close at cleanup.
func newHTTPClient(t *testing.T) *http.Client {
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

var countKind = transporttest.Count

var messages = transporttest.Messages

func hasMessage(evs []transports.Event, pred func(transports.Message) bool) bool {
	for _, m := range messages(evs) {
		if pred(m) {
			return true
		}
	}
	return false
}

func textFrom(text string, typ transports.ParticipantType) func(transports.Message) bool {
	return func(m transports.Message) bool {
		return m.Type == transports.TypeMessage && m.Text == text && m.From.Type == typ
	}
}

// agentJoined reports a ParticipantJoined from an agent.
func agentJoined(evs []transports.Event) bool {
	return hasMessage(evs, func(m transports.Message) bool {
		return m.Type == transports.TypeParticipantJoined && m.From.Type == transports.ParticipantAgent
	})
}

// chatIDs returns the ids of the simulator transcript's standard and notice messages.
func chatIDs(conv *simpc.Conversation) []string {
	var ids []string
	for _, m := range conv.Messages() {
		if m.BodyType == wire.BodyStandard || m.BodyType == wire.BodyNotice || m.BodyType == "" {
			ids = append(ids, m.ID)
		}
	}
	return ids
}

// checkTranscript waits until every standard/notice message of the
// simulator's transcript was delivered, then asserts: none lost, none
// delivered twice, same order (ordered=false skips the order check).
// eventSource is what checkTranscript reads: a live Recorder, or events already collected.
type eventSource interface {
	WaitFor(t testing.TB, what string, cond func([]transports.Event) bool) []transports.Event
}

// collected is a fixed set of events: WaitFor checks cond once.
type collected []transports.Event

func (c collected) WaitFor(t testing.TB, what string, cond func([]transports.Event) bool) []transports.Event {
	t.Helper()
	if !cond(c) {
		t.Fatalf("the collected events lack %s: %v", what, transporttest.Kinds(c))
	}
	return c
}

func checkTranscript(t *testing.T, conv *simpc.Conversation, rec eventSource, ordered bool) (lost, dup int) {
	t.Helper()
	want := chatIDs(conv)
	wantSet := map[string]bool{}
	for _, id := range want {
		wantSet[id] = true
	}
	evs := rec.WaitFor(t, "every transcript message delivered", func(evs []transports.Event) bool {
		got := map[string]bool{}
		for _, m := range messages(evs) {
			got[m.ID] = true
		}
		for _, id := range want {
			if !got[id] {
				return false
			}
		}
		return true
	})
	var got []string
	seen := map[string]int{}
	for _, m := range messages(evs) {
		if m.Type != transports.TypeMessage {
			continue
		}
		seen[m.ID]++
		if seen[m.ID] > 1 {
			dup++
			continue
		}
		got = append(got, m.ID)
	}
	for _, id := range want {
		if seen[id] == 0 {
			lost++
		}
	}
	if lost != 0 || dup != 0 {
		t.Errorf("lost %d, duplicated %d (want 0, 0)", lost, dup)
	}
	if ordered {
		if len(got) != len(want) {
			t.Errorf("delivered %d chat messages, transcript has %d", len(got), len(want))
		} else {
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("order differs at %d: got %s, want %s", i, got[i], want[i])
					break
				}
			}
		}
	}
	t.Logf("transcript: %d messages, lost %d, duplicated %d", len(want), lost, dup)
	return lost, dup
}

// startChat starts a chat and waits for the socket and the agent.
func startChat(t *testing.T, ctx context.Context, srv *simpc.Server, tr *purecloud.Transport, rec *transporttest.Recorder) *simpc.Conversation {
	t.Helper()
	sd, err := tr.Start(ctx, transports.StartRequest{Nickname: "Joan", Email: "joan@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if sd.Get(purecloud.KeyConversationID) == "" || sd.Get(purecloud.KeyJWT) == "" {
		t.Fatalf("session data incomplete: %v", sd)
	}
	conv, err := srv.NextConversation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec.WaitKind(t, transports.EventConnected)
	rec.WaitFor(t, "agent joined", agentJoined)
	return conv
}
