package gms

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cxbus/webchat/transports/gms/wire"
)

func TestRequestChat(t *testing.T) {
	s, _ := newSim(t, Options{Services: []string{svc}})
	base := s.ChatURL(svc)
	tests := []struct {
		name   string
		url    string
		form   url.Values
		multi  bool
		status int
		code   int // 0: success
	}{
		{"nickname", base + "/", url.Values{"nickname": {"Joan"}}, false, 200, 0},
		{"no trailing slash", base, url.Values{"nickname": {"Joan"}}, false, 200, 0},
		{"first and last", base, url.Values{"firstName": {"First"}, "lastName": {"Last"}, "subject": {"S"}}, false, 200, 0},
		{"multipart", base + "/", url.Values{"nickname": {"Joan"}, "userData[a]": {"1"}}, true, 200, 0},
		{"no name", base, url.Values{"subject": {"S"}}, false, 400, wire.CodeNicknameRequired},
		{"first only", base, url.Values{"firstName": {"F"}}, false, 400, wire.CodeLastNameRequired},
		{"last only", base, url.Values{"lastName": {"L"}}, false, 400, wire.CodeFirstNameRequired},
		{"bad email", base, url.Values{"nickname": {"J"}, "emailAddress": {"nope"}}, false, 400, wire.CodeInvalidEmail},
		{"unknown service", s.ChatURL("other"), url.Values{"nickname": {"J"}}, false, 404, wire.CodeInvalidService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a answer
			if tt.multi {
				a = postMultipart(t, tt.url, tt.form, "", nil, nil)
			} else {
				a = postForm(t, tt.url, tt.form, nil)
			}
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.code != 0 {
				var re *wire.ResponseError
				if a.resp == nil || a.resp.StatusCode != wire.StatusFailed || !asRespErr(a.resp.Err(), &re) || !re.Has(tt.code) {
					t.Fatalf("want statusCode 2 with %d: %s", tt.code, a.body)
				}
				return
			}
			r := a.resp
			if r.StatusCode != 0 || r.ChatEnded || len(r.ChatID) != 16 || len(r.UserID) != 16 || len(r.SecureKey) != 16 ||
				r.Alias == "" || r.NextPosition != 2 || len(r.Messages) != 1 {
				t.Fatalf("answer: %s", a.body)
			}
			ev := r.Messages[0]
			if ev.Index != 1 || ev.Type != wire.EventParticipantJoined || ev.From.Type != wire.PartyClient || ev.From.ParticipantID != "1" {
				t.Fatalf("join event: %+v", ev)
			}
			c := s.Chat(r.ChatID)
			if c == nil || c.Mode() != ModeREST {
				t.Fatal("chat not stored")
			}
			if tt.name == "first and last" && c.Client().Nickname != "First Last" {
				t.Fatalf("nickname %q", c.Client().Nickname)
			}
			if tt.multi && c.UserData()["a"] != "1" {
				t.Fatalf("userData %v", c.UserData())
			}
		})
	}
}

func asRespErr(err error, re **wire.ResponseError) bool {
	e, ok := err.(*wire.ResponseError)
	if ok {
		*re = e
	}
	return ok
}

