package purecloud

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func keys(m map[string]any) string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

func (st *stream) nextRaw() map[string]any {
	st.t.Helper()
	for {
		data := st.nextFrame(false).raw
		{
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				st.t.Fatal(err)
			}
			if m["topicName"] == wire.TopicHeartbeat {
				if len(m) != 2 || !reflect.DeepEqual(m["eventBody"], map[string]any{"message": "WebSocket Heartbeat"}) {
					st.t.Fatalf("heartbeat %s", data)
				}
				continue
			}
			return m
		}
	}
}

// TestEnvelopeShapes checks the exact JSON keys of every event kind.
func TestEnvelopeShapes(t *testing.T) {
	s := newTestServer(t, Options{SigningKey: sharedKey(), Script: &Script{}, HeartbeatInterval: -1})
	a := createChat(t, s)
	st := a.attach()
	mc := st.nextRaw()
	if keys(mc) != "eventBody,metadata,topicName,version" || mc["version"] != "2" || mc["topicName"] != wire.MembersTopic(a.conv()) {
		t.Fatalf("member-change envelope %v", mc)
	}
	md := mc["metadata"].(map[string]any)
	if keys(md) != "CorrelationId,type" || md["type"] != "member-change" || len(md["CorrelationId"].(string)) != 36 {
		t.Fatalf("metadata %v", md)
	}
	body := mc["eventBody"].(map[string]any)
	if keys(body) != "conversation,id,member,timestamp" || keys(body["member"].(map[string]any)) != "id,state" ||
		keys(body["conversation"].(map[string]any)) != "id" {
		t.Fatalf("member-change body %v", body)
	}
	ts := body["timestamp"].(string)
	if _, err := time.Parse(wire.TimeLayout, ts); err != nil || len(ts) != 24 {
		t.Fatalf("timestamp %q", ts)
	}
	join := st.nextRaw()
	body = join["eventBody"].(map[string]any)
	if join["topicName"] != wire.MessagesTopic(a.conv()) || keys(body) != "body,bodyType,conversation,id,sender,timestamp" ||
		body["body"] != "" || body["bodyType"] != "member-join" || keys(body["sender"].(map[string]any)) != "id" {
		t.Fatalf("member-join %v", join)
	}
	a.send("hi")
	msg := st.nextRaw()
	body = msg["eventBody"].(map[string]any)
	if keys(body) != "body,bodyType,conversation,id,sender,timestamp" || body["body"] != "hi" ||
		msg["metadata"].(map[string]any)["type"] != "message" {
		t.Fatalf("message %v", msg)
	}
	r := do(t, "POST", a.url(wire.MemberTypingPath(a.conv(), a.me())), a.info.JWT, nil)
	var typing map[string]any
	_ = json.Unmarshal(r.body, &typing)
	if keys(typing) != "conversation,id,sender,timestamp" || keys(typing["conversation"].(map[string]any)) != "id,selfUri" {
		t.Fatalf("typing response %s", r.body)
	}
	ty := st.nextRaw()
	body = ty["eventBody"].(map[string]any)
	if ty["metadata"].(map[string]any)["type"] != "typing-indicator" || keys(body) != "conversation,id,sender,timestamp" ||
		body["id"] != typing["id"] || body["sender"].(map[string]any)["id"] != a.me() {
		t.Fatalf("typing event %v", ty)
	}
}

func TestHeartbeatPingAndVirtualClock(t *testing.T) {
	clk := NewVirtualClock(time.Unix(1_600_000_000, 0))
	o := fastOpts()
	o.Clock = clk
	o.HeartbeatInterval = 0 // default 10 s
	s := newTestServer(t, o)
	a := createChat(t, s)
	st := a.attach()
	st.expect(want{kind: wire.KindMemberChange}, want{kind: wire.KindMessage})
	// Routing is due at once (RoutingDelay none) but runs on the virtual clock.
	clk.Advance(0)
	st.expect(want{kind: wire.KindMemberChange, state: wire.StateConnected}, want{kind: wire.KindMessage},
		want{kind: wire.KindMemberChange, state: wire.StateAlerting}, want{kind: wire.KindMemberChange, state: wire.StateConnected},
		want{kind: wire.KindMessage}, want{kind: wire.KindMemberChange, state: wire.StateDisconnected}, want{kind: wire.KindMessage})
	for i := 0; i < 3; i++ {
		clk.Advance(DefaultHeartbeatInterval)
		if data := st.nextFrame(false).raw; string(data) != string(wire.HeartbeatFrame) {
			t.Fatalf("heartbeat %d: %s", i, data)
		}
	}
	if err := st.conn.WriteMessage(websocket.TextMessage, wire.PingFrame); err != nil {
		t.Fatal(err)
	}
	if ev := st.next(); ev.Kind != wire.KindPong {
		t.Fatalf("pong: %v", ev.Kind)
	}
	// Other client frames are ignored.
	_ = st.conn.WriteMessage(websocket.TextMessage, []byte(`{"message":"subscribe"}`))
	_ = st.conn.WriteMessage(websocket.TextMessage, []byte(`not json`))
	_ = st.conn.WriteMessage(websocket.TextMessage, wire.PingFrame)
	if ev := st.next(); ev.Kind != wire.KindPong {
		t.Fatalf("pong: %v", ev.Kind)
	}
}

