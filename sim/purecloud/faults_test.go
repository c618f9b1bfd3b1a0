package purecloud

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// connected returns a chat whose agent is CONNECTED, its stream drained up
// to that point, the conversation and the agent id.
func connected(t *testing.T, s *Server) (*chat, *stream, *Conversation, string) {
	t.Helper()
	a := createChat(t, s)
	st := a.attach()
	conv := s.Conversation(a.conv())
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage},
		want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage}, // ACD
		want{kind: wire.KindMemberChange, state: wire.StateAlerting},
		want{kind: wire.KindMemberChange, state: wire.StateConnected}, want{kind: wire.KindMessage},
		want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage}) // ACD leaves
	return a, st, conv, conv.AgentID()
}

func TestHTTPFaults(t *testing.T) {
	s := newTestServer(t, fastOpts())
	a := createChat(t, s)
	path := a.url(wire.MemberTypingPath(a.conv(), a.me()))
	cases := []struct {
		name  string
		fault HTTPFault
		calls []int // statuses of consecutive calls
		retry string
		code  string
	}{
		{"429 retry-after", HTTPFault{Op: OpPostTyping, Status: 429, RetryAfter: 7}, []int{429, 200}, "7", wire.CodeTooManyRequests},
		{"429 default", HTTPFault{Op: OpPostTyping, Status: 429}, []int{429, 200}, "1", wire.CodeTooManyRequests},
		{"500", HTTPFault{Op: OpPostTyping, Status: 500}, []int{500, 200}, "", wire.CodeInternalServerError},
		{"503 twice", HTTPFault{Op: OpPostTyping, Status: 503, Times: 2}, []int{503, 503, 200}, "", wire.CodeServiceUnavailable},
		{"504 on 3rd", HTTPFault{Op: OpPostTyping, Status: 504, After: 2}, []int{200, 200, 504, 200}, "", wire.CodeGatewayTimeout},
		{"other op untouched", HTTPFault{Op: OpGetMessages, Status: 500}, []int{200}, "", ""},
		{"any op", HTTPFault{Status: 503}, []int{503, 200}, "", wire.CodeServiceUnavailable},
		{"always", HTTPFault{Op: OpPostTyping, Status: 500, Times: -1}, []int{500, 500, 500}, "", wire.CodeInternalServerError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s.ClearFaults()
			s.InjectHTTP(tc.fault)
			for i, want := range tc.calls {
				r := do(t, "POST", path, a.info.JWT, nil)
				if r.status != want {
					t.Fatalf("call %d: %d, want %d", i, r.status, want)
				}
				if r.status >= 400 {
					checkHeaders(t, tc.name, r)
					e := r.errBody(t)
					if e.Code != tc.code || r.header.Get("Retry-After") != tc.retry {
						t.Fatalf("call %d: code %q Retry-After %q", i, e.Code, r.header.Get("Retry-After"))
					}
					if want == 429 {
						if d, ok := wire.RetryAfterFromMessage(e.Message); !ok || d.String() != tc.retry+"s" {
							t.Fatalf("429 message %q", e.Message)
						}
					}
				}
			}
		})
	}
	s.ClearFaults()
}

