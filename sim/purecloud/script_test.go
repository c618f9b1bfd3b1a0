package purecloud

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func TestDefaultScriptWithWorkflowGreeting(t *testing.T) {
	clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
	s := newTestServer(t, Options{SigningKey: sharedKey(), Clock: clk, HeartbeatInterval: -1,
		Script: &Script{Workflow: true, WorkflowName: "Flow", WorkflowGreeting: "Welcome!", ACD: true,
			Agent: &AgentProfile{Name: "Alex", AvatarURL: "https://example.com/a.png"}, AgentGreeting: "Hi, I'm Alex"}})
	a := createChat(t, s)
	st := a.attach()
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage})
	clk.Advance(DefaultRoutingDelay)
	evs := st.expect(
		want{kind: wire.KindMemberChange, state: wire.StateConnected}, // WORKFLOW
		want{kind: wire.KindMessage, bt: wire.BodyMemberJoin},
		want{kind: wire.KindMessage, bt: wire.BodyNotice, body: "Welcome!"},
		want{kind: wire.KindMemberChange, state: wire.StateDisconnected},
		want{kind: wire.KindMessage, bt: wire.BodyMemberLeave},
		want{kind: wire.KindMemberChange, state: wire.StateConnected}, // ACD
		want{kind: wire.KindMessage, bt: wire.BodyMemberJoin},
	)
	wf := evs[0].MemberChange.Member.ID
	clk.Advance(DefaultAlertDelay)
	evs = st.expect(want{kind: wire.KindMemberChange, state: wire.StateAlerting})
	agent := evs[0].MemberChange.Member.ID
	clk.Advance(DefaultAnswerDelay)
	st.expect(
		want{kind: wire.KindMemberChange, member: agent, state: wire.StateConnected},
		want{kind: wire.KindMessage, member: agent, bt: wire.BodyMemberJoin},
		want{kind: wire.KindMemberChange, state: wire.StateDisconnected}, // ACD leaves
		want{kind: wire.KindMessage, bt: wire.BodyMemberLeave},
		want{kind: wire.KindMessage, member: agent, body: "Hi, I'm Alex"},
	)
	if m := memberState(t, a, wf); m.Role != wire.RoleWorkflow || m.DisplayName != "Flow" {
		t.Fatalf("workflow %+v", m)
	}
	if m := memberState(t, a, agent); m.Role != wire.RoleAgent || m.DisplayName != "Alex" || m.AvatarImageURL == "" || m.State != wire.StateConnected {
		t.Fatalf("agent %+v", m)
	}
}

func TestScriptedRepliesEchoAndHook(t *testing.T) {
	clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
	var mu sync.Mutex
	var hooked []string
	hookDone := make(chan struct{}, 10)
	o := fastOpts()
	o.Clock = clk
	o.Script = &Script{Agent: &AgentProfile{Name: "Bot"}, Echo: true, EchoPrefix: "echo: ",
		Replies: []Reply{{Match: "PRICE", Text: "It costs 5", Delay: 2 * time.Second, Typing: true}},
		OnGuestMessage: func(c *Conversation, m wire.WebChatMessage) {
			mu.Lock()
			hooked = append(hooked, m.Body)
			mu.Unlock()
			hookDone <- struct{}{}
		}}
	s := newTestServer(t, o)
	a := createChat(t, s)
	st := a.attach()
	clk.Advance(0)
	evs := st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage},
		want{kind: wire.KindMemberChange, state: wire.StateAlerting},
		want{kind: wire.KindMemberChange, state: wire.StateConnected}, want{kind: wire.KindMessage, bt: wire.BodyMemberJoin})
	agent := evs[2].MemberChange.Member.ID
	a.send("what's the price?")
	st.expect(want{kind: wire.KindMessage, member: a.me()}, want{kind: wire.KindTyping, member: agent})
	clk.Advance(2 * time.Second)
	st.expect(want{kind: wire.KindMessage, member: agent, body: "It costs 5"})
	a.send("hello")
	st.expect(want{kind: wire.KindMessage, member: a.me()}, want{kind: wire.KindMessage, member: agent, body: "echo: hello"})
	s.Conversation(a.conv()).SetEcho(false)
	a.send("quiet")
	st.expect(want{kind: wire.KindMessage, member: a.me(), body: "quiet"})
	for i := 0; i < 3; i++ {
		<-hookDone
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(hooked) != "[what's the price? hello quiet]" {
		t.Fatalf("hook saw %v", hooked)
	}
}