// TestOperations runs every REST operation once against a chat with an agent.
func TestOperations(t *testing.T) {
	s, _ := newSim(t, Options{})
	k, c := startREST(t, s)
	agent, err := c.JoinAgent("Ann") // index 2
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		req   wire.Request
		check func(t *testing.T, r *wire.Response)
	}{
		{wire.Request{Operation: wire.OpSendMessage, Message: "hello", MessageType: "text", EventAttributes: map[string]any{"x": "y"}}, func(t *testing.T, r *wire.Response) {
			if len(r.Messages) != 0 || r.NextPosition != 4 {
				t.Fatalf("send without transcriptPosition returns no transcript: %+v", r)
			}
			e := last(c)
			if e.Type != wire.EventMessage || e.Text != "hello" || e.MessageType != "text" || e.EventAttributes["x"] != "y" || e.From.Type != wire.PartyClient {
				t.Fatalf("event %+v", e)
			}
		}},
		{wire.Request{Operation: wire.OpSendMessage, Message: "again", TranscriptPosition: 3}, func(t *testing.T, r *wire.Response) {
			if len(r.Messages) != 2 || r.Messages[0].Index != 3 || r.Messages[1].Text != "again" || r.NextPosition != 5 {
				t.Fatalf("send with transcriptPosition: %+v", r.Messages)
			}
		}},
		{wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 5, Message: "typ"}, func(t *testing.T, r *wire.Response) {
			if len(r.Messages) != 0 || r.NextPosition != 5 || c.Preview() != "typ" {
				t.Fatalf("refresh: %+v preview %q", r, c.Preview())
			}
		}},
		{wire.Request{Operation: wire.OpStartTyping, Message: "hel", TranscriptPosition: 5}, func(t *testing.T, r *wire.Response) {
			if len(r.Messages) != 1 || r.Messages[0].Type != wire.EventTypingStarted || r.Messages[0].Text != "hel" {
				t.Fatalf("%+v", r.Messages)
			}
		}},
		{wire.Request{Operation: wire.OpStopTyping, Message: "hello", TranscriptPosition: 6}, func(t *testing.T, r *wire.Response) {
			if len(r.Messages) != 1 || r.Messages[0].Type != wire.EventTypingStopped {
				t.Fatalf("%+v", r.Messages)
			}
		}},
		{wire.Request{Operation: wire.OpReadReceipt, TranscriptPosition: 3}, func(t *testing.T, r *wire.Response) {
			if c.ReadIndex() != 3 {
				t.Fatalf("read index %d", c.ReadIndex())
			}
		}},
		{wire.Request{Operation: wire.OpPushURL, PushURL: "http://www.genesys.com"}, func(t *testing.T, r *wire.Response) {
			if e := last(c); e.Type != wire.EventPushURL || e.Text != "http://www.genesys.com" {
				t.Fatalf("%+v", e)
			}
		}},
		{wire.Request{Operation: wire.OpUpdateNickname, Nickname: "Joanie"}, func(t *testing.T, r *wire.Response) {
			if e := last(c); e.Type != wire.EventNicknameUpdated || e.Text != "Joanie" || e.From.Nickname != "Joanie" || c.Client().Nickname != "Joanie" {
				t.Fatalf("%+v", e)
			}
		}},
		{wire.Request{Operation: wire.OpCustomNotice, Message: "ORDER UPDATE", EventAttributes: map[string]any{"purpose": "x"}}, func(t *testing.T, r *wire.Response) {
			if e := last(c); e.Type != wire.EventCustomNotice || e.Text != "ORDER UPDATE" || e.EventAttributes["purpose"] != "x" {
				t.Fatalf("%+v", e)
			}
		}},
		{wire.Request{Operation: wire.OpUpdateData, UserData: map[string]string{"key3": "value3"}}, func(t *testing.T, r *wire.Response) {
			if ud := c.UserData(); ud["key3"] != "value3" || ud["TimeZone"] != "-480" {
				t.Fatalf("userData %v", ud)
			}
		}},
		{wire.Request{Operation: wire.OpDisconnect}, func(t *testing.T, r *wire.Response) {
			if !r.ChatEnded || r.SecureKey != "" || r.UserID != "" || r.ChatID != k.ChatID || len(r.Messages) != 0 {
				t.Fatalf("disconnect answer %+v", r)
			}
			if ended, why := c.Ended(); !ended || why != EndClient {
				t.Fatal("chat not ended")
			}
			tr := c.Transcript()
			if n := len(tr); tr[n-2].Type != wire.EventParticipantLeft || tr[n-1].Type != wire.EventParticipantLeft ||
				tr[n-2].From.Type != wire.PartyClient {
				t.Fatalf("leave events %+v", tr[n-2:])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.req.Operation), func(t *testing.T) {
			a := op(t, s, k, tt.req)
			if a.status != 200 || a.resp.StatusCode != 0 {
				t.Fatalf("%d %s", a.status, a.body)
			}
			if a.resp.SecureKey != "" && a.resp.SecureKey != k.SecureKey {
				t.Fatal("secureKey changed")
			}
			tt.check(t, a.resp)
		})
	}
	if err := agent.Send("late"); err != ErrChatEnded {
		t.Fatalf("agent after end: %v", err)
	}
}

func last(c *Chat) wire.Event {
	tr := c.Transcript()
	return tr[len(tr)-1]
}

