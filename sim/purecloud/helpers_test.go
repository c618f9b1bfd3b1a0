package purecloud

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sharedKey is the process key the simulator uses by default (tests pass it explicitly where
// they compare or verify tokens).
func sharedKey() *rsa.PrivateKey {
	k, err := processKey()
	if err != nil {
		panic(err)
	}
	return k
}

// fastOpts: immediate routing, no WORKFLOW, heartbeats off unless set.
func fastOpts() Options {
	return Options{
		SigningKey:        sharedKey(),
		RoutingDelay:      -1,
		AlertDelay:        -1,
		AnswerDelay:       -1,
		CloseGrace:        -1,
		HeartbeatInterval: -1,
		Script:            &Script{ACD: true, Agent: &AgentProfile{Name: "Alex"}},
	}
}

func newTestServer(t *testing.T, o Options) *Server {
	t.Helper()
	if o.SigningKey == nil {
		o.SigningKey = sharedKey()
	}
	s, err := Start("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) errBody(t *testing.T) wire.ErrorBody {
	t.Helper()
	var e wire.ErrorBody
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("error body %q: %v", r.body, err)
	}
	return e
}

func do(t *testing.T, method, url, jwt string, body any) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if jwt != "" {
		req.Header.Set("Authorization", "Bearer "+jwt)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: data}
}

func createReq() *wire.CreateWebChatConversationRequest {
	return &wire.CreateWebChatConversationRequest{
		OrganizationID: "org-1",
		DeploymentID:   "dep-1",
		RoutingTarget:  &wire.WebChatRoutingTarget{TargetType: "QUEUE", TargetAddress: "Chat Queue"},
		MemberInfo:     &wire.GuestMemberInfo{DisplayName: "Guest", CustomFields: map[string]string{"k": "v"}},
	}
}

// chat is a guest created over REST.
type chat struct {
	t    *testing.T
	s    *Server
	info wire.CreateWebChatConversationResponse
}

func createChat(t *testing.T, s *Server) *chat {
	t.Helper()
	r := do(t, "POST", s.URL+wire.ConversationsPath, "", createReq())
	if r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	c := &chat{t: t, s: s}
	if err := json.Unmarshal(r.body, &c.info); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *chat) url(p string) string { return c.s.URL + p }
func (c *chat) conv() string        { return c.info.ID }
func (c *chat) me() string          { return c.info.Member.ID }

func (c *chat) send(text string) wire.WebChatMessage {
	c.t.Helper()
	r := do(c.t, "POST", c.url(wire.MemberMessagesPath(c.conv(), c.me())), c.info.JWT, wire.CreateWebChatMessageRequest{Body: text})
	if r.status != 200 {
		c.t.Fatalf("send: %d %s", r.status, r.body)
	}
	var m wire.WebChatMessage
	_ = json.Unmarshal(r.body, &m)
	return m
}

// stream is a guest event-stream socket collecting parsed events.
type stream struct {
	t    *testing.T
	conn *websocket.Conn
	ch   chan frame
	done chan struct{}
	err  error
}

func (c *chat) attach() *stream {
	c.t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(c.info.EventStreamURI, nil)
	if err != nil {
		c.t.Fatalf("dial: %v", err)
	}
	st := &stream{t: c.t, conn: conn, ch: make(chan frame, 4096), done: make(chan struct{})}
	go func() {
		defer close(st.done)
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				st.err = err
				return
			}
			ev, perr := wire.ParseEvent(data)
			if perr != nil {
				st.err = perr
				return
			}
			st.ch <- frame{ev: ev, raw: data}
		}
	}()
	c.t.Cleanup(st.close)
	return st
}

func (st *stream) close() {
	_ = st.conn.Close()
	<-st.done
}

type frame struct {
	ev  *wire.Event
	raw []byte
}

// next returns the next event that is not a heartbeat.
func (st *stream) next() *wire.Event {
	st.t.Helper()
	return st.nextFrame(true).ev
}

// heartbeatAfterAdvance advances the virtual clock one heartbeat period at a time until the
// stream sees a heartbeat: the socket's heartbeat timer is registered by the server's own
// goroutine, possibly just after the attach returned, so one advance can come too early.
func (st *stream) heartbeatAfterAdvance(clk *VirtualClock, period time.Duration) {
	st.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		clk.Advance(period)
		select {
		case f := <-st.ch:
			if f.ev.Kind != wire.KindHeartbeat {
				st.t.Fatalf("want heartbeat, got %v", f.ev.Kind)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
	st.t.Fatal("no heartbeat")
}

// nextFrame returns the next frame, skipping heartbeats if asked.
func (st *stream) nextFrame(skipHeartbeats bool) frame {
	st.t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		select {
		case f := <-st.ch:
			if skipHeartbeats && f.ev.Kind == wire.KindHeartbeat {
				continue
			}
			return f
		case <-st.done:
			select {
			case f := <-st.ch:
				if skipHeartbeats && f.ev.Kind == wire.KindHeartbeat {
					continue
				}
				return f
			default:
			}
			st.t.Fatalf("stream ended: %v", st.err)
		case <-timer.C:
			st.t.Fatal("timeout waiting for an event")
		}
	}
}

// expect reads events and checks their kinds and details, in order.
type want struct {
	kind   wire.EventKind
	member string // sender/member id ("" = any)
	body   string
	bt     wire.BodyType
	state  wire.MemberState
}

func (st *stream) expect(ws ...want) []*wire.Event {
	st.t.Helper()
	var out []*wire.Event
	for i, w := range ws {
		ev := st.next()
		out = append(out, ev)
		if ev.Kind != w.kind {
			st.t.Fatalf("event %d: kind %v, want %v (%s)", i, ev.Kind, w.kind, ev.EventBody)
		}
		switch ev.Kind {
		case wire.KindMessage:
			m := ev.Message
			if (w.member != "" && m.Sender.ID != w.member) || (w.bt != "" && m.BodyType != w.bt) || (w.body != "" && m.Body != w.body) {
				st.t.Fatalf("event %d: message %+v, want %+v", i, m, w)
			}
		case wire.KindMemberChange:
			m := ev.MemberChange.Member
			if (w.member != "" && m.ID != w.member) || (w.state != "" && m.State != w.state) {
				st.t.Fatalf("event %d: member-change %+v, want %+v", i, m, w)
			}
		case wire.KindTyping:
			if w.member != "" && ev.Typing.Sender.ID != w.member {
				st.t.Fatalf("event %d: typing from %s, want %s", i, ev.Typing.Sender.ID, w.member)
			}
		}
	}
	return out
}

// closeCode waits for the server's close and returns its code and text.
func (st *stream) closeCode() (int, string) {
	st.t.Helper()
	select {
	case <-st.done:
	case <-time.After(10 * time.Second):
		st.t.Fatal("socket not closed")
	}
	var ce *websocket.CloseError
	if e, ok := st.err.(*websocket.CloseError); ok {
		ce = e
		return ce.Code, ce.Text
	}
	return -1, ""
}

// attachRaw dials without failing on early closes (for rejected attaches).
func (c *chat) attachRaw(t *testing.T) *stream {
	return c.attach()
}
