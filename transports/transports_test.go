package transports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestBackoffBounds(t *testing.T) {
	cases := []struct {
		name string
		b    Backoff
		n    int
		want time.Duration
	}{
		{"default first", Backoff{}, 0, time.Second},
		{"default second", Backoff{}, 1, 2 * time.Second},
		{"default fifth", Backoff{}, 4, 16 * time.Second},
		{"default capped", Backoff{}, 5, 30 * time.Second},
		{"huge attempt", Backoff{}, 10000, 30 * time.Second},
		{"negative attempt", Backoff{}, -3, time.Second},
		{"custom", Backoff{Initial: 2 * time.Second, Max: 5 * time.Second, Factor: 3}, 1, 5 * time.Second},
		{"factor <=1 means 2", Backoff{Factor: 0.5}, 2, 4 * time.Second},
		{"max < initial", Backoff{Initial: 10 * time.Second, Max: time.Second}, 3, 10 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.b.Bound(c.n); got != c.want {
				t.Fatalf("Bound(%d) = %v, want %v", c.n, got, c.want)
			}
		})
	}
}

func TestBackoffDelayJitter(t *testing.T) {
	for _, r := range []float64{0, 0.25, 0.999999, -1, 1, 2} {
		b := Backoff{Min: 100 * time.Millisecond, Rand: func() float64 { return r }}
		for n := 0; n < 12; n++ {
			d := b.Delay(n)
			if d < b.Min || d > b.Bound(n) {
				t.Fatalf("r=%v n=%d: delay %v outside [%v, %v]", r, n, d, b.Min, b.Bound(n))
			}
		}
	}
	// Full jitter really spreads: with the real source, 200 first delays are not all equal
	// and stay within 1 s.
	b := Backoff{}
	seen := map[time.Duration]bool{}
	for i := 0; i < 200; i++ {
		d := b.Delay(0)
		if d < 0 || d > time.Second {
			t.Fatalf("delay %v outside [0, 1s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter produced only %d distinct values", len(seen))
	}
	// Exact mapping: r=0.5 → half the bound above Min.
	half := Backoff{Rand: func() float64 { return 0.5 }}
	if got := half.Delay(2); got != 2*time.Second {
		t.Fatalf("Delay(2) with r=0.5 = %v, want 2s", got)
	}
}

func TestSeen(t *testing.T) {
	s := NewSeen(3)
	steps := []struct {
		id   string
		want bool
	}{
		{"a", true}, {"b", true}, {"a", false}, {"c", true}, {"b", false},
		{"d", true}, // evicts a
		{"a", true}, // evicts b
		{"c", false}, {"b", true}, {"", true}, {"", true},
	}
	for i, st := range steps {
		if got := s.Add(st.id); got != st.want {
			t.Fatalf("step %d Add(%q) = %v, want %v", i, st.id, got, st.want)
		}
	}
	if s.Len() != 3 || s.Cap() != 3 {
		t.Fatalf("Len=%d Cap=%d", s.Len(), s.Cap())
	}
	if NewSeen(0).Cap() != DefaultSeenCap {
		t.Fatal("default cap")
	}
	if !s.Has("b") || s.Has("zzz") {
		t.Fatal("Has")
	}
}

func TestIndexTracker(t *testing.T) {
	tr := NewIndexTracker(Cursor{})
	if tr.Position() != 1 {
		t.Fatalf("start position %d", tr.Position())
	}
	for _, c := range []struct {
		idx  int64
		want bool
	}{{1, true}, {1, false}, {3, true}, {2, false}, {4, true}} {
		if got := tr.Accept(c.idx); got != c.want {
			t.Fatalf("Accept(%d) = %v", c.idx, got)
		}
	}
	tr.SetNext(4) // example quirk: nextPosition == last index
	if tr.Position() != 5 {
		t.Fatalf("position %d, want 5", tr.Position())
	}
	tr.SetNext(9)
	tr.SetNext(0)
	if tr.Position() != 9 {
		t.Fatalf("position %d, want 9", tr.Position())
	}
	if got := NewIndexTracker(tr.Cursor()).Position(); got != 9 {
		t.Fatalf("restored position %d", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2020, 8, 5, 13, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{" 0 ", 0, true},
		{"1.5", 1500 * time.Millisecond, true},
		{"-1", 0, false},
		{"", 0, false},
		{"soon", 0, false},
		{"Wed, 05 Aug 2020 13:00:10 GMT", 10 * time.Second, true},
		{"Wed, 05 Aug 2020 12:00:00 GMT", 0, true},
		{"99999999999", 24 * time.Hour, true},
	}
	for _, c := range cases {
		got, ok := ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestExactStrings(t *testing.T) {
	// webchatservice.md §3.1 / §3.17, byte for byte.
	want := map[error]string{
		ErrFileUploadUnsupported:          "This transport doesn't support file uploads.",
		ErrFileDownloadUnsupported:        "This transport doesn't support file download.",
		ErrFileLimitsUnsupported:          "This transport doesn't support getFileLimits command.",
		ErrCustomNoticeUnsupported:        "This transport doesn't support sendCustomNotice command.",
		ErrUserDataUpdateUnsupported:      "This transport doesn't support updating userData during an active chat session.",
		ErrPollingUnsupported:             "This transport doesn't support polling.",
		ErrResetPollExceptionsUnsupported: "This transport doesn't support resetPollExceptions command.",
		ErrHistoryAsyncOnly:               "Fetching history messages applies only to Asynchronous chat.",
		ErrHistoryNotEnabled:              "Fetching chat history on scroll is not enabled.",
		ErrNoMoreMessages:                 "No more messages to fetch.",
		ErrPollInFlight:                   "previous poll has not finished.",
		ErrNotPolling:                     "Not currently polling. Ignoring command.",
		ErrNotStarted:                     "transports: not started",
		ErrSessionEnded:                   "transports: session ended",
		ErrClosed:                         "transports: closed",
	}
	for err, s := range want {
		if err.Error() != s {
			t.Errorf("got %q, want %q", err.Error(), s)
		}
	}
	for op, e := range map[FileOp]error{FileOpUpload: ErrFileUploadUnsupported, FileOpDownload: ErrFileDownloadUnsupported, FileOpLimits: ErrFileLimitsUnsupported, FileOpDelete: ErrFileUploadUnsupported} {
		if FileOpError(op) != e {
			t.Errorf("FileOpError(%d)", op)
		}
	}
}

// stub is a minimal Transport for registry and As* tests.
type stub struct {
	caps Capabilities
	ev   chan Event
}

func (s *stub) Type() string                                             { return "stub" }
func (s *stub) Capabilities() Capabilities                               { return s.caps }
func (s *stub) Start(context.Context, StartRequest) (SessionData, error) { return SessionData{}, nil }
func (s *stub) Resume(context.Context, SessionData, Cursor) error        { return nil }
func (s *stub) Send(context.Context, Outgoing) (Sent, error)             { return Sent{}, ErrNotStarted }
func (s *stub) Typing(context.Context, string, bool) error               { return nil }
func (s *stub) End(context.Context) error                                { return nil }
func (s *stub) Events() <-chan Event                                     { return s.ev }
func (s *stub) SessionData() SessionData                                 { return SessionData{} }
func (s *stub) Cursor() Cursor                                           { return Cursor{} }
func (s *stub) Close() error                                             { return nil }

type pollingStub struct{ stub }

// The stubs must keep up with the interfaces they stand for.
var (
	_ Transport = (*stub)(nil)
	_ Poller    = (*pollingStub)(nil)
)

func (*pollingStub) Poll(context.Context) (json.RawMessage, error) { return nil, nil }
func (*pollingStub) StartPoll(context.Context) (bool, error)       { return true, nil }
func (*pollingStub) StopPoll(context.Context) error                { return nil }
func (*pollingStub) ResetPollExceptions()                          {}
func (*pollingStub) Polling() bool                                 { return true }
func (*pollingStub) SendCustomNotice(context.Context, string, map[string]any) (Sent, error) {
	return Sent{}, nil
}

func TestAsHelpers(t *testing.T) {
	plain := &stub{}
	if _, err := AsFiles(plain); err != ErrFileUploadUnsupported {
		t.Errorf("AsFiles: %v", err)
	}
	if _, err := AsNotices(plain); err != ErrCustomNoticeUnsupported {
		t.Errorf("AsNotices: %v", err)
	}
	if _, err := AsUserDataUpdater(plain); err != ErrUserDataUpdateUnsupported {
		t.Errorf("AsUserDataUpdater: %v", err)
	}
	if _, err := AsPoller(plain); err != ErrPollingUnsupported {
		t.Errorf("AsPoller: %v", err)
	}
	if _, err := AsHistory(plain); err != ErrHistoryAsyncOnly {
		t.Errorf("AsHistory: %v", err)
	}
	if _, ok := AsSleeper(plain); ok {
		t.Error("AsSleeper")
	}
	// Implementing the interface is not enough: the capability must be on.
	p := &pollingStub{}
	if _, err := AsPoller(p); err != ErrPollingUnsupported {
		t.Errorf("AsPoller without capability: %v", err)
	}
	p.caps.Polling, p.caps.CustomNotice = true, true
	if _, err := AsPoller(p); err != nil {
		t.Errorf("AsPoller: %v", err)
	}
	if _, err := AsNotices(p); err != nil {
		t.Errorf("AsNotices: %v", err)
	}
}

func TestRegistry(t *testing.T) {
	const name = "test-registry"
	defer unregister(name)
	var gotCfg string
	f := func(cfg json.RawMessage, opts Options) (Transport, error) {
		gotCfg = string(cfg)
		if strings.Contains(gotCfg, "bad") {
			return nil, fmt.Errorf("%w: transport.dataURL: missing", ErrInvalidConfig)
		}
		return &stub{}, nil
	}
	if err := Register(name, f); err != nil {
		t.Fatal(err)
	}
	if err := Register(name, f); !errors.Is(err, ErrDuplicateType) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := Register("", f); err == nil {
		t.Fatal("empty name accepted")
	}
	if err := Register("x-nil", nil); err == nil {
		t.Fatal("nil factory accepted")
	}
	if _, err := New("nope", nil, Options{}); !errors.Is(err, ErrUnknownType) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("unknown: %v", err)
	}
	tr, err := New(name, nil, Options{})
	if err != nil || tr == nil || gotCfg != "{}" {
		t.Fatalf("New: %v %v cfg=%q", tr, err, gotCfg)
	}
	if _, err := New(name, json.RawMessage(`{"bad":1}`), Options{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("bad config: %v", err)
	}
	found := false
	for _, n := range Registered() {
		found = found || n == name
	}
	if !found {
		t.Fatal("Registered misses the type")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("MustRegister did not panic on duplicate")
			}
		}()
		MustRegister(name, f)
	}()
}

func TestSessionDataRedaction(t *testing.T) {
	sd := SessionData{
		Transport: TypePureCloud,
		Values:    map[string]string{"jwt": "eyJsecret", "conversationId": "c1", "WebSocketUrl": "wss://x/v1/token/eyJsecret", "empty": ""},
		Secret:    []string{"jwt", "WebSocketUrl", "empty"},
		Answer:    json.RawMessage(`{"jwt":"eyJsecret"}`),
	}
	for _, s := range []string{sd.String(), fmt.Sprintf("%v", sd), fmt.Sprintf("%+v", sd), fmt.Sprintf("%#v", sd)} {
		if strings.Contains(s, "eyJsecret") || !strings.Contains(s, "conversationId=c1") {
			t.Fatalf("leaks or lacks data: %s", s)
		}
	}
	var buf strings.Builder
	zl := zerolog.New(&buf)
	zl.Info().Object("sd", sd).Msg("x")
	if strings.Contains(buf.String(), "eyJsecret") || !strings.Contains(buf.String(), "c1") {
		t.Fatalf("zerolog: %s", buf.String())
	}
	r := sd.Redacted()
	if r.Get("jwt") != Redacted || r.Get("conversationId") != "c1" || r.Answer != nil || r.Get("empty") != "" {
		t.Fatalf("Redacted: %v", r.Values)
	}
	if sd.Get("jwt") != "eyJsecret" {
		t.Fatal("Redacted modified the original")
	}
	if p := sd.Public(); len(p) != 1 || p["conversationId"] != "c1" {
		t.Fatalf("Public: %v", p)
	}
	if m := sd.Map(); m["jwt"] != "eyJsecret" {
		t.Fatal("Map")
	}
	// JSON keeps everything except Answer (for the encrypted snapshot).
	b, _ := json.Marshal(sd)
	var back SessionData
	if err := json.Unmarshal(b, &back); err != nil || back.Get("jwt") != "eyJsecret" || back.Answer != nil || !back.IsSecret("jwt") {
		t.Fatalf("round trip: %s %v", b, err)
	}
	if !(SessionData{}).IsZero() || sd.IsZero() {
		t.Fatal("IsZero")
	}
}

func TestRedactJSON(t *testing.T) {
	in := json.RawMessage(`{"id":"c","JWT":"a","member":{"secureKey":"k","id":1.5e3},"list":[{"eventStreamUri":"wss://x"}],"jwt2":"keep","secureKey":""}`)
	out := string(RedactJSON(in, nil))
	for _, leak := range []string{`"a"`, `"k"`, "wss://x"} {
		if strings.Contains(out, leak) {
			t.Fatalf("leak %s in %s", leak, out)
		}
	}
	if !strings.Contains(out, `"jwt2":"keep"`) || !strings.Contains(out, `1.5e3`) {
		t.Fatalf("over-redacted: %s", out)
	}
	if RedactJSON(json.RawMessage(`{"jwt":`), nil) != nil {
		t.Fatal("invalid JSON must redact to nil")
	}
	if got := RedactJSON(json.RawMessage(`{"a":"b"}`), []string{"a"}); string(got) != `{"a":"[redacted]"}` {
		t.Fatalf("custom keys: %s", got)
	}
}

func TestTransportError(t *testing.T) {
	base := errors.New("dial refused")
	e := &TransportError{Operation: "send", Status: 0, Err: base}
	if !errors.Is(e, base) || !e.Temporary() || !IsTemporary(fmt.Errorf("w: %w", e)) {
		t.Fatal("network error must be temporary and unwrap")
	}
	for status, temp := range map[int]bool{400: false, 401: false, 404: false, 408: true, 429: true, 500: true, 501: false, 503: true} {
		if (&TransportError{Status: status}).Temporary() != temp {
			t.Errorf("status %d temporary != %v", status, temp)
		}
	}
	s := (&TransportError{Operation: "postMessage", Status: 400, Code: "chat.error.conversation.state", Message: "ended", Errors: []ErrorDetail{{201, "3"}}}).Error()
	for _, part := range []string{"postMessage", "400", "chat.error.conversation.state", "ended", "201"} {
		if !strings.Contains(s, part) {
			t.Errorf("%q lacks %q", s, part)
		}
	}
	if IsTemporary(base) {
		t.Error("plain error is not temporary")
	}
}

func TestEventStrings(t *testing.T) {
	if EventMessages.String() != "messages" || EventEnded.String() != "ended" || EventKind(0).String() != "EventKind(0)" || EventKind(99).String() != "EventKind(99)" {
		t.Fatal("kind names")
	}
	if (Event{Kind: EventMessages, Messages: make([]Message, 2)}).String() != "messages(2)" {
		t.Fatal("messages string")
	}
	if (Event{Kind: EventEnded, Reason: EndedByServer}).String() != "ended(server)" {
		t.Fatal("ended string")
	}
	if (Event{Kind: EventTyping, Typing: &Typing{State: TypingTimeout}}).String() != "typing(timeout)" {
		t.Fatal("typing string")
	}
	m := Message{Type: TypeParticipantJoined, From: From{Type: ParticipantClient}}
	if !m.Own() || !m.IsParticipantEvent() {
		t.Fatal("message helpers")
	}
	caps := Capabilities{Pagination: true}.Published()
	if len(caps) != 4 || !caps["pagination"] || caps["fileUpload"] {
		t.Fatalf("Published: %v", caps)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := Options{}.WithDefaults()
	if o.Clock == nil || o.Rand == nil || o.DialContext == nil {
		t.Fatal("defaults not filled")
	}
	fc := NewFakeClock(time.Time{})
	if (Options{Clock: fc}).WithDefaults().Clock != fc {
		t.Fatal("clock overridden")
	}
}

func TestDecodeConfig(t *testing.T) {
	type cfg struct {
		PollRate int `json:"pollRate"`
		CometD   struct {
			Enabled bool `json:"enabled"`
		} `json:"cometD"`
	}
	for _, tc := range []struct {
		raw  string
		want string // "" = no error
	}{
		{"", ""},
		{"  ", ""},
		{`{"pollRate":5,"other":true}`, ""},
		{`{"pollRate":"fast"}`, "webchat.pollRate: must be a int, got a JSON string"},
		{`{"cometD":{"enabled":"yes"}}`, "webchat.cometD.enabled: must be a bool, got a JSON string"},
		{`{`, "webchat: unexpected end of JSON input"},
	} {
		var c cfg
		err := DecodeConfig(json.RawMessage(tc.raw), &c)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.raw, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want ErrInvalidConfig mentioning %q", tc.raw, err, tc.want)
		}
	}
}