func TestHTTPDropAndCommitThenFail(t *testing.T) {
	s := newTestServer(t, fastOpts())
	a, st, conv, _ := connected(t, s)
	send := func(body string) (int, error) {
		req, _ := http.NewRequest("POST", a.url(wire.MemberMessagesPath(a.conv(), a.me())), strings.NewReader(`{"body":"`+body+`"}`))
		req.Header.Set("Authorization", "Bearer "+a.info.JWT)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
	// Drop before applying: nothing stored.
	s.InjectHTTP(HTTPFault{Op: OpPostMessage, Drop: true})
	if _, err := send("dropped"); err == nil {
		t.Fatal("dropped call succeeded")
	}
	// Commit then 503: stored and echoed, but the client sees 503.
	s.InjectHTTP(HTTPFault{Op: OpPostMessage, Status: 503, CommitThenFail: true})
	if code, err := send("committed"); err != nil || code != 503 {
		t.Fatalf("commit-then-fail: %d %v", code, err)
	}
	st.expect(want{kind: wire.KindMessage, body: "committed"})
	// Commit then drop.
	s.InjectHTTP(HTTPFault{Op: OpPostMessage, Drop: true, CommitThenFail: true})
	if _, err := send("committed2"); err == nil {
		t.Fatal("commit-then-drop answered")
	}
	st.expect(want{kind: wire.KindMessage, body: "committed2"})
	if got := strings.Join(conv.GuestMessages(), ","); got != "committed,committed2" {
		t.Fatalf("stored %q", got)
	}
}

func TestSlowResponseOnVirtualClock(t *testing.T) {
	clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
	o := fastOpts()
	o.Clock = clk
	s := newTestServer(t, o)
	a := createChat(t, s)
	s.InjectHTTP(HTTPFault{Op: OpGetMember, Delay: 5 * time.Second})
	done := make(chan resp, 1)
	go func() { done <- do(t, "GET", a.url(wire.MemberPath(a.conv(), a.me())), a.info.JWT, nil) }()
	// Wait until the request is parked on the clock, then release it.
	deadline := time.After(10 * time.Second)
	for clk.Pending() < 3 { // idle + detach timers + the delay
		select {
		case <-deadline:
			t.Fatal("request never parked")
		case <-time.After(time.Millisecond):
		}
	}
	select {
	case <-done:
		t.Fatal("answered before the delay")
	default:
	}
	clk.Advance(5 * time.Second)
	if r := <-done; r.status != 200 {
		t.Fatalf("%d", r.status)
	}
}

func TestSocketFaults(t *testing.T) {
	s := newTestServer(t, fastOpts())
	t.Run("drop with code", func(t *testing.T) {
		a, st, conv, _ := connected(t, s)
		if n := conv.DropSockets(4000, "test drop"); n != 1 {
			t.Fatalf("dropped %d", n)
		}
		if code, text := st.closeCode(); code != 4000 || text != "test drop" {
			t.Fatalf("%d %q", code, text)
		}
		_ = conv.Wait(testCtx(t), func(c *Conversation) bool { return c.Attached() == 0 })
		st2 := a.attach() // reconnect works, chat goes on
		st2.expect(want{kind: wire.KindMemberChange, member: a.me(), state: wire.StateConnected})
		if ended, _ := conv.Ended(); ended {
			t.Fatal("drop ended the chat")
		}
	})
	t.Run("abort", func(t *testing.T) {
		_, st, conv, _ := connected(t, s)
		conv.AbortSockets()
		if code, _ := st.closeCode(); code != -1 {
			var ce *websocket.CloseError
			if errors.As(st.err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
				t.Fatalf("abort sent a close frame: %v", st.err)
			}
		}
	})
	t.Run("stall", func(t *testing.T) {
		clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
		o := fastOpts()
		o.Clock, o.HeartbeatInterval, o.Script = clk, time.Second, &Script{}
		s2 := newTestServer(t, o)
		a := createChat(t, s2)
		st := a.attach()
		st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage})
		conv := s2.Conversation(a.conv())
		st.heartbeatAfterAdvance(clk, time.Second)
		conv.StallSockets()
		clk.Advance(5 * time.Second)
		a.send("lost to the socket")
		// Nothing arrives: the next frame seen is from a new socket.
		st.close()
		_ = conv.Wait(testCtx(t), func(c *Conversation) bool { return c.Attached() == 0 })
		select {
		case f := <-st.ch:
			t.Fatalf("stalled socket delivered %s", f.raw)
		default:
		}
		st2 := a.attach()
		st2.expect(want{kind: wire.KindMemberChange})
		st2.heartbeatAfterAdvance(clk, time.Second)
	})
	t.Run("socket closing", func(t *testing.T) {
		_, st, conv, _ := connected(t, s)
		conv.SendSocketClosing()
		if ev := st.next(); ev.Kind != wire.KindSocketClosing {
			t.Fatalf("%v", ev.Kind)
		}
	})
	t.Run("drop all, REST kept", func(t *testing.T) {
		a, st, _, _ := connected(t, s)
		if n := s.DropAllSockets(false); n < 1 {
			t.Fatalf("dropped %d", n)
		}
		if code, _ := st.closeCode(); code != 1001 {
			t.Fatalf("code %d", code)
		}
		a.send("still works")
	})
}

