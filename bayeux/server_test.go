package bayeux

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func TestServerRejectsBadRequests(t *testing.T) {
	srv := NewServer(ServerOptions{})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tests := []struct {
		name, method, ct, body string
	}{
		{"GET", http.MethodGet, "", ""},
		{"empty array", http.MethodPost, "application/json", "[]"},
		{"bad JSON", http.MethodPost, "application/json", "[{"},
		{"not an object", http.MethodPost, "application/json", "[1]"},
		{"handshake batched", http.MethodPost, "application/json", `[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]},{"channel":"/meta/connect"}]`},
		{"form without message", http.MethodPost, "application/x-www-form-urlencoded", "x=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, hs.URL+"/cometd", strings.NewReader(tc.body))
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
		})
	}
}

func TestServerHandshake(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 3 * time.Second, Transports: []string{TransportLongPolling}})
	p := newRawLP(t, env.url)
	t.Run("missing version", func(t *testing.T) {
		_, ms := p.post(`[{"id":"1","channel":"/meta/handshake","supportedConnectionTypes":["long-polling"]}]`)
		if ms[0].Successful || ms[0].Advice.Reconnect != ReconnectNone {
			t.Fatalf("%s", mustJSON(ms))
		}
	})
	t.Run("no common type", func(t *testing.T) {
		_, ms := p.post(`[{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["callback-polling"]}]`)
		if ms[0].Successful || ParseError(ms[0].Error).Code != 301 {
			t.Fatalf("%s", mustJSON(ms))
		}
	})
	t.Run("ok", func(t *testing.T) {
		resp, err := p.hc.Post(env.url+"/handshake", "application/json", strings.NewReader(`[{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket","long-polling","callback-polling"]}]`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ms []*Message
		if err := json.NewDecoder(resp.Body).Decode(&ms); err != nil {
			t.Fatal(err)
		}
		m := ms[0]
		if !m.Successful || m.Version != "1.0" || len(m.ClientID) != 32 || m.ID != "1" ||
			strings.Join(m.SupportedConnectionTypes, ",") != "long-polling" || m.Advice.Reconnect != ReconnectRetry {
			t.Fatalf("%s", mustJSON(ms))
		}
		if to, ok := m.Advice.TimeoutDuration(); !ok || to != 3*time.Second {
			t.Fatalf("advice %+v", m.Advice)
		}
		sc := resp.Header.Get("Set-Cookie")
		if !strings.HasPrefix(sc, "BAYEUX_BROWSER=") || !strings.Contains(sc, "Path=/") || !strings.Contains(sc, "HttpOnly") {
			t.Fatalf("Set-Cookie %q", sc)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("content type %q", ct)
		}
	})
}

func TestServerUnknownSession(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	p := newRawLP(t, env.url)
	_, ms := p.post(`[{"id":"2","channel":"/meta/connect","clientId":"nope","connectionType":"long-polling"}]`)
	if ms[0].Successful || ms[0].Error != "402::Unknown client" || ms[0].Advice == nil ||
		ms[0].Advice.Reconnect != ReconnectHandshake || ms[0].ID != "2" {
		t.Fatalf("connect: %s", mustJSON(ms))
	}
	_, ms = p.post(`[{"id":"3","channel":"/service/echo","clientId":"nope","data":1}]`)
	if ms[0].Successful || ms[0].Error != "402::Unknown client" || ms[0].Advice != nil {
		t.Fatalf("publish: %s", mustJSON(ms))
	}
}

func TestServerHeldConnect(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 20 * time.Second})
	p := newRawLP(t, env.url)
	id := p.handshake()
	connect := func(advice string) <-chan []*Message {
		ch := make(chan []*Message, 1)
		go func() {
			_, ms, _ := p.postE(`[{"id":"9","channel":"/meta/connect","clientId":"` + id + `","connectionType":"long-polling"` + advice + `}]`)
			ch <- ms
		}()
		return ch
	}
	ms := <-connect(`,"advice":{"timeout":0}`)
	if !ms[0].Successful {
		t.Fatalf("%s", mustJSON(ms))
	}
	waitHeld := func() {
		t.Helper()
		deadline := time.After(waitLong)
		for !env.srv.Session(id).hasHeld() {
			select {
			case <-deadline:
				t.Fatal("connect not held")
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	t.Run("released by a delivery", func(t *testing.T) {
		held := connect("")
		waitHeld()
		if err := env.srv.Session(id).Deliver("/service/echo", map[string]int{"n": 1}); err != nil {
			t.Fatal(err)
		}
		ms := <-held
		if len(ms) != 2 || string(ms[0].Data) != `{"n":1}` || !ms[1].Successful || ms[1].Channel != ChannelConnect {
			t.Fatalf("%s", mustJSON(ms))
		}
	})
	t.Run("superseded by a new connect", func(t *testing.T) {
		held := connect("")
		waitHeld()
		second := connect(`,"advice":{"timeout":0}`)
		if ms := <-held; !ms[0].Successful {
			t.Fatalf("%s", mustJSON(ms))
		}
		<-second
	})
	t.Run("released by forget", func(t *testing.T) {
		held := connect("")
		waitHeld()
		env.srv.ForgetSession(id)
		ms := <-held
		if ms[0].Successful || ms[0].Advice.Reconnect != ReconnectHandshake {
			t.Fatalf("%s", mustJSON(ms))
		}
	})
}

func TestServerDisconnectReleasesHeldConnect(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 20 * time.Second})
	p := newRawLP(t, env.url)
	id := p.handshake()
	held := make(chan []*Message, 1)
	go func() {
		_, ms, _ := p.postE(`[{"id":"2","channel":"/meta/connect","clientId":"` + id + `","connectionType":"long-polling"}]`)
		held <- ms
	}()
	for env.srv.Session(id) == nil || !env.srv.Session(id).hasHeld() {
		time.Sleep(2 * time.Millisecond)
	}
	_, ms := p.post(`[{"id":"3","channel":"/meta/disconnect","clientId":"` + id + `"}]`)
	if !ms[0].Successful {
		t.Fatalf("%s", mustJSON(ms))
	}
	if ms := <-held; !ms[0].Successful || ms[0].Advice.Reconnect != ReconnectNone {
		t.Fatalf("held: %s", mustJSON(ms))
	}
	if env.srv.Session(id) != nil {
		t.Fatal("session kept after disconnect")
	}
}