func TestRESTErrors(t *testing.T) {
	s, _ := newSim(t, Options{})
	k, c := startREST(t, s)
	refresh := s.ChatURL(svc) + "/" + k.ChatID + "/refresh"
	keyed := url.Values{"secureKey": {k.SecureKey}, "userId": {k.UserID}, "alias": {k.Alias}, "transcriptPosition": {"1"}}

	t.Run("GET is 405", func(t *testing.T) {
		res, err := http.Get(refresh)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 405 || res.Header.Get("Allow") != "POST" {
			t.Fatalf("%d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("JSON is 415", func(t *testing.T) {
		a := doPost(t, refresh, "application/json", strings.NewReader(`{}`), nil)
		if a.status != 415 {
			t.Fatal(a.status)
		}
	})
	t.Run("unknown path is 404", func(t *testing.T) {
		a := postForm(t, refresh+"/extra", keyed, nil)
		if a.status != 404 {
			t.Fatal(a.status)
		}
	})
	t.Run("unknown chatId is 404 with statusCode 2", func(t *testing.T) {
		a := postForm(t, s.ChatURL(svc)+"/NOPE/refresh", keyed, nil)
		if a.status != 404 || a.resp.StatusCode != 2 || !a.resp.ChatEnded || a.resp.Errors[0].Code != wire.CodeSessionNotFound {
			t.Fatalf("%d %s", a.status, a.body)
		}
	})
	t.Run("missing secureKey is 400", func(t *testing.T) {
		a := postForm(t, refresh, url.Values{"transcriptPosition": {"1"}}, nil)
		if a.status != 400 || a.resp.StatusCode != 2 || a.resp.Errors[0].Code != wire.CodeInvalidRequest {
			t.Fatalf("%d %s", a.status, a.body)
		}
	})
	t.Run("wrong secureKey", func(t *testing.T) {
		a := postForm(t, refresh, url.Values{"secureKey": {"0000000000000000"}}, nil)
		if a.resp.StatusCode != 2 || a.resp.Errors[0].Code != wire.CodeSessionNotFound || strings.Contains(string(a.body), k.SecureKey) {
			t.Fatalf("%d %s", a.status, a.body)
		}
	})
	t.Run("bad transcriptPosition", func(t *testing.T) {
		a := postForm(t, refresh, url.Values{"secureKey": {k.SecureKey}, "transcriptPosition": {"x"}}, nil)
		if a.status != 400 || a.resp.Errors[0].Code != wire.CodeInvalidRequest {
			t.Fatalf("%d %s", a.status, a.body)
		}
	})
	t.Run("send without message", func(t *testing.T) {
		a := op(t, s, k, wire.Request{Operation: wire.OpSendMessage})
		if a.status != 400 || a.resp.Errors[0].Code != wire.CodeInvalidRequest {
			t.Fatalf("%d %s", a.status, a.body)
		}
	})
	t.Run("body too large", func(t *testing.T) {
		a := postForm(t, refresh, url.Values{"secureKey": {k.SecureKey}, "message": {strings.Repeat("x", 70<<10)}}, nil)
		if a.status != 413 {
			t.Fatal(a.status)
		}
	})
	t.Run("ended chat", func(t *testing.T) {
		c.End()
		a := op(t, s, k, wire.Request{Operation: wire.OpSendMessage, Message: "x"})
		if a.status != 200 || a.resp.StatusCode != 2 || !a.resp.ChatEnded {
			t.Fatalf("send after end: %s", a.body)
		}
		a = op(t, s, k, wire.Request{Operation: wire.OpRefresh, TranscriptPosition: 1})
		if a.resp.StatusCode != 0 || !a.resp.ChatEnded || len(a.resp.Messages) != 1 {
			t.Fatalf("refresh after end: %s", a.body)
		}
	})
}

// TestTranscriptPositions checks §7: events ≥ transcriptPosition, 0 = all,
// nextPosition = highest index + 1, gaps allowed.
func TestTranscriptPositions(t *testing.T) {
	for _, gaps := range []int{0, 2} {
		s, _ := newSim(t, Options{SkipIndexEvery: gaps})
		k, c := startREST(t, s)
		a, _ := c.JoinAgent("Ann")
		for _, m := range []string{"one", "two", "three", "four"} {
			a.Send(m)
		}
		tr := c.Transcript()
		for i := 1; i < len(tr); i++ {
			if d := tr[i].Index - tr[i-1].Index; d < 1 || (gaps == 0 && d != 1) {
				t.Fatalf("gaps=%d: indexes %d then %d", gaps, tr[i-1].Index, tr[i].Index)
			}
		}
		if gaps > 0 && tr[len(tr)-1].Index == len(tr) {
			t.Fatal("no gap left")
		}
		maxIdx := tr[len(tr)-1].Index
		for _, pos := range []int{0, 1, 2, tr[3].Index, maxIdx, maxIdx + 1, maxIdx + 10} {
			r := op(t, s, k, wire.Request{Operation: wire.OpRefresh, TranscriptPosition: pos}).resp
			want := 0
			for _, e := range tr {
				if e.Index >= pos {
					want++
				}
			}
			if len(r.Messages) != want || r.NextPosition != maxIdx+1 {
				t.Fatalf("gaps=%d pos=%d: %d events (want %d), nextPosition %d", gaps, pos, len(r.Messages), want, r.NextPosition)
			}
			for _, e := range r.Messages {
				if e.Index < pos {
					t.Fatalf("pos=%d returned index %d", pos, e.Index)
				}
			}
		}
	}
}

func TestParticipantIDs(t *testing.T) {
	for _, hex := range []bool{false, true} {
		s, _ := newSim(t, Options{HexParticipantIDs: hex})
		k, c := startREST(t, s)
		c.JoinAgent("Ann")
		a := op(t, s, k, wire.Request{Operation: wire.OpRefresh})
		raw := string(a.body)
		if hex != strings.Contains(raw, `"participantId":"00`) || hex == strings.Contains(raw, `"participantId":1`) {
			t.Fatalf("hex=%v: %s", hex, raw)
		}
		ids := map[wire.FlexString]bool{}
		for _, e := range a.resp.Messages {
			ids[e.From.ParticipantID] = true
		}
		if len(ids) != 2 {
			t.Fatalf("want 2 distinct ids: %v", ids)
		}
	}
}
