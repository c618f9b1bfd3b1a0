package wire

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Real payloads captured from the live service (spec §4.5, §4.8, §4.10)
// must survive a decode/encode round trip with the same JSON.
func TestRealPayloadsRoundTrip(t *testing.T) {
	cases := []struct {
		file string
		v    any
	}{
		{"create_response.json", &CreateWebChatConversationResponse{}},
		{"message_response.json", &WebChatMessage{}},
		{"typing_response.json", &WebChatTyping{}},
		{"error_404.json", &ErrorBody{}},
		{"member_full.json", &WebChatMemberInfo{}},
		{"create_request.json", &CreateWebChatConversationRequest{}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(in, tc.v); err != nil {
				t.Fatalf("decode: %v", err)
			}
			out, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			var a, b any
			_ = json.Unmarshal(in, &a)
			_ = json.Unmarshal(out, &b)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("round trip differs:\n in: %s\nout: %s", in, out)
			}
		})
	}
}

func TestTimeFormat(t *testing.T) {
	tm := time.Date(2020, 8, 5, 13, 9, 49, 500_000_000, time.FixedZone("x", 3600))
	b, _ := json.Marshal(NewTime(tm))
	if got, want := string(b), `"2020-08-05T12:09:49.500Z"`; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
	for _, in := range []string{`"2020-08-05T13:09:49.546Z"`, `"2020-08-05T13:09:49Z"`, `"2020-08-05T15:09:49.546+02:00"`} {
		var v Time
		if err := json.Unmarshal([]byte(in), &v); err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if v.UTC().Hour() != 13 {
			t.Fatalf("%s: hour %d", in, v.UTC().Hour())
		}
	}
	for _, in := range []string{`"yesterday"`, `12`, `"`} {
		var v Time
		if err := json.Unmarshal([]byte(in), &v); err == nil {
			t.Fatalf("%s: no error", in)
		}
	}
	var p struct {
		L *Time `json:"leaveDate"`
	}
	if err := json.Unmarshal([]byte(`{"leaveDate":null}`), &p); err != nil || p.L != nil {
		t.Fatalf("null: %v %v", err, p.L)
	}
}

func TestTopics(t *testing.T) {
	cases := []struct {
		topic string
		kind  TopicKind
		conv  string
	}{
		{MessagesTopic("c1"), TopicMessages, "c1"},
		{MembersTopic("c-2"), TopicMembers, "c-2"},
		{"channel.metadata", TopicHeartbeatKind, ""},
		{"v2.system.socket_closing", TopicSocketClosingKind, ""},
		{"v2.conversations.chats..messages", TopicUnknown, ""},
		{"v2.conversations.chats.a.b.messages", TopicUnknown, ""},
		{"v2.users.x.presence", TopicUnknown, ""},
		{"", TopicUnknown, ""},
	}
	for _, tc := range cases {
		k, c := ParseTopic(tc.topic)
		if k != tc.kind || c != tc.conv {
			t.Errorf("%q: got %v %q want %v %q", tc.topic, k, c, tc.kind, tc.conv)
		}
	}
	if MessagesTopic("x") != "v2.conversations.chats.x.messages" || MembersTopic("x") != "v2.conversations.chats.x.members" {
		t.Fatal("topic names")
	}
}