func TestRefuseReconnects(t *testing.T) {
	clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
	o := fastOpts()
	o.Clock = clk
	s := newTestServer(t, o)
	a := createChat(t, s)
	conv := s.Conversation(a.conv())
	conv.RefuseReconnects(30 * time.Second)
	_, res, err := websocket.DefaultDialer.Dial(a.info.EventStreamURI, nil)
	if err == nil || res == nil || res.StatusCode != 503 {
		t.Fatalf("refused dial: %v %v", res, err)
	}
	var e wire.ErrorBody
	_ = json.NewDecoder(res.Body).Decode(&e)
	res.Body.Close()
	if e.Code != wire.CodeServiceUnavailable || res.Header.Get(wire.HeaderCorrelationID) == "" {
		t.Fatalf("refusal body %+v", e)
	}
	clk.Advance(30 * time.Second)
	st := a.attach()
	st.expect(want{kind: wire.KindMemberChange, state: wire.StateConnected})
	// Server-wide refusal, lifted by ClearFaults.
	s.RefuseReconnects(time.Hour)
	if _, _, err := websocket.DefaultDialer.Dial(a.info.EventStreamURI, nil); err == nil {
		t.Fatal("global refusal ignored")
	}
	s.ClearFaults()
	a.attach().expect(want{kind: wire.KindMemberChange, state: wire.StateConnected})
}

