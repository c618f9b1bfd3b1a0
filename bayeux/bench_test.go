package bayeux

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func benchEnv(b *testing.B) (*Server, string) {
	b.Helper()
	srv := NewServer(ServerOptions{Timeout: 30 * time.Second})
	srv.HandleService("/service/echo", func(ctx context.Context, s *ServerSession, m *Message) error {
		return s.Deliver(m.Channel, m.Data)
	})
	hs := httptest.NewServer(srv)
	b.Cleanup(func() {
		hs.CloseClientConnections()
		srv.Close()
		hs.Close()
	})
	return srv, hs.URL + "/cometd"
}

func benchClient(b *testing.B, url string, transports []string) *Client {
	b.Helper()
	c, err := NewClient(url, Options{Transports: transports})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Handshake(ctx); err != nil {
		b.Fatal(err)
	}
	return c
}

// BenchmarkWebSocketRoundTrip: a Bayeux request/response on /service (publish, server
// handler delivers the reply, client gets the delivery and the ack) over WebSocket,
// against its baseline, a raw gorilla WebSocket text-frame echo of a similar payload.
func BenchmarkWebSocketRoundTrip(b *testing.B) {
	payload := map[string]any{"operation": "sendMessage", "message": "hello there", "secureKey": "4ee15d7e1c343c8e"}
	b.Run("bayeux-request", func(b *testing.B) {
		_, url := benchEnv(b)
		c := benchClient(b, url, []string{TransportWebSocket})
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Request(ctx, "/service/echo", payload, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-raw-gorilla-echo", func(b *testing.B) {
		up := websocket.Upgrader{}
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer conn.Close()
			for {
				mt, data, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if err := conn.WriteMessage(mt, data); err != nil {
					return
				}
			}
		}))
		defer hs.Close()
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hs.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		msg := []byte(`[{"id":"1","channel":"/service/echo","clientId":"0123456789abcdef0123456789abcdef","data":{"operation":"sendMessage","message":"hello there","secureKey":"4ee15d7e1c343c8e"}}]`)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
				b.Fatal(err)
			}
			if _, _, err := conn.ReadMessage(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLongPollingDelivery: latency from ServerSession.Deliver to the client's
// listener over long-polling (the delivery completes the held connect; the client then
// sends the next connect), against its baseline, a raw HTTP POST round trip.
func BenchmarkLongPollingDelivery(b *testing.B) {
	b.Run("bayeux-delivery", func(b *testing.B) {
		srv, url := benchEnv(b)
		c := benchClient(b, url, []string{TransportLongPolling})
		got := make(chan struct{}, 1)
		rm, _ := c.AddListener("/service/notify", func(*Message) { got <- struct{}{} })
		defer rm()
		ss := srv.Session(c.ClientID())
		data := map[string]any{"messages": []any{}, "statusCode": 0, "nextPosition": 9}
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := ss.Deliver("/service/notify", data); err != nil {
				b.Fatal(err)
			}
			<-got
		}
	})
	b.Run("baseline-raw-http-round-trip", func(b *testing.B) {
		reply := []byte(`[{"channel":"/service/notify","data":{"messages":[],"statusCode":0,"nextPosition":9}},{"id":"2","channel":"/meta/connect","successful":true}]`)
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(reply)
		}))
		defer hs.Close()
		hc := hs.Client()
		body := []byte(`[{"id":"2","channel":"/meta/connect","clientId":"0123456789abcdef0123456789abcdef","connectionType":"long-polling"}]`)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			resp, err := hc.Post(hs.URL, "application/json;charset=UTF-8", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