func TestAgentAPI(t *testing.T) {
	o := fastOpts()
	o.Script = &Script{} // nobody routed: the test drives the agent
	s := newTestServer(t, o)
	a := createChat(t, s)
	st := a.attach()
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage})
	conv := s.Conversation(a.conv())
	if _, err := conv.Say("x", SayOptions{}); err != ErrNoAgent {
		t.Fatalf("say without agent: %v", err)
	}
	if err := conv.LeaveAgent(); err != ErrNoAgent {
		t.Fatalf("leave without agent: %v", err)
	}
	first, err := conv.JoinAgent(AgentProfile{Name: "First"}, JoinOptions{Greeting: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv.JoinAgent(AgentProfile{Name: "Again"}, JoinOptions{}); err != ErrAgent {
		t.Fatalf("second join: %v", err)
	}
	st.expect(want{kind: wire.KindMemberChange, member: first, state: wire.StateAlerting},
		want{kind: wire.KindMemberChange, member: first, state: wire.StateConnected},
		want{kind: wire.KindMessage, member: first, bt: wire.BodyMemberJoin},
		want{kind: wire.KindMessage, member: first, body: "hello"})
	if err := conv.Typing(); err != nil {
		t.Fatal(err)
	}
	if _, err := conv.Say("note", SayOptions{Notice: true}); err != nil {
		t.Fatal(err)
	}
	st.expect(want{kind: wire.KindTyping, member: first}, want{kind: wire.KindMessage, member: first, bt: wire.BodyNotice})
	second, err := conv.Transfer(AgentProfile{Name: "Second"}, JoinOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st.expect(want{kind: wire.KindMemberChange, member: first, state: wire.StateDisconnected},
		want{kind: wire.KindMessage, member: first, bt: wire.BodyMemberLeave},
		want{kind: wire.KindMemberChange, member: second, state: wire.StateAlerting},
		want{kind: wire.KindMemberChange, member: second, state: wire.StateConnected},
		want{kind: wire.KindMessage, member: second, bt: wire.BodyMemberJoin})
	if m := memberState(t, a, a.me()); m.State != wire.StateConnected {
		t.Fatalf("guest after transfer %+v", m)
	}
	if err := conv.LeaveAgent(); err != nil {
		t.Fatal(err)
	}
	st.expect(want{kind: wire.KindMemberChange, member: second, state: wire.StateDisconnected},
		want{kind: wire.KindMessage, member: second, bt: wire.BodyMemberLeave})
	if ended, _ := conv.Ended(); ended {
		t.Fatal("agent leave ended the chat")
	}
	if err := conv.SystemNotice("queued again"); err != nil {
		t.Fatal(err)
	}
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage, bt: wire.BodyMemberJoin},
		want{kind: wire.KindMessage, bt: wire.BodyNotice, body: "queued again"},
		want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage, bt: wire.BodyMemberLeave})
	mr, err := conv.OfferMediaRequest([]wire.MediaRequestType{wire.MediaScreenshare}, true)
	if err != nil || mr.State != wire.MediaPending || mr.SelfURI != wire.MediaRequestPath(a.conv(), mr.ID) {
		t.Fatalf("media %+v %v", mr, err)
	}
	st.expect(want{kind: wire.KindMessage, bt: wire.BodyMediaRequest})
	if _, err := conv.OfferMediaRequest([]wire.MediaRequestType{"FILE"}, false); err == nil {
		t.Fatal("bad media type accepted")
	}
	// Ringing agent that never answers is just DISCONNECTED at end (no member-leave).
	ring, _ := conv.JoinAgent(AgentProfile{Name: "Ringing"}, JoinOptions{Ring: time.Hour})
	st.expect(want{kind: wire.KindMemberChange, member: ring, state: wire.StateAlerting})
	if err := conv.End(); err != nil {
		t.Fatal(err)
	}
	st.expect(want{kind: wire.KindMemberChange, member: ring, state: wire.StateDisconnected},
		want{kind: wire.KindMessage, member: a.me(), bt: wire.BodyMemberLeave},
		want{kind: wire.KindMemberChange, member: a.me(), state: wire.StateDisconnected})
	if err := conv.End(); err != ErrEnded {
		t.Fatalf("second end: %v", err)
	}
	if _, err := conv.Say("late", SayOptions{}); err != ErrEnded {
		t.Fatalf("say after end: %v", err)
	}
}

