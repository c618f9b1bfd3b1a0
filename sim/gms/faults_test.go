package gms

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports/gms/wire"
)

func TestChatServerOffline(t *testing.T) {
	s, clk := newSim(t, Options{FlexDisconnectTimeout: -1})
	k, c := startREST(t, s)
	s.ChatServerOffline(2)
	for i := 0; i < 2; i++ {
		a := op(t, s, k, wire.Request{Operation: wire.OpSendMessage, Message: "lost?"})
		if a.status != 200 || a.resp.StatusCode != wire.StatusRetry || a.resp.SecureKey != "" {
			t.Fatalf("answer %d: %s", i, a.body)
		}
	}
	if len(c.ClientMessages()) != 0 {
		t.Fatal("an operation answered with statusCode 1 took effect")
	}
	if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh}); a.resp.StatusCode != 0 {
		t.Fatalf("back online: %s", a.body)
	}
	s.ChatServerOfflineFor(10 * time.Second)
	if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh}); a.resp.StatusCode != 1 {
		t.Fatal("offline window")
	}
	clk.Advance(11 * time.Second)
	if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh}); a.resp.StatusCode != 0 {
		t.Fatal("window did not end")
	}
}

func TestMoveChatServer(t *testing.T) {
	s, clk := newSim(t, Options{FlexDisconnectTimeout: -1})
	k, c := startREST(t, s)
	nk := c.MoveChatServer(MoveOptions{NewUserID: true})
	if nk.Alias == k.Alias || nk.SecureKey == k.SecureKey || nk.UserID == k.UserID || nk.ChatID != k.ChatID {
		t.Fatalf("keys did not move: %v → %v", k, nk)
	}
	// The old key still works within the grace window and the answer carries the new keys.
	a := op(t, s, k, wire.Request{Operation: wire.OpRefresh})
	got := k
	if !got.Apply(a.resp) || got != nk {
		t.Fatalf("answer keys %v, want %v", got, nk)
	}
	clk.Advance(31 * time.Second)
	if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh}); a.resp.StatusCode != 2 {
		t.Fatalf("old key after grace: %s", a.body)
	}
	if a := op(t, s, nk, wire.Request{Operation: wire.OpRefresh}); a.resp.StatusCode != 0 {
		t.Fatalf("new key: %s", a.body)
	}
	// Alias-only move keeps the key.
	k2 := c.MoveChatServer(MoveOptions{KeepSecureKey: true})
	if k2.SecureKey != nk.SecureKey || k2.Alias == nk.Alias {
		t.Fatal("alias-only move")
	}
}

func TestHTTPFaults(t *testing.T) {
	s, clk := newSim(t, Options{FlexDisconnectTimeout: -1})
	k, _ := startREST(t, s)
	s.FailRequests(2, 503)
	for i := 0; i < 2; i++ {
		if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh}); a.status != 503 {
			t.Fatalf("%d", a.status)
		}
	}
	if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh}); a.status != 200 {
		t.Fatal(a.status)
	}

	// A delay holds the answer until the (fake) clock passes it.
	s.SetDelay(5 * time.Second)
	done := make(chan answer, 1)
	go func() { done <- op(t, s, k, wire.Request{Operation: wire.OpRefresh}) }()
	if err := clk.BlockUntil(testCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
		t.Fatal("answered before the delay")
	default:
	}
	clk.Advance(5 * time.Second)
	if a := <-done; a.status != 200 {
		t.Fatal(a.status)
	}
	s.SetDelay(0)

	// Duplicate delivery: a refresh repeats the event before the position.
	s.SetDuplicateDelivery(true)
	a := op(t, s, k, wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 2})
	if len(a.resp.Messages) != 1 || a.resp.Messages[0].Index != 1 {
		t.Fatalf("duplicate: %s", a.body)
	}
	s.SetDuplicateDelivery(false)

	// A per-operation failure leaves other operations alone and the failed one has no effect.
	s.FailOperation(wire.OpSendMessage, 1, 500)
	if a := op(t, s, k, wire.Request{Operation: wire.OpRefresh}); a.status != 200 {
		t.Fatalf("refresh under a sendMessage fault: %d", a.status)
	}
	if a := op(t, s, k, wire.Request{Operation: wire.OpSendMessage, Message: "lost"}); a.status != 500 {
		t.Fatalf("sendMessage under its fault: %d", a.status)
	}
	if a := op(t, s, k, wire.Request{Operation: wire.OpSendMessage, Message: "kept"}); a.status != 200 {
		t.Fatalf("sendMessage after its fault: %d", a.status)
	}
	if msgs := s.Chat(k.ChatID).ClientMessages(); len(msgs) != 1 || msgs[0] != "kept" {
		t.Fatalf("client messages %q", msgs)
	}
	s.FailOperation(wire.OpSendMessage, 3, 502)
	s.FailOperation(wire.OpSendMessage, 0, 0) // cleared
	if a := op(t, s, k, wire.Request{Operation: wire.OpSendMessage, Message: "again"}); a.status != 200 {
		t.Fatalf("sendMessage after the fault was cleared: %d", a.status)
	}
}