func TestDeliveryFaults(t *testing.T) {
	s := newTestServer(t, fastOpts())
	a, st, conv, agent := connected(t, s)
	_ = a
	say := func(text string) {
		if _, err := conv.Say(text, SayOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	conv.DuplicateNext(1, false)
	say("a")
	say("b")
	st.expect(want{kind: wire.KindMessage, body: "a"}, want{kind: wire.KindMessage, body: "a"}, want{kind: wire.KindMessage, body: "b"})
	conv.DuplicateNext(1, true)
	say("c")
	say("d")
	st.expect(want{kind: wire.KindMessage, body: "c"}, want{kind: wire.KindMessage, body: "d"}, want{kind: wire.KindMessage, body: "c"})
	conv.ReorderNext(1)
	say("e")
	say("f")
	st.expect(want{kind: wire.KindMessage, body: "f"}, want{kind: wire.KindMessage, body: "e"})
	if err := conv.DuplicateConnected(); err != nil {
		t.Fatal(err)
	}
	st.expect(want{kind: wire.KindMemberChange, member: agent, state: wire.StateConnected})
	// Seeded probabilities: the same seed gives the same pattern.
	pattern := func() string {
		o := fastOpts()
		o.FaultSeed = 42
		s := newTestServer(t, o)
		_, st, conv, _ := connected(t, s)
		s.SetDeliveryFaults(DeliveryFaults{Duplicate: 0.5})
		var got []string
		for _, x := range []string{"1", "2", "3", "4", "5", "6"} {
			_, _ = conv.Say(x, SayOptions{})
		}
		_, _ = conv.Say("end", SayOptions{})
		for {
			ev := st.next()
			got = append(got, ev.Message.Body)
			if ev.Message.Body == "end" {
				return strings.Join(got, "")
			}
		}
	}
	p1, p2 := pattern(), pattern()
	if p1 != p2 || len(p1) <= len("123456end") {
		t.Fatalf("patterns %q %q", p1, p2)
	}
}

func TestTimeoutsOnVirtualClock(t *testing.T) {
	newSim := func(o Options) (*Server, *VirtualClock) {
		clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
		o.Clock = clk
		return newTestServer(t, o), clk
	}
	t.Run("idle default 15 min", func(t *testing.T) {
		s, clk := newSim(fastOpts())
		a := createChat(t, s)
		st := a.attach()
		clk.Advance(0)
		conv := s.Conversation(a.conv())
		clk.Advance(14 * time.Minute)
		a.send("still here") // resets the idle timer
		clk.Advance(14 * time.Minute)
		if ended, _ := conv.Ended(); ended {
			t.Fatal("ended early")
		}
		clk.Advance(time.Minute)
		if ended, why := conv.Ended(); !ended || why != EndByIdle {
			t.Fatalf("idle: %v %v", ended, why)
		}
		for {
			ev := st.next()
			if ev.Kind == wire.KindMemberChange && ev.MemberChange.Member.ID == a.me() && ev.MemberChange.Member.State == wire.StateDisconnected {
				break
			}
		}
		clk.Advance(DefaultCloseGrace)
		if code, _ := st.closeCode(); code != 1001 {
			t.Fatalf("close %d", code)
		}
	})
	t.Run("detach", func(t *testing.T) {
		o := fastOpts()
		o.DetachTimeout = time.Minute
		s, clk := newSim(o)
		a := createChat(t, s)
		conv := s.Conversation(a.conv())
		clk.Advance(59 * time.Second)
		st := a.attach() // attaching stops the timer
		clk.Advance(2 * time.Minute)
		if ended, _ := conv.Ended(); ended {
			t.Fatal("ended while attached")
		}
		st.close()
		_ = conv.Wait(testCtx(t), func(c *Conversation) bool { return c.Attached() == 0 })
		clk.Advance(time.Minute)
		if ended, why := conv.Ended(); !ended || why != EndByDetach {
			t.Fatalf("detach: %v %v", ended, why)
		}
	})
	t.Run("idle off", func(t *testing.T) {
		o := fastOpts()
		o.IdleTimeout, o.DetachTimeout = -1, -1
		s, clk := newSim(o)
		a := createChat(t, s)
		clk.Advance(48 * time.Hour)
		if ended, _ := s.Conversation(a.conv()).Ended(); ended {
			t.Fatal("ended with timeouts off")
		}
	})
}

func TestProbabilisticSocketDropAndSweep(t *testing.T) {
	clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
	o := fastOpts()
	o.Clock, o.JWTTTL = clk, time.Hour
	s := newTestServer(t, o)
	a := createChat(t, s)
	st := a.attach()
	clk.Advance(0) // routing runs on the virtual clock
	conv := s.Conversation(a.conv())
	if err := conv.Wait(testCtx(t), func(c *Conversation) bool { return c.AgentState() == wire.StateConnected }); err != nil {
		t.Fatal(err)
	}
	s.SetDeliveryFaults(DeliveryFaults{DropSocket: 1})
	if _, err := conv.Say("last words", SayOptions{}); err != nil {
		t.Fatal(err)
	}
	for ev := st.next(); ev.Kind != wire.KindMessage || ev.Message.Body != "last words"; ev = st.next() {
	}
	if code, _ := st.closeCode(); code != -1 && code != websocket.CloseAbnormalClosure {
		t.Fatalf("close code %d", code)
	}
	_ = conv.Wait(testCtx(t), func(c *Conversation) bool { return c.Attached() == 0 })
	s.ClearFaults()
	// Past the token lifetime, a new create forgets the unreachable chat.
	clk.Advance(time.Hour + time.Minute)
	b := createChat(t, s)
	if s.Conversation(conv.ID()) != nil || len(s.Conversations()) != 1 || s.Conversations()[0].ID() != b.conv() {
		t.Fatalf("not swept: %d conversations", len(s.Conversations()))
	}
	if c, err := s.NextConversation(testCtx(t)); err != nil || c.ID() != b.conv() {
		t.Fatalf("NextConversation after sweep: %v %v", c, err)
	}
}