func TestServerSessionExpiry(t *testing.T) {
	clk := newFakeClock()
	closed := make(chan CloseReason, 1)
	env := newTestEnv(t, ServerOptions{Clock: clk, MaxInterval: 10 * time.Second, OnSessionClose: func(_ *ServerSession, r CloseReason) { closed <- r }})
	p := newRawLP(t, env.url)
	id := p.handshake()
	connect := `[{"id":"2","channel":"/meta/connect","clientId":"` + id + `","connectionType":"long-polling","advice":{"timeout":0}}]`
	clk.Advance(9 * time.Second)
	if _, ms := p.post(connect); !ms[0].Successful {
		t.Fatalf("connect within maxInterval: %s", mustJSON(ms))
	}
	clk.Advance(10*time.Second + time.Millisecond)
	if _, ms := p.post(connect); ms[0].Successful || ms[0].Error != "402::Unknown client" {
		t.Fatalf("connect after expiry: %s", mustJSON(ms))
	}
	if r := <-closed; r != CloseExpired {
		t.Fatalf("close reason %q", r)
	}
}

func TestServerStrictCookies(t *testing.T) {
	env := newTestEnv(t, ServerOptions{StrictCookies: true})
	p := newRawLP(t, env.url)
	id := p.handshake()
	connect := `[{"id":"2","channel":"/meta/connect","clientId":"` + id + `","connectionType":"long-polling","advice":{"timeout":0}}]`
	if _, ms := p.post(connect); !ms[0].Successful {
		t.Fatalf("with cookie: %s", mustJSON(ms))
	}
	other := newRawLP(t, env.url) // fresh jar: no cookie
	if _, ms := other.post(connect); ms[0].Successful || ParseError(ms[0].Error).Code != 402 {
		t.Fatalf("without cookie: %s", mustJSON(ms))
	}
}

