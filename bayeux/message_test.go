package bayeux

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestDecodeMessages(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantN   int
		check   func(t *testing.T, ms []*Message)
		wantErr string
	}{
		{name: "array", in: `[{"channel":"/a","id":"1"},{"channel":"/b","data":1}]`, wantN: 2},
		{name: "single object", in: `{"channel":"/a","data":{"x":1}}`, wantN: 1},
		{name: "numeric id", in: `[{"channel":"/meta/connect","id":7,"successful":true}]`, wantN: 1, check: func(t *testing.T, ms []*Message) {
			if ms[0].ID != "7" || !ms[0].IsReply() || !ms[0].Successful {
				t.Fatalf("%+v", ms[0])
			}
		}},
		{name: "successful false is a reply", in: `[{"channel":"/meta/connect","successful":false,"error":"402::Unknown client"}]`, wantN: 1, check: func(t *testing.T, ms []*Message) {
			if !ms[0].IsReply() || ms[0].Successful || ms[0].ParsedError().Code != 402 {
				t.Fatalf("%+v", ms[0])
			}
		}},
		{name: "delivery is not a reply", in: `[{"channel":"/chat","id":"4","data":"x"}]`, wantN: 1, check: func(t *testing.T, ms []*Message) {
			if ms[0].IsReply() {
				t.Fatal("delivery decoded as a reply")
			}
		}},
		{name: "subscription string", in: `[{"channel":"/meta/subscribe","subscription":"/a"}]`, wantN: 1, check: func(t *testing.T, ms []*Message) {
			if !reflect.DeepEqual(ms[0].Subscription, Channels{"/a"}) {
				t.Fatalf("%v", ms[0].Subscription)
			}
		}},
		{name: "subscription array", in: `[{"channel":"/meta/subscribe","subscription":["/a","/b/*"]}]`, wantN: 1, check: func(t *testing.T, ms []*Message) {
			if !reflect.DeepEqual(ms[0].Subscription, Channels{"/a", "/b/*"}) {
				t.Fatalf("%v", ms[0].Subscription)
			}
		}},
		{name: "data null kept", in: `[{"channel":"/a","data":null}]`, wantN: 1, check: func(t *testing.T, ms []*Message) {
			if string(ms[0].Data) != "null" {
				t.Fatalf("data %q", ms[0].Data)
			}
		}},
		{name: "nested advice", in: `[{"channel":"/meta/connect","successful":true,"advice":{"reconnect":"retry","interval":0.5e3,"long-polling":{"reconnect":"handshake"}}}]`, wantN: 1, check: func(t *testing.T, ms []*Message) {
			a := ms[0].Advice
			if a.IntervalDuration().Milliseconds() != 500 || a.ForTransport(TransportLongPolling).Reconnect != ReconnectHandshake || a.ForTransport(TransportWebSocket).Reconnect != ReconnectRetry {
				t.Fatalf("%+v", a)
			}
		}},
		{name: "empty", in: ``, wantErr: "empty"},
		{name: "empty array", in: `[]`, wantErr: "empty"},
		{name: "number", in: `42`, wantErr: "want a JSON array or object"},
		{name: "array of numbers", in: `[1]`, wantErr: "message 0: want a JSON object"},
		{name: "no channel", in: `[{"id":"1"}]`, wantErr: "no channel"},
		{name: "bad id type", in: `[{"channel":"/a","id":true}]`, wantErr: "bad message id"},
		{name: "bad channel type", in: `[{"channel":5}]`, wantErr: "bad message"},
		{name: "bad subscription", in: `[{"channel":"/meta/subscribe","subscription":5}]`, wantErr: "bad subscription"},
		{name: "bad advice", in: `[{"channel":"/a","advice":{"interval":"x"}}]`, wantErr: "bad advice interval"},
		{name: "truncated", in: `[{"channel":"/a"`, wantErr: "bad message"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := DecodeMessages([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want it to contain %q", err, tc.wantErr)
				}
				if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrEmptyBody) {
					t.Fatalf("err %v matches neither ErrBadMessage nor ErrEmptyBody", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != tc.wantN {
				t.Fatalf("%d messages, want %d", len(ms), tc.wantN)
			}
			if tc.check != nil {
				tc.check(t, ms)
			}
		})
	}
}