func ctl(t *testing.T, s *Server, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var data []byte
	if body != nil {
		data, _ = json.Marshal(body)
	}
	req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(data))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func TestControlAPI(t *testing.T) {
	clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
	o := fastOpts()
	o.Clock = clk
	o.Script = &Script{}
	s := newTestServer(t, o)
	a := createChat(t, s)
	st := a.attach()
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage})
	base := "/_sim/conversations/" + a.conv()
	steps := []struct {
		method, path string
		body         any
		status       int
	}{
		{"GET", "/_sim/health", nil, 200},
		{"POST", base + "/agent/say", map[string]any{"text": "x"}, 409}, // no agent
		{"POST", base + "/agent/join", map[string]any{"name": "Ctl", "greeting": "hey"}, 200},
		{"POST", base + "/agent/typing", nil, 200},
		{"POST", base + "/agent/say", map[string]any{"text": "hello", "typing": true}, 200},
		{"POST", base + "/agent/say", map[string]any{"text": ""}, 400},
		{"POST", base + "/agent/say", map[string]any{"text": "later", "delayMs": 1000}, 200},
		{"POST", "/_sim/clock/advance", map[string]any{"ms": 1000}, 200},
		{"POST", base + "/echo", map[string]any{"enabled": true}, 200},
		{"POST", base + "/faults", map[string]any{"action": "duplicate", "count": 1}, 200},
		{"POST", base + "/agent/say", map[string]any{"text": "twice"}, 200},
		{"POST", base + "/agent/transfer", map[string]any{"name": "Next"}, 200},
		{"POST", base + "/notice", map[string]any{"text": "system"}, 200},
		{"POST", base + "/mediarequests", map[string]any{"types": []string{"COBROWSE"}}, 200},
		{"POST", base + "/faults", map[string]any{"action": "bogus"}, 400},
		{"POST", "/_sim/faults/http", map[string]any{"op": OpGetMembers, "status": 429, "retryAfter": 3}, 200},
		{"POST", "/_sim/faults/delivery", map[string]any{"duplicate": 0}, 200},
		{"POST", "/_sim/faults/refuse-reconnects", map[string]any{"durationMs": 1}, 200},
		{"DELETE", "/_sim/faults", nil, 200},
		{"GET", "/_sim/conversations/nope", nil, 404},
		{"GET", "/_sim/nope", nil, 404},
		{"POST", base + "/agent/join", "not an object", 400},
		{"POST", "/_sim/conversations/latest/end", nil, 200},
		{"POST", base + "/end", nil, 409},
	}
	for i, sp := range steps {
		if code, out := ctl(t, s, sp.method, sp.path, sp.body); code != sp.status {
			t.Fatalf("step %d %s %s: %d %v", i, sp.method, sp.path, code, out)
		}
	}
	st.expect(
		want{kind: wire.KindMemberChange, state: wire.StateAlerting}, want{kind: wire.KindMemberChange, state: wire.StateConnected},
		want{kind: wire.KindMessage, bt: wire.BodyMemberJoin}, want{kind: wire.KindMessage, body: "hey"},
		want{kind: wire.KindTyping}, want{kind: wire.KindTyping}, want{kind: wire.KindMessage, body: "hello"},
		want{kind: wire.KindMessage, body: "later"},
		want{kind: wire.KindMessage, body: "twice"}, want{kind: wire.KindMessage, body: "twice"},
	)
	code, sum := ctl(t, s, "GET", base, nil)
	if code != 200 || sum["ended"] != true || sum["endReason"] != "agent" || len(sum["messages"].([]any)) < 8 {
		t.Fatalf("summary %d %v", code, sum)
	}
	req, _ := http.NewRequest("GET", s.URL+"/_sim/conversations", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list []ConversationSummary
	_ = json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if len(list) != 1 || list[0].ID != a.conv() {
		t.Fatalf("list %+v", list)
	}
	// The real clock cannot be advanced.
	s2 := newTestServer(t, fastOpts())
	if code, _ := ctl(t, s2, "POST", "/_sim/clock/advance", map[string]any{"ms": 1}); code != 409 {
		t.Fatalf("advance real clock: %d", code)
	}
}