func TestServerMultipleClients(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 20 * time.Second, MaxSessionsPerBrowser: 1})
	p := newRawLP(t, env.url)
	a := p.handshake()
	b := p.handshake() // same jar: same browser cookie
	held := make(chan []*Message, 1)
	go func() {
		_, ms, _ := p.postE(`[{"id":"2","channel":"/meta/connect","clientId":"` + a + `","connectionType":"long-polling"}]`)
		held <- ms
	}()
	for !env.srv.Session(a).hasHeld() {
		time.Sleep(2 * time.Millisecond)
	}
	_, ms := p.post(`[{"id":"3","channel":"/meta/connect","clientId":"` + b + `","connectionType":"long-polling"}]`)
	if !ms[0].Successful || ms[0].Advice == nil || !ms[0].Advice.MultipleClients || ms[0].Advice.IntervalDuration() != 2*time.Second {
		t.Fatalf("%s", mustJSON(ms))
	}
	env.srv.ForgetSession(a)
	<-held
}

func TestServerSubscribeRules(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	p := newRawLP(t, env.url)
	id := p.handshake()
	tests := []struct {
		sub  string
		ok   bool
		code int
	}{
		{`"/meta/connect"`, false, 403},
		{`"/service/echo"`, true, 0},
		{`["/a","/b/**"]`, true, 0},
		{`"/a/*/b"`, false, 405},
	}
	for _, tc := range tests {
		_, ms := p.post(`[{"id":"5","channel":"/meta/subscribe","clientId":"` + id + `","subscription":` + tc.sub + `}]`)
		if ms[0].Successful != tc.ok || ParseError(ms[0].Error).Code != tc.code || len(ms[0].Subscription) == 0 {
			t.Errorf("subscribe %s: %s", tc.sub, mustJSON(ms))
		}
	}
	subs := env.srv.Session(id).Subscriptions()
	if len(subs) != 2 {
		t.Fatalf("recorded %v: /service channels must not be recorded", subs)
	}
}

func TestServerHandlerError(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	env.srv.HandleService("/service/fail/*", func(ctx context.Context, s *ServerSession, m *Message) error {
		if m.Channel == "/service/fail/denied" {
			return errors.New("403::denied")
		}
		return errors.New("database on fire")
	})
	p := newRawLP(t, env.url)
	id := p.handshake()
	for ch, want := range map[string]string{"/service/fail/denied": "403::denied", "/service/fail/x": "407::publish_failed"} {
		_, ms := p.post(`[{"id":"5","channel":"` + ch + `","clientId":"` + id + `","data":1}]`)
		if ms[0].Successful || ms[0].Error != want {
			t.Errorf("%s: %s", ch, mustJSON(ms))
		}
	}
}

func TestServerFormBody(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	p := newRawLP(t, env.url)
	resp, err := p.hc.PostForm(env.url, map[string][]string{"message": {`[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]`}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ms []*Message
	if err := json.NewDecoder(resp.Body).Decode(&ms); err != nil || !ms[0].Successful {
		t.Fatalf("%v %s", err, mustJSON(ms))
	}
}

func TestServerWebSocketFrames(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 20 * time.Second})
	wsURL := "ws" + strings.TrimPrefix(env.url, "http")
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		_ = c.SetReadDeadline(time.Now().Add(waitLong))
		return c
	}
	read := func(t *testing.T, c *websocket.Conn) []*Message {
		t.Helper()
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		ms, err := DecodeMessages(b)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	t.Run("single object frames and pushed deliveries", func(t *testing.T) {
		c := dial()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"]}`))
		hs := read(t, c)
		id := hs[0].ClientID
		_ = c.WriteMessage(websocket.TextMessage, []byte(`[{"id":"2","channel":"/meta/connect","clientId":"`+id+`","connectionType":"websocket"}]`))
		for !env.srv.Session(id).hasHeld() {
			time.Sleep(2 * time.Millisecond)
		}
		// While the connect is held, a publish gets its delivery and ack at once, in
		// one frame, delivery first.
		_ = c.WriteMessage(websocket.TextMessage, []byte(`[{"id":"3","channel":"/service/echo","clientId":"`+id+`","data":"x"}]`))
		d := read(t, c)
		if len(d) != 2 || d[0].IsReply() || string(d[0].Data) != `"x"` || !d[1].Successful || d[1].ID != "3" {
			t.Fatalf("frame %s", mustJSON(d))
		}
		// A delivery outside a handler is pushed at once, without completing the
		// held connect.
		if err := env.srv.Session(id).Deliver("/service/echo", "pushed"); err != nil {
			t.Fatal(err)
		}
		if p := read(t, c); len(p) != 1 || string(p[0].Data) != `"pushed"` {
			t.Fatalf("push %s", mustJSON(p))
		}
		if !env.srv.Session(id).hasHeld() {
			t.Fatal("the delivery completed the held connect over WebSocket")
		}
	})
	t.Run("handshake not alone closes the socket", func(t *testing.T) {
		c := dial()
		_ = c.WriteMessage(websocket.TextMessage, []byte(`[{"channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket"]},{"channel":"/a"}]`))
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseProtocolError) {
			t.Fatalf("err %v, want close 1002", err)
		}
	})
	t.Run("refused upgrade", func(t *testing.T) {
		env.srv.SetRefuseWebSocket(true)
		defer env.srv.SetRefuseWebSocket(false)
		_, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("err %v resp %v", err, resp)
		}
		resp.Body.Close()
	})
}