func TestParseEvent(t *testing.T) {
	cases := []struct {
		name    string
		frame   string
		kind    EventKind
		wantErr bool
	}{
		{"heartbeat", string(HeartbeatFrame), KindHeartbeat, false},
		{"pong", string(PongFrame), KindPong, false},
		{"closing", string(SocketClosingFrame), KindSocketClosing, false},
		{"message", `{"topicName":"v2.conversations.chats.c1.messages","version":"2","eventBody":{"id":"m1","conversation":{"id":"c1"},"sender":{"id":"s1"},"body":"Hello","bodyType":"standard","timestamp":"2020-08-05T13:10:02.113Z"},"metadata":{"CorrelationId":"x","type":"message"}}`, KindMessage, false},
		{"typing", `{"topicName":"v2.conversations.chats.c1.messages","version":"2","eventBody":{"id":"t1","conversation":{"id":"c1"},"sender":{"id":"s1"},"timestamp":"2020-08-05T13:10:35.673Z"},"metadata":{"CorrelationId":"x","type":"typing-indicator"}}`, KindTyping, false},
		{"member-change", `{"topicName":"v2.conversations.chats.c1.members","version":"2","eventBody":{"id":"e1","conversation":{"id":"c1"},"member":{"id":"m","state":"CONNECTED"},"timestamp":"2020-08-05T13:09:51.002Z"},"metadata":{"correlationid":"x","TYPE":"member-change"}}`, KindMemberChange, false},
		{"unknown type", `{"topicName":"v2.conversations.chats.c1.messages","eventBody":{},"metadata":{"type":"other"}}`, KindUnknown, false},
		{"unknown topic", `{"topicName":"v2.users.u.presence","eventBody":{}}`, KindUnknown, false},
		{"no metadata", `{"topicName":"v2.conversations.chats.c1.messages","eventBody":{}}`, KindUnknown, false},
		{"not json", `hello`, 0, true},
		{"array", `[1]`, 0, true},
		{"empty", ``, 0, true},
		{"truncated", `{"topicName":`, 0, true},
		{"message without body", `{"topicName":"v2.conversations.chats.c1.messages","metadata":{"type":"message"}}`, 0, true},
		{"message null body", `{"topicName":"v2.conversations.chats.c1.messages","eventBody":null,"metadata":{"type":"message"}}`, 0, true},
		{"message no sender", `{"topicName":"v2.conversations.chats.c1.messages","eventBody":{"id":"m"},"metadata":{"type":"message"}}`, 0, true},
		{"message bad time", `{"topicName":"v2.conversations.chats.c1.messages","eventBody":{"id":"m","sender":{"id":"s"},"timestamp":"x"},"metadata":{"type":"message"}}`, 0, true},
		{"typing no sender", `{"topicName":"v2.conversations.chats.c1.messages","eventBody":{"id":"t"},"metadata":{"type":"typing-indicator"}}`, 0, true},
		{"member-change no member", `{"topicName":"v2.conversations.chats.c1.members","eventBody":{"id":"e"},"metadata":{"type":"member-change"}}`, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseEvent([]byte(tc.frame))
			if tc.wantErr {
				if err == nil || !errors.Is(err, ErrMalformedFrame) {
					t.Fatalf("want ErrMalformedFrame, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != tc.kind {
				t.Fatalf("kind %v want %v", ev.Kind, tc.kind)
			}
			switch ev.Kind {
			case KindMessage:
				if ev.Message.Body != "Hello" || ev.ConversationID != "c1" || ev.Message.Sender.ID != "s1" {
					t.Fatalf("%+v", ev.Message)
				}
			case KindMemberChange:
				if ev.MemberChange.Member.State != StateConnected || ev.Metadata.CorrelationID != "x" {
					t.Fatalf("%+v", ev.MemberChange)
				}
			}
		})
	}
}

func TestEnvelopeEncoding(t *testing.T) {
	m := &WebChatMessage{ID: "m1", Conversation: &WebChatConversation{ID: "c1"}, Sender: &WebChatMemberInfo{ID: "s1"},
		Body: "", BodyType: BodyMemberJoin, Timestamp: NewTime(time.Date(2020, 8, 5, 13, 10, 2, 113e6, time.UTC))}
	env, err := MessageEnvelope("c1", "corr", m)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(env)
	want := `{"topicName":"v2.conversations.chats.c1.messages","version":"2","eventBody":{"id":"m1","conversation":{"id":"c1"},"sender":{"id":"s1"},"body":"","bodyType":"member-join","timestamp":"2020-08-05T13:10:02.113Z"},"metadata":{"CorrelationId":"corr","type":"message"}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
	c := &MemberChangeEvent{ID: "e", Conversation: &WebChatConversation{ID: "c1"}, Member: &WebChatMemberInfo{ID: "g", State: StateDisconnected}, Timestamp: m.Timestamp}
	env, _ = MemberChangeEnvelope("c1", "corr", c)
	b, _ = json.Marshal(env)
	want = `{"topicName":"v2.conversations.chats.c1.members","version":"2","eventBody":{"id":"e","conversation":{"id":"c1"},"member":{"id":"g","state":"DISCONNECTED"},"timestamp":"2020-08-05T13:10:02.113Z"},"metadata":{"CorrelationId":"corr","type":"member-change"}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func TestJWT(t *testing.T) {
	h := &JWTHeader{Alg: JWTAlgorithm, Kid: "k1", Typ: "JWT"}
	c := &JWTClaims{Data: JWTData{Conv: "c", Did: "d", Sub: "s"}, Exp: 1596711749, Iat: 1596632988, Iss: JWTIssuer, Org: "o"}
	in, err := EncodeJWTSigningInput(h, c)
	if err != nil {
		t.Fatal(err)
	}
	gh, gc, si, sig, err := ParseJWT(in + ".c2ln")
	if err != nil {
		t.Fatal(err)
	}
	if *gh != *h || *gc != *c || si != in || string(sig) != "sig" {
		t.Fatalf("got %+v %+v %q %q", gh, gc, si, sig)
	}
	if gc.ExpiresAt().Unix() != 1596711749 || gc.IssuedAt().Unix() != 1596632988 {
		t.Fatal("times")
	}
	for _, bad := range []string{"", "a.b", "a.b.c.d", "!!.e30.e30", "e30.!!.e30", "e30.e30.!!", "W10.e30.", "e30.W10.", strings.Repeat("a", 9000)} {
		if _, _, _, _, err := ParseJWT(bad); !errors.Is(err, ErrMalformedJWT) {
			t.Errorf("%.20q: got %v", bad, err)
		}
	}
	if _, _, _, _, err := ParseJWT("secret-token-value"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error leaks token: %v", err)
	}
}

func TestHelpers(t *testing.T) {
	if BodyLength("a😀é") != 4 {
		t.Fatalf("BodyLength %d", BodyLength("a😀é"))
	}
	for in, want := range map[string]string{"Bearer x": "x", "bearer  y ": "y", "BEARER z": "z", "Basic x": "", "Bearer": "", "Bearer  ": ""} {
		tok, ok := IsBearer(in)
		if tok != want || ok != (want != "") {
			t.Errorf("%q: %q %v", in, tok, ok)
		}
	}
	if d, ok := RetryAfterFromMessage(RateLimitMessage(7)); !ok || d != 7*time.Second {
		t.Fatal(d, ok)
	}
	if _, ok := RetryAfterFromMessage("nope"); ok {
		t.Fatal("ok")
	}
	if d, ok := ParseRetryAfter("3"); !ok || d != 3*time.Second {
		t.Fatal(d)
	}
	for _, bad := range []string{"", "-1", "x", "1234567890"} {
		if _, ok := ParseRetryAfter(bad); ok {
			t.Fatal(bad)
		}
	}
	if MemberTypingPath("c", "m") != "/api/v2/webchat/guest/conversations/c/members/m/typing" ||
		MessagePath("c", "x") != "/api/v2/webchat/guest/conversations/c/messages/x" ||
		MediaRequestPath("c", "r") != "/api/v2/webchat/guest/conversations/c/mediarequests/r" ||
		ConversationSelfURI("c") != "/api/v2/conversations/c" {
		t.Fatal("paths")
	}
	if !TargetType("queue").IsQueue() || TargetType("queues").IsQueue() {
		t.Fatal("IsQueue")
	}
	if len(Regions) != 17 {
		t.Fatal(len(Regions))
	}
	e := &ErrorBody{Status: 400, Code: CodeConversationState, Message: "m"}
	if e.Error() != "purecloud: 400 chat.error.conversation.state: m" {
		t.Fatal(e.Error())
	}
}

func FuzzParseEvent(f *testing.F) {
	f.Add(HeartbeatFrame)
	f.Add(PongFrame)
	f.Add([]byte(`{"topicName":"v2.conversations.chats.c1.messages","version":"2","eventBody":{"id":"m1","conversation":{"id":"c1"},"sender":{"id":"s1"},"body":"Hello","bodyType":"standard","timestamp":"2020-08-05T13:10:02.113Z"},"metadata":{"CorrelationId":"x","type":"message"}}`))
	f.Add([]byte(`{"topicName":"v2.conversations.chats.c1.members","eventBody":{"member":{"id":"m","state":"CONNECTED"},"timestamp":"2020-08-05T13:09:51.002Z"},"metadata":{"type":"member-change"}}`))
	f.Add([]byte(`{"topicName":"v2.conversations.chats.c1.messages","eventBody":{"sender":{"id":"s"}},"metadata":{"type":"typing-indicator"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := ParseEvent(data)
		if err != nil {
			if ev != nil || !errors.Is(err, ErrMalformedFrame) {
				t.Fatalf("err %v with event %v", err, ev)
			}
			return
		}
		switch ev.Kind {
		case KindMessage:
			if ev.Message == nil || ev.Message.Sender == nil {
				t.Fatal("message without sender")
			}
		case KindTyping:
			if ev.Typing == nil || ev.Typing.Sender == nil {
				t.Fatal("typing without sender")
			}
		case KindMemberChange:
			if ev.MemberChange == nil || ev.MemberChange.Member == nil {
				t.Fatal("member-change without member")
			}
		}
	})
}

func FuzzParseJWT(f *testing.F) {
	in, _ := EncodeJWTSigningInput(&JWTHeader{Alg: "RS256"}, &JWTClaims{Iss: JWTIssuer})
	f.Add(in + ".c2ln")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		h, c, _, _, err := ParseJWT(tok)
		if err != nil {
			if !errors.Is(err, ErrMalformedJWT) || h != nil || c != nil {
				t.Fatalf("bad error result: %v", err)
			}
			return
		}
		if h == nil || c == nil {
			t.Fatal("nil result without error")
		}
	})
}
