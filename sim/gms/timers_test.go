package gms

import (
	"net/http"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports/gms/wire"
)

func TestIdleControl(t *testing.T) {
	s, clk := newSim(t, Options{Idle: IdleOptions{Enabled: true, Alert: 60 * time.Second, Close: 30 * time.Second, IncludeNotices: "typing"},
		FlexDisconnectTimeout: -1})
	k, c := startREST(t, s)
	a, _ := c.JoinAgent("Ann")

	// Activity before the alert resets the timer.
	clk.Advance(50 * time.Second)
	op(t, s, k, wire.Request{Operation: wire.OpStartTyping, Message: "x"}) // typing counts ("typing")
	clk.Advance(50 * time.Second)
	if hasType(c, wire.EventIdleAlert) {
		t.Fatal("alert despite activity")
	}
	clk.Advance(11 * time.Second)
	ev, ok := find(c, wire.EventIdleAlert)
	if !ok {
		t.Fatal("no IdleAlert after timeout-alert")
	}
	if n, ok := ev.IdleSecondsLeft(); !ok || n != 30 || ev.UserData[wire.KeyNextIdleTimerType] != "CLOSE" || ev.Text != DefaultIdleAlertText {
		t.Fatalf("alert %+v", ev)
	}
	// A message after the alert cancels the close.
	a.Send("still here?")
	clk.Advance(40 * time.Second)
	if ended, _ := c.Ended(); ended {
		t.Fatal("closed despite activity")
	}
	// Alert again at 60 s of silence (counted from the message), then close 30 s later.
	clk.Advance(20 * time.Second)
	clk.Advance(30 * time.Second)
	if ended, why := c.Ended(); !ended || why != EndIdle {
		t.Fatalf("ended=%v why=%s; transcript %+v", ended, why, c.Transcript())
	}
	tr := c.Transcript()
	if tr[len(tr)-2].Type != wire.EventIdleClose || tr[len(tr)-1].Type != wire.EventParticipantLeft {
		t.Fatalf("end events %+v", tr[len(tr)-2:])
	}
	r := op(t, s, k, wire.Request{Operation: wire.OpRefresh, TranscriptPosition: tr[len(tr)-2].Index}).resp
	if !r.ChatEnded || r.StatusCode != 0 || len(r.Messages) != 2 {
		t.Fatalf("refresh after idle close: %+v", r)
	}
}