func TestAgentSide(t *testing.T) {
	s, _ := newSim(t, Options{FlexDisconnectTimeout: -1})
	_, c := startREST(t, s)
	bot, _ := c.JoinBot("Kate")
	if err := bot.Send("I am a bot"); err != nil {
		t.Fatal(err)
	}
	if e := last(c); !e.IsBot() || e.From.Type != wire.PartyAgent {
		t.Fatalf("bot message %+v", e)
	}
	ann, _ := bot.Transfer("Ann")
	sup, _ := c.JoinSupervisor("Sue")
	steps := []func() error{
		func() error { return ann.Typing(true, "typ") },
		func() error { return ann.Typing(false, "") },
		func() error {
			return ann.SendWith("reply", "text", map[string]any{"general-properties": map[string]any{"related-event-id": "3"}})
		},
		func() error { return ann.Notice("notice") },
		func() error { return ann.CustomNotice("custom", map[string]any{"k": "v"}) },
		func() error { return ann.PushURL("http://example.com") },
		func() error { return ann.UpdateNickname("Annie") },
		func() error { _, err := ann.UploadFile("a.pdf", []byte("x"), nil); return err },
		func() error { return sup.Leave() },
	}
	for i, f := range steps {
		if err := f(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	var types []string
	for _, e := range c.Transcript()[1:] {
		types = append(types, string(e.Type)+":"+e.From.Nickname)
	}
	want := "ParticipantJoined:Kate Message:Kate ParticipantJoined:Ann ParticipantLeft:Kate ParticipantJoined:Sue " +
		"TypingStarted:Ann TypingStopped:Ann Message:Ann Notice:Ann CustomNotice:Ann PushUrl:Ann NicknameUpdated:Annie FileUploaded:Annie ParticipantLeft:Sue"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("transcript\n got %s\nwant %s", got, want)
	}
	if err := sup.Send("x"); err != ErrAgentLeft {
		t.Fatal(err)
	}
	if len(c.Agents()) != 1 || c.Agent(ann.ParticipantID()) != ann {
		t.Fatal("agents")
	}
	if err := c.End(); err != nil {
		t.Fatal(err)
	}
	if e := last(c); e.Type != wire.EventParticipantLeft || e.From.Nickname != "Annie" {
		t.Fatalf("%+v", e)
	}
	if _, err := c.JoinAgent("late"); err != ErrChatEnded {
		t.Fatal(err)
	}
}

func TestScript(t *testing.T) {
	got := make(chan string, 4)
	s, clk := newSim(t, Options{FlexDisconnectTimeout: -1, Script: &Script{
		Agent: "Ann", JoinDelay: 2 * time.Second, Greeting: "Hello!",
		Replies: []Reply{{Match: "PRICE", Text: "It is free.", Delay: 3 * time.Second, Typing: true}},
		Echo:    true, EchoPrefix: "echo: ", ReplyDelay: time.Second,
		OnClientMessage: func(c *Chat, ev wire.Event) { got <- ev.Text },
	}})
	k, c := startREST(t, s)
	if len(c.Agents()) != 0 {
		t.Fatal("joined before JoinDelay")
	}
	clk.Advance(2 * time.Second)
	if _, err := c.WaitEvent(testCtx(t), wire.EventMessage, func(e wire.Event) bool { return e.Text == "Hello!" }); err != nil {
		t.Fatal(err)
	}
	op(t, s, k, wire.Request{Operation: wire.OpSendMessage, Message: "what is the price?"})
	if !hasType(c, wire.EventTypingStarted) {
		t.Fatal("no typing before the scripted reply")
	}
	clk.Advance(3 * time.Second)
	if e := last(c); e.Text != "It is free." {
		t.Fatalf("%+v", e)
	}
	op(t, s, k, wire.Request{Operation: wire.OpSendMessage, Message: "thanks"})
	if err := clk.BlockUntil(testCtx(t), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if _, err := c.WaitEvent(testCtx(t), wire.EventMessage, func(e wire.Event) bool { return e.Text == "echo: thanks" }); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"what is the price?", "thanks"} {
		select {
		case g := <-got:
			if g != want {
				t.Fatalf("hook got %q", g)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("hook not called")
		}
	}
}

func TestControlAPI(t *testing.T) {
	s, _ := newSim(t, Options{FlexDisconnectTimeout: -1})
	k, c := startREST(t, s)
	call := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		var list []any
		dec := json.NewDecoder(res.Body)
		if strings.HasSuffix(path, "/chats") {
			dec.Decode(&list)
			return res.StatusCode, map[string]any{"list": list}
		}
		dec.Decode(&m)
		return res.StatusCode, m
	}
	base := "/_sim/chats/" + k.ChatID
	st, m := call("POST", base+"/join", `{"name":"Ann"}`)
	if st != 200 || m["participantId"] != "2" {
		t.Fatalf("join: %d %v", st, m)
	}
	ag := base + "/agents/2"
	for _, step := range []struct{ path, body string }{
		{"/send", `{"text":"hi"}`},
		{"/typing", `{"typing":true,"text":"t"}`},
		{"/notice", `{"text":"n"}`},
		{"/customNotice", `{"text":"c","eventAttributes":{"a":1}}`},
		{"/pushUrl", `{"url":"http://x"}`},
		{"/nickname", `{"nickname":"Annie"}`},
		{"/file", `{"name":"a.txt","content":"aGk="}`},
	} {
		if st, m := call("POST", ag+step.path, step.body); st != 200 {
			t.Fatalf("%s: %d %v", step.path, st, m)
		}
	}
	if st, m := call("POST", ag+"/transfer", `{"name":"Bob"}`); st != 200 || m["participantId"] != "3" {
		t.Fatalf("transfer %d %v", st, m)
	}
	if st, _ := call("POST", ag+"/send", `{"text":"gone"}`); st != 404 {
		t.Fatalf("left agent: %d", st)
	}
	if st, m := call("POST", base+"/move", `{}`); st != 200 || m["alias"] == k.Alias {
		t.Fatalf("move %d %v", st, m)
	}
	if st, m := call("POST", "/_sim/faults", `{"offline":1,"fail":0,"delay":"0s","duplicate":false,"dropNotifications":0}`); st != 200 {
		t.Fatalf("faults %d %v", st, m)
	}
	if st, m := call("POST", "/_sim/faults", `{"fail":1,"failStatus":502,"failOperation":"fileGetLimits"}`); st != 200 {
		t.Fatalf("failOperation %d %v", st, m)
	}
	s.FailOperation(wire.OpFileGetLimits, 0, 0)
	for _, body := range []string{`{"fail":1,"failOperation":"requestNotifications"}`, `{"failOperation":"fileUpload"}`, `{"fail":1,"failStatus":200}`} {
		if st, _ := call("POST", "/_sim/faults", body); st != 400 {
			t.Fatalf("%s accepted: %d", body, st)
		}
	}
	if st, _ := call("POST", "/_sim/faults", `{"delay":"soon"}`); st != 400 {
		t.Fatal("bad duration accepted")
	}
	if st, _ := call("POST", "/_sim/faults", `{"nope":1}`); st != 400 {
		t.Fatal("unknown field accepted")
	}
	st, m = call("GET", base, "")
	if st != 200 || len(m["transcript"].([]any)) < 9 || m["nickname"] != "Joan" || strings.Contains(mustJSON(m), c.Keys().SecureKey) {
		t.Fatalf("get: %d %v", st, m)
	}
	if st, m := call("GET", "/_sim/chats", ""); st != 200 || len(m["list"].([]any)) != 1 {
		t.Fatalf("list %d %v", st, m)
	}
	if st, _ := call("POST", base+"/end", ``); st != 200 {
		t.Fatal(st)
	}
	if st, _ := call("POST", base+"/end", ``); st != 409 {
		t.Fatal("second end", st)
	}
	if st, _ := call("GET", "/_sim/chats/NOPE", ""); st != 404 {
		t.Fatal(st)
	}
	if ended, why := c.Ended(); !ended || why != EndAgent {
		t.Fatal("not ended")
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestWaitChatAndClose(t *testing.T) {
	s, _ := newSim(t, Options{})
	got := make(chan *Chat, 1)
	go func() {
		c, _ := s.WaitChat(testCtx(t), "")
		got <- c
	}()
	k, c := startREST(t, s)
	if w := <-got; w != c || w.ID() != k.ChatID {
		t.Fatal("WaitChat")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Wait(ctx, func(*Chat) bool { return false }); err != context.Canceled {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.WaitChat(context.Background(), "missing"); err != ErrClosed {
		t.Fatal(err)
	}
}

func TestLoseChat(t *testing.T) {
	t.Run("rest", func(t *testing.T) {
		s, _ := newSim(t, Options{FlexDisconnectTimeout: -1})
		k, c := startREST(t, s)
		a, _ := c.JoinAgent("Ann")
		if err := c.Lose(); err != nil {
			t.Fatal(err)
		}
		if ended, why := c.Ended(); !ended || why != EndLost {
			t.Fatalf("Ended() = %v, %q", ended, why)
		}
		if s.Chat(k.ChatID) != nil {
			t.Fatal("a lost chat is still listed")
		}
		ans := op(t, s, k, wire.Request{Operation: wire.OpRefresh})
		if ans.status != http.StatusNotFound || ans.resp.StatusCode != wire.StatusFailed || !ans.resp.ChatEnded {
			t.Fatalf("refresh of a lost chat: %d %s", ans.status, ans.body)
		}
		if err := a.Send("anyone?"); err == nil {
			t.Fatal("an agent could still send in a lost chat")
		}
		if err := c.Lose(); err != ErrChatEnded {
			t.Fatalf("second Lose: %v", err)
		}
	})
	for _, tr := range transportsUnderTest {
		t.Run("cometd-"+tr, func(t *testing.T) {
			s, _ := newSim(t, Options{})
			cc := newComet(t, s, tr)
			cc.publish(wire.Request{Operation: wire.OpRequestChat, FirstName: "Joan", LastName: "Smith"})
			var k wire.Keys
			k.Apply(cc.next())
			if err := s.Chat(k.ChatID).Lose(); err != nil {
				t.Fatal(err)
			}
			cc.publish(wire.Request{Operation: wire.OpSendMessage, Message: "hello?", SecureKey: k.SecureKey})
			r := cc.next()
			if r.StatusCode != wire.StatusFailed || !r.ChatEnded || len(r.Errors) == 0 {
				t.Fatalf("operation on a lost chat: %+v", r)
			}
		})
	}
}
