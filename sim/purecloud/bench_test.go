package purecloud

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// benchChat: a chat with a CONNECTED agent and n attached sockets, drained.
func benchChat(b *testing.B, n int) (*Server, *chat, []*websocket.Conn, *Conversation) {
	b.Helper()
	o := fastOpts()
	o.Script = &Script{Agent: &AgentProfile{Name: "Bench"}}
	o.IdleTimeout, o.DetachTimeout = -1, -1
	s, err := Start("127.0.0.1:0", o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(s.Close)
	body, _ := json.Marshal(createReq())
	res, err := http.Post(s.URL+wire.ConversationsPath, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	a := &chat{s: s}
	_ = json.NewDecoder(res.Body).Decode(&a.info)
	res.Body.Close()
	conv := s.Conversation(a.conv())
	var conns []*websocket.Conn
	for i := 0; i < n; i++ {
		c, _, err := websocket.DefaultDialer.Dial(a.info.EventStreamURI, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	// Wait for the agent, then drain every socket up to a sentinel message.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := conv.Wait(ctx, func(c *Conversation) bool { return c.AgentState() == wire.StateConnected }); err != nil {
		b.Fatal(err)
	}
	if _, err := conv.Say("sync", SayOptions{}); err != nil {
		b.Fatal(err)
	}
	for _, c := range conns {
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if ev, _ := wire.ParseEvent(data); ev != nil && ev.Kind == wire.KindMessage && ev.Message.Body == "sync" {
				break
			}
		}
	}
	return s, a, conns, conv
}

func readUntilMessage(b *testing.B, c *websocket.Conn) {
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			b.Fatal(err)
		}
		if bytes.Contains(data, []byte(`"type":"message"`)) {
			return
		}
	}
}

// BenchmarkGuestPostToEcho: POST #5 (JWT check, validation, store) and read
// its echo event on the guest's socket.
func BenchmarkGuestPostToEcho(b *testing.B) { benchGuestPost(b, 1) }

// BenchmarkGuestPostFanout4: the same with 4 sockets attached, each read.
func BenchmarkGuestPostFanout4(b *testing.B) { benchGuestPost(b, 4) }

// benchGuestPost posts guest messages and reads each echo on every one of sockets sockets.
func benchGuestPost(b *testing.B, sockets int) {
	_, a, conns, _ := benchChat(b, sockets)
	url := a.url(wire.MemberMessagesPath(a.conv(), a.me()))
	client := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"body":"benchmark message"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+a.info.JWT)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		for _, c := range conns {
			readUntilMessage(b, c)
		}
	}
}

// BenchmarkBaselineHTTPRoundTrip: a raw loopback POST to a handler that
// answers a fixed JSON body, and nothing else: the floor under the two above.
func BenchmarkBaselineHTTPRoundTrip(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	reply := []byte(`{"id":"d184e1de-b9c8-4dd3-b970-a2a5adbaac3a","body":"benchmark message"}`)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(reply)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/x"
	client := &http.Client{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := client.Post(url, "application/json", strings.NewReader(`{"body":"benchmark message"}`))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
}

// BenchmarkAgentSayToSocket: Conversation.Say (store + encode + queue) to
// the frame read by the guest's socket.
func BenchmarkAgentSayToSocket(b *testing.B) {
	_, _, conns, conv := benchChat(b, 1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := conv.Say("benchmark message", SayOptions{}); err != nil {
			b.Fatal(err)
		}
		readUntilMessage(b, conns[0])
	}
}

// BenchmarkBaselineRawWebSocket: a bare gorilla server writes the same
// kind of frame on request and the client reads it (one round trip).
func BenchmarkBaselineRawWebSocket(b *testing.B) {
	frame := []byte(`{"topicName":"v2.conversations.chats.c.messages","version":"2","eventBody":{"id":"m","conversation":{"id":"c"},"sender":{"id":"s"},"body":"benchmark message","bodyType":"standard","timestamp":"2020-08-05T13:10:02.113Z"},"metadata":{"CorrelationId":"x","type":"message"}}`)
	up := websocket.Upgrader{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
			if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
				return
			}
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.WriteMessage(websocket.TextMessage, wire.PingFrame); err != nil {
			b.Fatal(err)
		}
		readUntilMessage(b, c)
	}
}
