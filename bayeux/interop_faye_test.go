//go:build unix

package bayeux

import (
	"encoding/json"
	"strings"
	"testing"
)

// C4 + C5: our client against Faye over WebSocket and long-polling: broadcast
// subscribe/publish/deliver (deliveries apart from the acks), held connects, ext
// pass-through, the JSON content type, and after a Faye restart "401:<id>:Unknown
// client" → re-handshake → re-subscribe.
func TestInteropFaye(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			p := startNode(t, "faye-server.js", "--timeout", "1")
			port := p.port()
			token := ExtensionFuncs{Out: func(m *Message) bool {
				setExt(m, "token", json.RawMessage(`"t-1"`))
				return true
			}}
			c, ev := newTestClient(t, baseURL(port, "/bayeux"), Options{Transports: tc.transports, Extensions: []Extension{token}})
			ctx := ctxT(t)
			if err := c.Handshake(ctx); err != nil {
				t.Fatal(err)
			}
			if c.Transport() != tc.transports[0] {
				t.Fatalf("transport %q, want %q", c.Transport(), tc.transports[0])
			}
			got := make(chan string, 16)
			if _, err := c.Subscribe(ctx, "/chat/room", func(m *Message) { got <- string(m.Data) }); err != nil {
				t.Fatal(err)
			}
			recv := func(want string) {
				t.Helper()
				select {
				case s := <-got:
					if s != want {
						t.Fatalf("delivery %s, want %s", s, want)
					}
				case <-ctx.Done():
					t.Fatalf("no delivery of %s", want)
				}
			}
			if _, err := c.Publish(ctx, "/chat/room", map[string]int{"hello": 1}); err != nil {
				t.Fatal(err)
			}
			recv(`{"hello":1}`)
			p.send(map[string]any{"cmd": "publish", "channel": "/chat/room", "data": "from server"})
			recv(`"from server"`)

			hs := p.next(isEvent("in", ChannelHandshake), "the handshake")
			if ext, _ := hs["ext"].(map[string]any); ext == nil || ext["token"] != "t-1" {
				t.Fatalf("handshake ext %v: extension output not on the wire", hs["ext"])
			}
			// Connects keep the session: the first ones are answered by the deliveries
			// above, the later ones are held (1 s each) and the session survives them.
			id := c.ClientID()
			for n := 0; n < 6; {
				m := p.next(func(m map[string]any) bool {
					return m["event"] == "in" && m["channel"] == ChannelConnect && m["clientId"] == id
				}, "held connects")
				if m["connectionType"] != tc.transports[0] {
					t.Fatalf("connectionType %v", m["connectionType"])
				}
				if tc.transports[0] == TransportLongPolling {
					if ct, _ := m["contentType"].(string); !strings.HasPrefix(ct, "application/json") {
						t.Fatalf("content type %q", ct)
					}
				}
				n++
			}
			if ev.count(EventHandshake) != 1 {
				t.Fatalf("%d handshakes before the restart", ev.count(EventHandshake))
			}
			first := id

			p.send(map[string]any{"cmd": "restart"})
			p.next(isEvent("restarted", ""), "restart")
			ev.waitFor(t, EventReestablished, 1)
			if c.ClientID() == first {
				t.Fatal("same client id after the restart")
			}
			// The subscription was sent again: a server publish reaches us. Faye may need
			// a moment to register it; publish until a delivery arrives.
			for {
				p.send(map[string]any{"cmd": "publish", "channel": "/chat/room", "data": "after restart"})
				p.next(isEvent("published", ""), "publish")
				select {
				case s := <-got:
					if s != `"after restart"` {
						t.Fatalf("delivery %s", s)
					}
					if err := c.Disconnect(ctx); err != nil {
						t.Fatal(err)
					}
					return
				case <-ctx.Done():
					t.Fatal("no delivery after the restart")
				default:
					p.next(isEvent("in", ChannelConnect), "a connect before publishing again")
				}
			}
		})
	}
}