func TestIdleNoticesRules(t *testing.T) {
	tests := []struct {
		include string
		op      wire.Request
		resets  bool
	}{
		{"none", wire.Request{Operation: wire.OpStartTyping}, false},
		{"none", wire.Request{Operation: wire.OpCustomNotice, Message: "x"}, false},
		{"none", wire.Request{Operation: wire.OpCustomNotice, EventAttributes: map[string]any{"purpose": "cancel-idle-timer"}}, true},
		{"none", wire.Request{Operation: wire.OpSendMessage, Message: "x"}, true},
		{"major", wire.Request{Operation: wire.OpPushURL, PushURL: "http://x"}, true},
		{"major", wire.Request{Operation: wire.OpCustomNotice, Message: "x"}, false},
		{"major2", wire.Request{Operation: wire.OpCustomNotice, Message: "x"}, true},
		{"all", wire.Request{Operation: wire.OpUpdateNickname, Nickname: "n"}, true},
		{"typing", wire.Request{Operation: wire.OpUpdateNickname, Nickname: "n"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.include+"/"+string(tt.op.Operation), func(t *testing.T) {
			s, clk := newSim(t, Options{Idle: IdleOptions{Enabled: true, Alert: 10 * time.Second, IncludeNotices: tt.include}, FlexDisconnectTimeout: -1})
			k, c := startREST(t, s)
			clk.Advance(9 * time.Second)
			op(t, s, k, tt.op)
			clk.Advance(2 * time.Second)
			if got := !hasType(c, wire.EventIdleAlert); got != tt.resets {
				t.Fatalf("reset=%v, want %v", got, tt.resets)
			}
		})
	}
}

func TestIdleAlert2AndManual(t *testing.T) {
	s, clk := newSim(t, Options{Idle: IdleOptions{Enabled: true, Alert: 10 * time.Second, Alert2: 5 * time.Second, Close: 7 * time.Second}, FlexDisconnectTimeout: -1})
	_, c := startREST(t, s)
	clk.Advance(10 * time.Second)
	clk.Advance(5 * time.Second)
	var kinds []string
	for _, e := range c.Transcript() {
		if e.Type == wire.EventIdleAlert {
			kinds = append(kinds, e.UserData[wire.KeyNextIdleTimerType]+"/"+e.UserData[wire.KeyNextIdleTimerSecs])
		}
	}
	if len(kinds) != 2 || kinds[0] != "ALERT2/5" || kinds[1] != "CLOSE/7" {
		t.Fatalf("alerts %v", kinds)
	}
	clk.Advance(7 * time.Second)
	if ended, why := c.Ended(); !ended || why != EndIdle {
		t.Fatal("not closed")
	}

	// Manual alert/close from the agent side.
	_, c2 := startREST(t, s)
	if err := c2.IdleAlert(); err != nil || !hasType(c2, wire.EventIdleAlert) {
		t.Fatal(err)
	}
	if err := c2.IdleClose(); err != nil || !hasType(c2, wire.EventIdleClose) {
		t.Fatal(err)
	}
	if err := c2.IdleClose(); err != ErrChatEnded {
		t.Fatal(err)
	}
}

func TestFlexDisconnectTimeout(t *testing.T) {
	s, clk := newSim(t, Options{})
	k, c := startREST(t, s)
	for i := 0; i < 3; i++ { // polling every 30 s keeps it open
		clk.Advance(30 * time.Second)
		op(t, s, k, wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 2})
	}
	if ended, _ := c.Ended(); ended {
		t.Fatal("closed while polling")
	}
	clk.Advance(45 * time.Second)
	ended, why := c.Ended()
	if !ended || why != EndFlex {
		t.Fatalf("ended=%v %s", ended, why)
	}
	e := last(c)
	if e.Type != wire.EventParticipantLeft || e.From.Type != wire.PartyClient {
		t.Fatalf("%+v", e)
	}
	// Retention: the ended chat answers refresh for 60 s, then is forgotten.
	if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 2}); !a.resp.ChatEnded || a.resp.StatusCode != 0 {
		t.Fatalf("%s", a.body)
	}
	clk.Advance(61 * time.Second)
	if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh}); a.status != 404 {
		t.Fatalf("after retention: %d %s", a.status, a.body)
	}
	if s.Chat(k.ChatID) != nil {
		t.Fatal("chat not forgotten")
	}
}

func TestAuth(t *testing.T) {
	s, _ := newSim(t, Options{BasicAuth: &Credentials{Username: "user1", Password: "pass1"}, APIKey: "k-123"})
	form := wire.Request{Operation: wire.OpRequestChat, Nickname: "J"}
	f, _ := form.Form()
	good := http.Header{"Apikey": {"k-123"}, "Authorization": {"Basic dXNlcjE6cGFzczE="}}
	tests := []struct {
		name   string
		hdr    http.Header
		status int
	}{
		{"nothing", nil, 401},
		{"apikey only", http.Header{"Apikey": {"k-123"}}, 401},
		{"basic only", http.Header{"Authorization": {"Basic dXNlcjE6cGFzczE="}}, 401},
		{"wrong password", http.Header{"Apikey": {"k-123"}, "Authorization": {"Basic dXNlcjE6cGFzczI="}}, 401},
		{"both", good, 200},
	}
	for _, tt := range tests {
		a := postForm(t, s.ChatURL(svc), f, tt.hdr)
		if a.status != tt.status {
			t.Fatalf("%s: %d %s", tt.name, a.status, a.body)
		}
		if tt.status == 401 && a.resp.Errors[0].Code != wire.CodeNotAuthorized {
			t.Fatalf("%s: %s", tt.name, a.body)
		}
	}
	// chat-ntf needs Basic, not the apikey.
	a := postForm(t, s.NtfURL(), map[string][]string{"operation": {"fileGetLimits"}, "secureKey": {"x"}}, http.Header{"Authorization": {"Basic dXNlcjE6cGFzczE="}})
	if a.status != 200 {
		t.Fatalf("ntf with basic: %d", a.status)
	}
	if a := postForm(t, s.NtfURL(), nil, nil); a.status != 401 {
		t.Fatalf("ntf without basic: %d", a.status)
	}
}

func hasType(c *Chat, typ wire.EventType) bool { _, ok := find(c, typ); return ok }

func find(c *Chat, typ wire.EventType) (wire.Event, bool) {
	for _, e := range c.Transcript() {
		if e.Type == typ {
			return e, true
		}
	}
	return wire.Event{}, false
}