func TestMessageEncoding(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"request", Message{Channel: "/meta/connect", ID: "2", ClientID: "c", ConnectionType: "long-polling", Advice: &Advice{Timeout: Ms(0)}},
			`{"channel":"/meta/connect","id":"2","clientId":"c","advice":{"timeout":0},"connectionType":"long-polling"}`},
		{"failed reply", func() Message { m := Message{Channel: "/meta/connect", ID: "2"}; m.MarkReply(); return m }(),
			`{"channel":"/meta/connect","id":"2","successful":false}`},
		{"error implies reply", Message{Channel: "/x", Error: "403::denied"}, `{"channel":"/x","successful":false,"error":"403::denied"}`},
		{"one subscription as string", Message{Channel: "/meta/subscribe", Subscription: Channels{"/a"}}, `{"channel":"/meta/subscribe","subscription":"/a"}`},
		{"delivery", Message{Channel: "/a", Data: json.RawMessage(`{"x":1}`)}, `{"channel":"/a","data":{"x":1}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Fatalf("got  %s\nwant %s", b, tc.want)
			}
			back, err := DecodeMessages(b)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := json.Marshal(back[0])
			if string(again) != tc.want {
				t.Fatalf("round trip %s", again)
			}
		})
	}
	if _, err := json.Marshal(Message{Channel: "/a", Data: json.RawMessage(`{bad`)}); err == nil {
		t.Fatal("invalid data encoded")
	}
}

func TestParseError(t *testing.T) {
	tests := []struct {
		in   string
		want Error
	}{
		{"402::Unknown client", Error{Code: 402, Text: "Unknown client"}},
		{"402::session_unknown", Error{Code: 402, Text: "session_unknown"}},
		{"401:abc:Unknown client", Error{Code: 401, Args: []string{"abc"}, Text: "Unknown client"}},
		{"403:xj3,/foo/bar:Subscription denied", Error{Code: 403, Args: []string{"xj3", "/foo/bar"}, Text: "Subscription denied"}},
		{"Authentication failed", Error{Text: "Authentication failed"}},
		{"40x::x", Error{Text: "40x::x"}},
		{"402:: Unknown client", Error{Code: 402, Text: " Unknown client"}},
		{"", Error{}},
	}
	for _, tc := range tests {
		if got := ParseError(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseError(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	re := replyError(&Message{Channel: "/meta/connect", Error: "401:abc:Unknown client"})
	if !errors.Is(re, ErrSessionUnknown) || !errors.Is(re, ErrUnsuccessful) {
		t.Fatal("a 401 reply error must match ErrSessionUnknown and ErrUnsuccessful")
	}
	if errors.Is(replyError(&Message{Channel: "/x", Error: "403::denied"}), ErrSessionUnknown) {
		t.Fatal("403 matched ErrSessionUnknown")
	}
}

func TestChannels(t *testing.T) {
	valid := []string{"/a", "/a/b", "/a/*", "/a/**", "/service/chatV2/customer-support", "/a/b c!#$()+-.@_{~}"}
	for _, ch := range valid {
		if err := ValidateChannel(ch); err != nil {
			t.Errorf("ValidateChannel(%q) = %v", ch, err)
		}
	}
	invalid := []string{"", "a", "/", "/a/", "//a", "/*", "/a/*/b", "/a/b*", "/a/é", "/a/b?"}
	for _, ch := range invalid {
		if err := ValidateChannel(ch); !errors.Is(err, ErrBadChannel) {
			t.Errorf("ValidateChannel(%q) = %v, want ErrBadChannel", ch, err)
		}
	}
	match := []struct {
		pattern, channel string
		want             bool
	}{
		{"/a", "/a", true},
		{"/a", "/a/b", false},
		{"/a/*", "/a/b", true},
		{"/a/*", "/a/b/c", false},
		{"/a/*", "/a", false},
		{"/a/**", "/a/b/c", true},
		{"/a/**", "/a", false},
		{"/a/**", "/ab/c", false},
		{"/a/*", "/ab", false},
	}
	for _, m := range match {
		if got := MatchChannel(m.pattern, m.channel); got != m.want {
			t.Errorf("MatchChannel(%q, %q) = %v", m.pattern, m.channel, got)
		}
	}
}

func TestAdviceMerge(t *testing.T) {
	a := initialAdvice()
	b := a.Merge(&Advice{Reconnect: ReconnectHandshake, Timeout: Ms(5 * time.Second)})
	if b.Reconnect != ReconnectHandshake || *b.Timeout != 5000 || *b.Interval != 0 {
		t.Fatalf("%+v", b)
	}
	c := b.Merge(&Advice{Interval: Ms(2 * time.Second)})
	if c.Reconnect != ReconnectHandshake || *c.Timeout != 5000 || *c.Interval != 2000 {
		t.Fatalf("absent fields must keep their value: %+v", c)
	}
	if *a.Timeout != 60000 {
		t.Fatal("Merge modified its receiver")
	}
	out, _ := json.Marshal(&Advice{Reconnect: "retry", Transport: map[string]*Advice{"websocket": {Reconnect: "none"}}})
	if string(out) != `{"reconnect":"retry","websocket":{"reconnect":"none"}}` {
		t.Fatalf("%s", out)
	}
}

// FuzzDecodeMessages checks that decoding arbitrary input never panics, and that
// whatever decodes encodes and decodes again to the same messages.
func FuzzDecodeMessages(f *testing.F) {
	seeds := []string{
		`[{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["websocket","long-polling"],"advice":{"timeout":60000,"interval":0}}]`,
		`[{"channel":"/service/chatV2/test","data":{"messages":[],"statusCode":0}},{"id":"5","channel":"/service/chatV2/test","successful":true}]`,
		`{"channel":"/meta/connect","successful":false,"error":"402::Unknown client","advice":{"reconnect":"handshake","interval":0}}`,
		`[{"channel":"/meta/subscribe","subscription":["/a","/b"],"id":3}]`,
		`[{"channel":"/a","advice":{"reconnect":"retry","long-polling":{"reconnect":"handshake"}},"ext":{"ack":3}}]`,
		`[1,2]`, `[]`, `{}`, `[{"channel":"/a","id":1e400}]`, `"x"`, `[{"channel":"/a","data":`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ms, err := DecodeMessages(in)
		if err != nil {
			if !errors.Is(err, ErrBadMessage) && !errors.Is(err, ErrEmptyBody) {
				t.Fatalf("error %v matches no sentinel", err)
			}
			return
		}
		b, err := EncodeMessages(ms)
		if err != nil {
			t.Fatalf("re-encoding decoded messages: %v", err)
		}
		again, err := DecodeMessages(b)
		if err != nil {
			t.Fatalf("decoding re-encoded %s: %v", b, err)
		}
		b2, _ := EncodeMessages(again)
		if string(b) != string(b2) {
			t.Fatalf("not stable:\n%s\n%s", b, b2)
		}
	})
}

// FuzzParseError checks the lenient error parser on arbitrary text.
func FuzzParseError(f *testing.F) {
	for _, s := range []string{"402::Unknown client", "401:a,b:x", "x", "", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := ParseError(s)
		if e.Code != 0 && (e.Code < 0 || e.Code > 999) {
			t.Fatalf("code %d", e.Code)
		}
		_ = e.String()
	})
}

// FuzzServerRequest feeds arbitrary bodies to the long-polling handler: bad input gets
// HTTP 400, anything else 200 with a JSON array; never a panic.
func FuzzServerRequest(f *testing.F) {
	for _, s := range []string{
		`[{"id":"1","channel":"/meta/handshake","version":"1.0","supportedConnectionTypes":["long-polling"]}]`,
		`[{"id":"1","channel":"/meta/handshake"},{"channel":"/a"}]`,
		`[{"id":"2","channel":"/meta/connect","clientId":"x","connectionType":"long-polling"}]`,
		`[{"id":"3","channel":"/meta/subscribe","clientId":"x","subscription":["/a/*","/meta/x"]}]`,
		`[{"id":"4","channel":"/service/echo","clientId":"x","data":{}}]`,
		`[{"channel":"/meta/unknown","clientId":"x"}]`, `[]`, `x`, `[{"channel":"/a/**","data":1}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		srv := NewServer(ServerOptions{Timeout: 10 * time.Millisecond})
		defer srv.Close()
		srv.HandleService("/service/**", func(ctx context.Context, s *ServerSession, m *Message) error {
			return s.Deliver(m.Channel, m.Data)
		})
		req := httptest.NewRequest(http.MethodPost, "/cometd", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusBadRequest:
		case http.StatusOK:
			if _, err := DecodeMessages(rec.Body.Bytes()); err != nil {
				t.Fatalf("200 with an undecodable body %q: %v", rec.Body.Bytes(), err)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}