func memberState(t *testing.T, a *chat, id string) wire.WebChatMemberInfo {
	t.Helper()
	r := do(t, "GET", a.url(wire.MemberPath(a.conv(), id)), a.info.JWT, nil)
	var m wire.WebChatMemberInfo
	if r.status != 200 || json.Unmarshal(r.body, &m) != nil {
		t.Fatalf("#3: %d %s", r.status, r.body)
	}
	return m
}

func TestAttachStateRoutingAndNoReplay(t *testing.T) {
	s := newTestServer(t, fastOpts())
	a := createChat(t, s)
	conv := s.Conversation(a.conv())
	if m := memberState(t, a, a.me()); m.State != wire.StateDisconnected || m.LeaveDate != nil {
		t.Fatalf("before attach %+v", m)
	}
	if n := len(conv.Members()); n != 1 {
		t.Fatalf("routed before attach: %d members", n)
	}
	st := a.attach()
	// CONNECTED is visible as soon as the dial returns.
	if m := memberState(t, a, a.me()); m.State != wire.StateConnected {
		t.Fatalf("after attach %+v", m)
	}
	st.expect(want{kind: wire.KindMemberChange, member: a.me(), state: wire.StateConnected}, want{kind: wire.KindMessage, bt: wire.BodyMemberJoin})
	if err := conv.Wait(testCtx(t), func(c *Conversation) bool { return c.AgentState() == wire.StateConnected }); err != nil {
		t.Fatal(err)
	}
	// A second socket gets the same events; closing one keeps the guest CONNECTED.
	st2 := a.attach()
	for _, x := range []*stream{st, st2} {
		for {
			ev := x.next()
			if ev.Kind == wire.KindMemberChange && ev.MemberChange.Member.ID == a.me() {
				break
			}
		}
	}
	a.send("both")
	st.expect(want{kind: wire.KindMessage, body: "both"})
	st2.expect(want{kind: wire.KindMessage, body: "both"})
	st2.close()
	_ = conv.Wait(testCtx(t), func(c *Conversation) bool { return c.Attached() == 1 })
	if m := memberState(t, a, a.me()); m.State != wire.StateConnected {
		t.Fatalf("one socket left %+v", m)
	}
	st.close()
	_ = conv.Wait(testCtx(t), func(c *Conversation) bool { return c.Attached() == 0 })
	if m := memberState(t, a, a.me()); m.State != wire.StateDisconnected || m.LeaveDate != nil {
		t.Fatalf("detached %+v", m)
	}
	// Sent while detached: only in #7, never replayed on the new socket.
	if _, err := conv.Say("while away", SayOptions{}); err != nil {
		t.Fatal(err)
	}
	st3 := a.attach()
	st3.expect(want{kind: wire.KindMemberChange, member: a.me(), state: wire.StateConnected})
	a.send("back")
	st3.expect(want{kind: wire.KindMessage, body: "back"}) // no replay, no second guest member-join
	l := getMsgs(t, a, "?sortOrder=descending&maxResults=2")
	if bodies(l) != "back,while away" {
		t.Fatalf("history %q", bodies(l))
	}
}

func TestAttachRejections(t *testing.T) {
	s := newTestServer(t, fastOpts())
	a := createChat(t, s)
	// Not a WebSocket request.
	r := do(t, "GET", a.url("/v1/token/"+a.info.JWT), "", nil)
	if r.status != 400 {
		t.Fatalf("plain GET: %d", r.status)
	}
	// Bad tokens: 4100.
	for _, tok := range []string{"junk", a.info.JWT[:len(a.info.JWT)-4] + "AAAA"} {
		c := &chat{t: t, s: s, info: a.info}
		c.info.EventStreamURI = strings.Replace(a.info.EventStreamURI, a.info.JWT, tok, 1)
		st := c.attach()
		code, text := st.closeCode()
		if code != wire.CloseConnectError || !strings.HasPrefix(text, "Error connecting to conversation (") {
			t.Fatalf("%.8s: %d %q", tok, code, text)
		}
	}
	// Ended conversation: 1001.
	if r := do(t, "DELETE", a.url(wire.MemberPath(a.conv(), a.me())), a.info.JWT, nil); r.status != 204 {
		t.Fatal(r.status)
	}
	st := a.attach()
	if code, text := st.closeCode(); code != 1001 || text != wire.CloseReasonEnded {
		t.Fatalf("ended: %d %q", code, text)
	}
}

func TestControlAPIIsLoopbackOnly(t *testing.T) {
	s, err := New(Options{SigningKey: sharedKey()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rec := &recorder{h: http.Header{}}
	req, _ := http.NewRequest("GET", "/_sim/health", nil)
	req.RemoteAddr = "10.1.2.3:5000"
	s.ServeHTTP(rec, req)
	if rec.status != 404 {
		t.Fatalf("non-loopback: %d", rec.status)
	}
	req.RemoteAddr = "127.0.0.1:5000"
	rec = &recorder{h: http.Header{}}
	s.ServeHTTP(rec, req)
	if rec.status != 200 {
		t.Fatalf("loopback: %d", rec.status)
	}
}

type recorder struct {
	h      http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) Write(b []byte) (int, error) {
	r.body = append(r.body, b...)
	return len(b), nil
}
func (r *recorder) WriteHeader(s int) { r.status = s }
