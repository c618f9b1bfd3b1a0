package gms

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// TestManyChats runs REST and CometD chats side by side with a scripted echo
// agent on the real clock; -race checks the locking.
func TestManyChats(t *testing.T) {
	s := NewServer(Options{Script: &Script{Agent: "Ann", JoinDelay: -1, Echo: true, EchoPrefix: "echo: ", ReplyDelay: -1}})
	defer s.Close()
	const n = 8
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			k, c := startREST(t, s)
			for j := 0; j < 5; j++ {
				op(t, s, k, wire.Request{Operation: wire.OpSendMessage, Message: fmt.Sprint(i, "-", j)})
				op(t, s, k, wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 1})
			}
			if _, err := c.WaitEvent(testCtx(t), wire.EventMessage, func(e wire.Event) bool { return e.Text == fmt.Sprint("echo: ", i, "-4") }); err != nil {
				t.Error(err)
			}
			op(t, s, k, wire.Request{Operation: wire.OpDisconnect})
		}(i)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cc := newComet(t, s, []string{"websocket", "long-polling"}[i%2])
			cc.publish(wire.Request{Operation: wire.OpRequestChat, Nickname: fmt.Sprint("c", i)})
			var k wire.Keys
			k.Apply(cc.next())
			cc.publish(wire.Request{Operation: wire.OpSendMessage, Message: "hi", SecureKey: k.SecureKey})
			c := s.Chat(k.ChatID)
			if _, err := c.WaitEvent(testCtx(t), wire.EventMessage, func(e wire.Event) bool { return e.Text == "echo: hi" }); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if got := len(s.Chats()); got != 2*n {
		t.Fatalf("%d chats", got)
	}
}

// TestCloseStopsTimers: pending timers are stopped by Close (goleak checks the rest).
func TestCloseStopsTimers(t *testing.T) {
	clk := transports.NewFakeClock(time.Time{})
	s := NewServer(Options{Clock: clk, Idle: IdleOptions{Enabled: true}, Script: &Script{Agent: "A", JoinDelay: 1e9}})
	startREST(t, s)
	if s.Pending() == 0 || clk.Pending() == 0 {
		t.Fatal("no timers armed")
	}
	s.Close()
	if s.Pending() != 0 || clk.Pending() != 0 {
		t.Fatalf("timers left: %d %d", s.Pending(), clk.Pending())
	}
	s.Close() // idempotent
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []Options{
		{MaxRequestBytes: -1},
		{SkipIndexEvery: -2},
		{BasicAuth: &Credentials{}},
		{Idle: IdleOptions{IncludeNotices: "sometimes"}},
		{Services: []string{"a/b"}},
	} {
		if _, err := New(o); err == nil || !strings.HasPrefix(err.Error(), "gms: Options.") {
			t.Fatalf("%+v: %v", o, err)
		}
	}
}

func TestStartAndMount(t *testing.T) {
	s, err := New(Options{Script: &Script{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	startREST(t, s)

	// As a plain handler under another server.
	h, _ := New(Options{Script: &Script{}})
	hs := httptest.NewServer(h)
	defer func() { hs.Close(); h.Close() }()
	h.URL = hs.URL
	startREST(t, h)
	res, err := http.Get(hs.URL + "/_sim/chats")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
}

// FuzzServeREST throws arbitrary REST requests at the handler: it must never
// panic, and every JSON answer must be a valid Chat V2 response.
func FuzzServeREST(f *testing.F) {
	f.Add("/genesys/2/chat/cs/", "application/x-www-form-urlencoded", "nickname=J&userData%5Ba%5D=1")
	f.Add("/genesys/2/chat/cs/X/send", "application/x-www-form-urlencoded", "secureKey=k&message=hi&eventAttributes=%7B%7D")
	f.Add("/genesys/2/chat/cs/X/file/F/download", "multipart/form-data; boundary=x", "--x--")
	f.Add("/genesys/2/chat-ntf", "application/x-www-form-urlencoded", "operation=download&secureKey=k&fileId=1")
	s, err := New(Options{Script: &Script{}, DisableControlAPI: true})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, path, ctype, body string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(http.MethodPost, "http://sim"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", ctype)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			if _, err := wire.DecodeResponse(rec.Body.Bytes()); err != nil {
				t.Fatalf("%s: invalid answer %v: %s", path, err, rec.Body.Bytes())
			}
		}
	})
}
