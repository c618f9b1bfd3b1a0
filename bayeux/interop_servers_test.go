//go:build unix

package bayeux

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// C1 + C6: our client against cometd-nodejs-server. WebSocket is tried first and fails
// (the server has no WebSocket), so the client uses long-polling; the first connect asks
// for an immediate answer, the cookie jar is used, /service replies travel in the publish
// response, and held connects keep the session alive.
func TestInteropCometDNodeServerLongPolling(t *testing.T) {
	p := startNode(t, "cometd-server.js", "--timeout", "700", "--max-interval", "3000")
	port := p.port()
	c, ev := newTestClient(t, baseURL(port, "/cometd"), Options{})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	if c.Transport() != TransportLongPolling {
		t.Fatalf("transport %q, want long-polling after the WebSocket attempt failed", c.Transport())
	}
	ev.waitFor(t, EventConnected, 1)
	id := c.ClientID()
	hs := p.next(isEvent("in", ChannelHandshake), "the handshake")
	if hs["hasBrowserCookie"] == true {
		t.Fatal("the handshake carried a cookie before the server set one")
	}
	first := p.next(isEvent("in", ChannelConnect), "the first connect")
	if adv, _ := first["advice"].(map[string]any); adv == nil || adv["timeout"] != float64(0) {
		t.Fatalf("first connect advice %v, want {timeout:0}", first["advice"])
	}
	if first["hasBrowserCookie"] != true {
		t.Fatal("the connect did not carry BAYEUX_BROWSER: cookie jar not used")
	}
	if ct, _ := first["contentType"].(string); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	for i := range 3 {
		rep, err := c.Request(ctx, "/service/echo", map[string]int{"i": i}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]int
		if err := rep.DataAs(&got); err != nil || got["i"] != i {
			t.Fatalf("reply %s", rep.Data)
		}
	}
	// Held connects (700 ms each) keep the session: several connects, no new handshake.
	for n := 0; n < 4; {
		m := p.next(func(m map[string]any) bool {
			return m["event"] == "in" && (m["channel"] == ChannelConnect || m["channel"] == ChannelHandshake)
		}, "held connects")
		if m["channel"] == ChannelHandshake {
			t.Fatalf("unexpected re-handshake; output:\n%s", p.output())
		}
		if m["clientId"] != id || m["hasBrowserCookie"] != true {
			t.Fatalf("connect %v: want clientId %s with the cookie", m, id)
		}
		n++
	}
	if err := c.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	p.next(isEvent("in", ChannelDisconnect), "the disconnect")
}

// C2: the server forgets the session → 402::session_unknown + handshake advice → the
// client re-handshakes and reports EventReestablished. Negative control: without
// cookies every connect is refused, so the client never gets connected.
func TestInteropCometDNodeServerRehandshake(t *testing.T) {
	p := startNode(t, "cometd-server.js", "--timeout", "2000")
	port := p.port()
	c, ev := newTestClient(t, baseURL(port, "/"), Options{Transports: []string{TransportLongPolling}})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, EventConnected, 1)
	first := c.ClientID()
	p.send(map[string]any{"cmd": "forget", "id": first})
	if m := p.next(isEvent("forgot", ""), "forget"); m["found"] != true {
		t.Fatal("session not found in the node server")
	}
	ev.waitFor(t, EventReestablished, 1)
	if c.ClientID() == first {
		t.Fatal("client id unchanged after re-handshake")
	}
	if _, err := c.Request(ctx, "/service/echo", "again", nil); err != nil {
		t.Fatal(err)
	}

	t.Run("no cookies", func(t *testing.T) {
		nc, nev := newTestClient(t, baseURL(port, "/"), Options{Transports: []string{TransportLongPolling}, Jar: dropJar{}})
		if err := nc.Handshake(ctx); err != nil {
			t.Fatal(err)
		}
		nev.waitFor(t, EventHandshake, 3)
		if n := nev.count(EventConnected); n != 0 {
			t.Fatalf("connected %d times without the browser cookie", n)
		}
	})
}

// dropJar stores no cookie.
type dropJar struct{}

func (dropJar) SetCookies(*url.URL, []*http.Cookie) {}
func (dropJar) Cookies(*url.URL) []*http.Cookie     { return nil }

// C3: the ack extension: negotiated on the handshake, batch numbers follow the connect
// replies, and acknowledging an older batch makes the server resend its messages.
func TestInteropCometDNodeServerAck(t *testing.T) {
	p := startNode(t, "cometd-server.js", "--ack", "--timeout", "1000")
	port := p.port()
	ack := NewAckExtension()
	var (
		mu     sync.Mutex
		armed  bool
		rewind int64 = -1
	)
	rewinder := ExtensionFuncs{
		In: func(m *Message) bool {
			if m.Channel == "/news" && string(m.Data) == "2" {
				mu.Lock()
				if rewind < 0 {
					armed = true
				}
				mu.Unlock()
			}
			return true
		},
		Out: func(m *Message) bool {
			mu.Lock()
			defer mu.Unlock()
			if armed && m.Channel == ChannelConnect {
				var b int64
				_ = json.Unmarshal(m.Ext["ack"], &b)
				rewind = b - 1
				m.Ext["ack"] = json.RawMessage(jsonInt(rewind))
				armed = false
			}
			return true
		},
	}
	c, ev := newTestClient(t, baseURL(port, "/"), Options{Transports: []string{TransportLongPolling}, Extensions: []Extension{ack, rewinder}})
	ctx := ctxT(t)
	if err := c.Handshake(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 16)
	if _, err := c.Subscribe(ctx, "/news", func(m *Message) { got <- string(m.Data) }); err != nil {
		t.Fatal(err)
	}
	ev.waitFor(t, EventConnected, 1)
	if !ack.Active() {
		t.Fatal("ack extension not negotiated")
	}
	recv := func() string {
		select {
		case s := <-got:
			return s
		case <-ctxDone(ctx):
			t.Fatal("no delivery")
		}
		return ""
	}
	p.send(map[string]any{"cmd": "publish", "channel": "/news", "data": 1})
	if s := recv(); s != "1" {
		t.Fatalf("got %s, want 1", s)
	}
	p.send(map[string]any{"cmd": "publish", "channel": "/news", "data": 2})
	if s := recv(); s != "2" {
		t.Fatalf("got %s, want 2", s)
	}
	// The next connect acknowledges the batch before: the server resends "2".
	if s := recv(); s != "2" {
		t.Fatalf("got %s, want the redelivered 2", s)
	}
	if ack.Batch() <= 0 {
		t.Fatalf("batch %d, want > 0", ack.Batch())
	}
	in := p.next(func(m map[string]any) bool {
		ext, _ := m["ext"].(map[string]any)
		return m["channel"] == ChannelConnect && ext != nil && ext["ack"] != nil
	}, "a connect with ext.ack")
	_ = in
}
