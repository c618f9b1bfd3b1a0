//go:build unix

package bayeux

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// jsEnv is our server on loopback at /cometd, recording request paths and session ends.
type jsEnv struct {
	srv    *Server
	url    string
	mu     sync.Mutex
	paths  map[string]int
	closed map[CloseReason]int
}

func newJSEnv(t *testing.T) *jsEnv {
	e := &jsEnv{paths: map[string]int{}, closed: map[CloseReason]int{}}
	e.srv = NewServer(ServerOptions{
		Timeout:       800 * time.Millisecond,
		MaxInterval:   1500 * time.Millisecond,
		StrictCookies: true, // long-polling must send BAYEUX_BROWSER back
		OnSessionClose: func(s *ServerSession, r CloseReason) {
			e.mu.Lock()
			e.closed[r]++
			e.mu.Unlock()
		},
	})
	e.srv.HandleService("/service/echo", func(ctx context.Context, s *ServerSession, m *Message) error {
		return s.Deliver(m.Channel, m.Data)
	})
	mux := http.NewServeMux()
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.paths[r.URL.Path]++
		e.mu.Unlock()
		e.srv.ServeHTTP(w, r)
	})
	mux.Handle("/cometd", record)
	mux.Handle("/cometd/", record)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.CloseClientConnections()
		e.srv.Close()
		hs.Close()
	})
	e.url = hs.URL + "/cometd"
	return e
}

func (e *jsEnv) count(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.paths[path]
}

func (e *jsEnv) closedFor(r CloseReason) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed[r]
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// S1, S2, S4, S5: the official cometd JS client against our server over WebSocket,
// long-polling, and with WebSocket refused (fallback to long-polling). Two clients
// publish on /service/echo and each gets its own reply only; held connects keep the
// sessions alive past MaxInterval; disconnect ends them.
func TestInteropCometDJSClient(t *testing.T) {
	cases := []struct {
		name, mode, want string
		refuseWS         bool
	}{
		{"websocket", "ws", "websocket", false},
		{"long-polling", "lp", "long-polling", false},
		{"websocket refused", "ws", "long-polling", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			interopDir(t)
			e := newJSEnv(t)
			e.srv.SetRefuseWebSocket(tc.refuseWS)
			p := startNode(t, "cometd-client.mjs", e.url, tc.mode, "service", strconv.Itoa(2500))
			res := p.next(isEvent("result", ""), "the scenario result")
			if res["transport"] != tc.want {
				t.Fatalf("transport %v, want %s", res["transport"], tc.want)
			}
			a, _ := res["a"].(map[string]any)
			b, _ := res["b"].(map[string]any)
			if a == nil || b == nil {
				t.Fatalf("result %v", res)
			}
			ra, _ := a["replies"].([]any)
			rb, _ := b["replies"].([]any)
			if len(ra) != 2 || len(rb) != 1 {
				t.Fatalf("replies A %v, B %v: each client must get only its own", ra, rb)
			}
			for _, r := range ra {
				if m, _ := r.(map[string]any); m["from"] != "A" {
					t.Fatalf("client A got %v", r)
				}
			}
			if m, _ := rb[0].(map[string]any); m["from"] != "B" {
				t.Fatalf("client B got %v", rb[0])
			}
			if num(a["handshakes"]) != 1 || num(a["connects"]) < 3 {
				t.Fatalf("client A: %v handshakes, %v connects: want 1 and heartbeats", a["handshakes"], a["connects"])
			}
			if res["disconnected"] != true {
				t.Fatal("disconnect failed")
			}
			if n := e.closedFor(CloseDisconnect); n != 2 {
				t.Fatalf("%d sessions closed by disconnect, want 2", n)
			}
			if tc.want == TransportLongPolling {
				for _, path := range []string{"/cometd/handshake", "/cometd/connect", "/cometd/disconnect"} {
					if e.count(path) == 0 {
						t.Fatalf("no POST to %s", path)
					}
				}
				if e.count("/cometd")+e.count("/cometd/") == 0 {
					t.Fatal("no POST to the base URL")
				}
			}
		})
	}
}

// S3: our server forgets the session; the JS client gets "402::Unknown client" with
// handshake advice and re-handshakes (reestablish:true), then publishes again.
func TestInteropCometDJSClientReestablish(t *testing.T) {
	for _, mode := range []string{"ws", "lp"} {
		t.Run(mode, func(t *testing.T) {
			interopDir(t)
			e := newJSEnv(t)
			p := startNode(t, "cometd-client.mjs", e.url, mode, "reestablish")
			ready := p.next(isEvent("ready", ""), "ready")
			id, _ := ready["clientId"].(string)
			if !e.srv.ForgetSession(id) {
				t.Fatalf("session %q not found", id)
			}
			res := p.next(isEvent("result", ""), "the scenario result")
			a, _ := res["a"].(map[string]any)
			if num(a["reestablished"]) < 1 || len(a["replies"].([]any)) != 1 {
				t.Fatalf("result %v", res)
			}
		})
	}
}
