package natsbridge_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cxbus/webchat/natsbridge"
	"github.com/cxbus/webchat/natsbridge/embedded"
	"github.com/cxbus/webchat/webchatservice"
)

// startCluster starts n JetStream servers routed into one cluster and waits for JetStream.
func startCluster(t *testing.T, n int) []*embedded.Server {
	t.Helper()
	var servers []*embedded.Server
	ports := make([]int, n)
	routes := make([]string, n)
	for i := range ports {
		p, err := embedded.FreePort("127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		ports[i], routes[i] = p, fmt.Sprintf("nats-route://127.0.0.1:%d", p)
	}
	for i := range n {
		s, err := embedded.Start(embedded.Options{
			Name: fmt.Sprintf("n%d", i+1), JetStream: true, Dir: t.TempDir(),
			ClusterName: "webchat-test", ClusterPort: ports[i], Routes: routes, NoWait: true,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Shutdown)
		servers = append(servers, s)
	}
	for _, s := range servers {
		if err := s.Ready(wait); err != nil {
			t.Fatal(err)
		}
	}
	// Wait until JetStream has a meta leader and can create an R3 bucket.
	nc := connect(t, servers[n-1].ClientURL())
	js, _ := jetstream.New(nc)
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jetstream cluster not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return servers
}

func TestFailoverAcrossDaemons(t *testing.T) {
	sim := startSim(t)
	servers := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	setup := connect(t, servers[0].ClientURL())
	js, _ := jetstream.New(setup)
	var buckets natsbridge.Buckets
	var err error
	for { // the R3 assets may need a moment after the meta leader appears
		if buckets, err = natsbridge.CreateBuckets(ctx, js, "webchat", 2*time.Second, 3); err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	store := natsbridge.NewKVStore(buckets.Snapshots)

	newDaemon := func(node string, srv *embedded.Server) *daemon {
		return startDaemon(t, srv.ClientURL(),
			webchatservice.HostOptions{Config: simConfig(sim.URL), Store: store},
			natsbridge.Options{NodeID: node, Ownership: &natsbridge.Ownership{
				Leases: buckets.Leases, Store: store, TTL: 2 * time.Second, ScanInterval: 200 * time.Millisecond,
			}})
	}
	daemons := map[string]*daemon{"alpha": newDaemon("alpha", servers[0]), "beta": newDaemon("beta", servers[1])}

	client := connect(t, servers[2].ClientURL())
	subj := natsbridge.Subjects{Prefix: "webchat"}
	opened, events, cmd := chatOverNATS(t, client)
	conv, err := sim.NextConversation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	say := func(text string) {
		if _, err := conv.Say(text, simSay()); err != nil {
			t.Fatal(err)
		}
	}
	// waitTexts consumes events until every text was seen (in any order).
	waitTexts := func(texts ...string) {
		t.Helper()
		missing := map[string]bool{}
		for _, x := range texts {
			missing[x] = true
		}
		for len(missing) > 0 {
			events.waitFor(t, "WebChatService.messageReceived", func(e map[string]any) bool {
				found := false
				for _, x := range textsOf(e) {
					if missing[x] {
						delete(missing, x)
						found = true
					}
				}
				return found
			})
		}
	}
	for i := range 3 {
		say(fmt.Sprintf("before %d", i))
		mustResult(t, client, cmd("sendMessage"), map[string]any{"message": fmt.Sprintf("guest before %d", i)}, nil)
	}
	waitTexts("before 2", "guest before 2")

	// A request for the session on the other daemon is forwarded to the owner.
	other := "beta"
	if opened.Node == "beta" {
		other = "alpha"
	}
	otherConn := connect(t, daemonURL(servers, other))
	var agents webchatservice.AgentsResult
	mustResult(t, otherConn, cmd("getAgents"), nil, &agents)
	if len(agents.Agents) != 1 {
		t.Fatalf("agents through forwarding: %+v", agents)
	}

	// Stop the owner mid-chat. The agent keeps talking while no daemon runs the session.
	daemons[opened.Node].stop(t)
	for i := range 3 {
		say(fmt.Sprintf("during %d", i))
	}
	// The other daemon adopts the session (scan), restores it from the snapshot and backfills.
	waitTexts("during 0", "during 1", "during 2")
	for i := range 3 {
		mustResult(t, client, cmd("sendMessage"), map[string]any{"message": fmt.Sprintf("guest after %d", i)}, nil)
		say(fmt.Sprintf("after %d", i))
	}
	waitTexts("after 2", "guest after 2")

	var list struct{ Sessions []natsbridge.SessionInfo }
	mustResult(t, client, subj.List(), nil, &list)
	if len(list.Sessions) != 1 || list.Sessions[0].Node != other {
		t.Fatalf("after failover the session should be owned by %s: %+v", other, list)
	}

	// Every message exactly once on the live (non-restoring) event stream; the guest's messages
	// reached the contact center exactly once each.
	counts := map[string]int{}
	for _, text := range events.messageTexts() {
		counts[text]++
	}
	var problems []string
	for _, prefix := range []string{"before", "during", "after", "guest before", "guest after"} {
		for i := range 3 {
			text := fmt.Sprintf("%s %d", prefix, i)
			if counts[text] != 1 {
				problems = append(problems, fmt.Sprintf("%q seen %d times", text, counts[text]))
			}
		}
	}
	guest := map[string]int{}
	for _, m := range conv.GuestMessages() {
		guest[m]++
	}
	for text, n := range guest {
		if n != 1 {
			problems = append(problems, fmt.Sprintf("guest message %q reached the agent %d times", text, n))
		}
	}
	if len(guest) != 6 {
		problems = append(problems, fmt.Sprintf("agent got %d distinct guest messages, want 6: %v", len(guest), keys(guest)))
	}
	if len(problems) > 0 {
		t.Fatalf("lost or duplicated:\n%v\nall texts: %v", problems, events.messageTexts())
	}
}

func daemonURL(servers []*embedded.Server, node string) string {
	if node == "alpha" {
		return servers[0].ClientURL()
	}
	return servers[1].ClientURL()
}

func textsOf(e map[string]any) []string {
	d, _ := e["data"].(map[string]any)
	if d == nil || d["restoring"] == true {
		return nil
	}
	var out []string
	msgs, _ := d["messages"].([]any)
	for _, m := range msgs {
		if mm, ok := m.(map[string]any); ok {
			if s, ok := mm["text"].(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