func TestServerDuplicateDeliveries(t *testing.T) {
	env := newTestEnv(t, ServerOptions{})
	env.srv.SetDuplicateDeliveries(true)
	p := newRawLP(t, env.url)
	id := p.handshake()
	_, ms := p.post(`[{"id":"3","channel":"/service/echo","clientId":"` + id + `","data":1}]`)
	if len(ms) != 3 || string(ms[0].Data) != "1" || string(ms[1].Data) != "1" {
		t.Fatalf("%s", mustJSON(ms))
	}
}

// The ack extension on our server: our client negotiates it, deliveries travel in
// connect replies, and acknowledging an older batch makes the server resend.
func TestServerAckExtension(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			env := newTestEnv(t, ServerOptions{AckExtension: true, Timeout: 5 * time.Second})
			ack := NewAckExtension()
			rewound := make(chan struct{})
			var armed, done bool
			rew := ExtensionFuncs{
				In: func(m *Message) bool {
					if m.Channel == "/service/echo" && string(m.Data) == `"second"` && !done {
						armed = true
					}
					return true
				},
				Out: func(m *Message) bool {
					if armed && m.Channel == ChannelConnect {
						var b int64
						_ = json.Unmarshal(m.Ext["ack"], &b)
						m.Ext["ack"] = json.RawMessage(jsonInt(b - 1))
						armed, done = false, true
						close(rewound)
					}
					return true
				},
			}
			c, ev := newTestClient(t, env.url, Options{Transports: tc.transports, Extensions: []Extension{ack, rew}})
			ctx := ctxT(t)
			if err := c.Handshake(ctx); err != nil {
				t.Fatal(err)
			}
			got := make(chan string, 8)
			rm, _ := c.AddListener("/service/echo", func(m *Message) { got <- string(m.Data) })
			defer rm()
			ev.waitFor(t, EventConnected, 1)
			if !ack.Active() {
				t.Fatal("ack not negotiated")
			}
			for _, want := range []string{`"first"`, `"second"`} {
				if _, err := c.Publish(ctx, "/service/echo", strings.Trim(want, `"`)); err != nil {
					t.Fatal(err)
				}
				if s := <-got; s != want {
					t.Fatalf("got %s, want %s", s, want)
				}
			}
			<-rewound
			if s := <-got; s != `"second"` {
				t.Fatalf("redelivery %s", s)
			}
		})
	}
}

// A held connect whose client went away must not swallow deliveries: they wait for the
// next connect.
func TestServerAbandonedConnectKeepsQueue(t *testing.T) {
	env := newTestEnv(t, ServerOptions{Timeout: 20 * time.Second})
	p := newRawLP(t, env.url)
	id := p.handshake()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, env.url, strings.NewReader(`[{"id":"2","channel":"/meta/connect","clientId":"`+id+`","connectionType":"long-polling"}]`))
	req.Header.Set("Content-Type", "application/json")
	done := make(chan struct{})
	go func() {
		defer close(done)
		if resp, err := p.hc.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	for !env.srv.Session(id).hasHeld() {
		time.Sleep(2 * time.Millisecond)
	}
	cancel()
	<-done
	for env.srv.Session(id).hasHeld() {
		time.Sleep(2 * time.Millisecond) // the server notices the closed request
	}
	if err := env.srv.Session(id).Deliver("/service/echo", "kept"); err != nil {
		t.Fatal(err)
	}
	_, ms := p.post(`[{"id":"3","channel":"/meta/connect","clientId":"` + id + `","connectionType":"long-polling","advice":{"timeout":0}}]`)
	if len(ms) != 2 || string(ms[0].Data) != `"kept"` {
		t.Fatalf("%s", mustJSON(ms))
	}
}
