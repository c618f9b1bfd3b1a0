package wire

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeFixtures(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, r *Response)
	}{
		{"requestchat.json", func(t *testing.T, r *Response) {
			if r.StatusCode != StatusOK || r.ChatID != "00048aAPEQJ8000U" || r.UserID != "007555677B20000A" ||
				r.SecureKey != "4ee15d7e1c343c8e" || r.Alias != "117" || r.NextPosition != 2 {
				t.Fatalf("fields: %+v", r)
			}
			e := r.Messages[0]
			if e.Index != 1 || e.Type != EventParticipantJoined || e.From.ParticipantID != "1" || e.From.Type != PartyClient || e.UTCTime != 1432845088000 {
				t.Fatalf("event: %+v", e)
			}
		}},
		{"notification.json", func(t *testing.T, r *Response) {
			if r.UserID != Deprecated || r.Monitored == nil || *r.Monitored || r.Messages[0].Text != "hello" {
				t.Fatalf("fields: %+v", r)
			}
		}},
		{"filelimits.json", func(t *testing.T, r *Response) {
			l, ok, err := r.FileLimits()
			if err != nil || !ok {
				t.Fatalf("limits: %v %v", ok, err)
			}
			want := DefaultFileLimits()
			if !reflect.DeepEqual(l, want) {
				t.Fatalf("limits = %+v, want %+v", l, want)
			}
			if r.Messages[0].Index != 0 {
				t.Fatal("limits notice must have no index")
			}
		}},
		{"disconnect.json", func(t *testing.T, r *Response) {
			if !r.ChatEnded || r.SecureKey != "" || r.UserID != "" || len(r.Messages) != 0 {
				t.Fatalf("fields: %+v", r)
			}
		}},
		{"upload.json", func(t *testing.T, r *Response) {
			if r.UserData[KeyFileID] != "00F057DB0FF10005" || r.Messages != nil {
				t.Fatalf("fields: %+v", r)
			}
		}},
		{"errors.json", func(t *testing.T, r *Response) {
			var re *ResponseError
			if !errors.As(r.Err(), &re) || !re.Has(CodeTooManyFiles) || !re.Has(CodeFileTypeNotAllowed) {
				t.Fatalf("err = %v", r.Err())
			}
			if n, ok := r.Errors[0].AdviceInt(); !ok || n != 3 {
				t.Fatalf("advice = %q", r.Errors[0].Advice)
			}
			if got := r.Err().Error(); got != "wire: statusCode 2: 201 (3); 203 (bmp:txt)" {
				t.Fatalf("text = %q", got)
			}
		}},
		{"hexids.json", func(t *testing.T, r *Response) {
			if r.Alias != "117" || r.NextPosition != 9 || r.ChatEnded {
				t.Fatalf("fields: %+v", r)
			}
			m := r.Messages[0]
			if m.Index != 7 || m.From.ParticipantID != "007553863DC30029" || !m.IsBot() || m.UTCTime != 1493936549000 {
				t.Fatalf("event: %+v", m)
			}
			a := r.Messages[1]
			if n, ok := a.IdleSecondsLeft(); !ok || n != 45 || a.UserData[KeyNextIdleTimerType] != "CLOSE" {
				t.Fatalf("idle: %+v", a)
			}
			if r.MaxIndex() != 8 {
				t.Fatalf("max index %d", r.MaxIndex())
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := DecodeResponse(readFixture(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, r)
			// Round trip: encode and decode again gives the same value.
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := DecodeResponse(b)
			if err != nil {
				t.Fatalf("re-decode %s: %v", b, err)
			}
			if r.Messages == nil {
				r.Messages = []Event{}
			}
			if !reflect.DeepEqual(r, r2) {
				t.Fatalf("round trip:\n%+v\n%+v", r, r2)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		in, path, msg string
	}{
		{``, "", "want a JSON object, got nothing"},
		{`[]`, "", "want a JSON object, got array"},
		{`{"statusCode":0`, "", "malformed JSON"},
		{`{}`, "statusCode", "missing"},
		{`{"statusCode":null}`, "statusCode", "missing"},
		{`{"statusCode":3}`, "statusCode", "3 is not 0, 1 or 2"},
		{`{"statusCode":"x"}`, "statusCode", "want an integer"},
		{`{"statusCode":0.5}`, "statusCode", "want an integer"},
		{`{"statusCode":0,"chatEnded":1}`, "chatEnded", "want a boolean"},
		{`{"statusCode":0,"chatId":{}}`, "chatId", "want a string or a number, got object"},
		{`{"statusCode":0,"nextPosition":-1}`, "nextPosition", "out of range"},
		{`{"statusCode":0,"messages":{}}`, "messages", "want an array, got object"},
		{`{"statusCode":0,"messages":[1]}`, "messages[0]", "want a JSON object, got number"},
		{`{"statusCode":0,"messages":[{"index":1}]}`, "messages[0].type", "missing"},
		{`{"statusCode":0,"messages":[{"type":""}]}`, "messages[0].type", "empty"},
		{`{"statusCode":0,"messages":[{"type":"Message"},{"type":"Message","index":true}]}`, "messages[1].index", "want an integer, got boolean"},
		{`{"statusCode":0,"messages":[{"type":"Message","from":[]}]}`, "messages[0].from", "want a JSON object"},
		{`{"statusCode":0,"messages":[{"type":"Message","from":{"participantId":[1]}}]}`, "messages[0].from.participantId", "want a string or a number"},
		{`{"statusCode":0,"messages":[{"type":"Message","userData":[1]}]}`, "messages[0].userData", "want an object"},
		{`{"statusCode":0,"messages":[{"type":"Message","eventAttributes":"nope"}]}`, "messages[0].eventAttributes", "want an object"},
		{`{"statusCode":2,"errors":[{"advice":"x"}]}`, "errors[0].code", "missing"},
		{`{"statusCode":2,"errors":[{"code":1,"advice":{}}]}`, "errors[0].advice", "want a string or a number"},
		{`{"statusCode":0,"userData":"[]"}`, "userData", "want an object"},
		{`{"statusCode":0,"monitored":"maybe"}`, "monitored", "want a boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := DecodeResponse([]byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalidResponse) {
				t.Fatalf("%v is not ErrInvalidResponse", err)
			}
			var de *DecodeError
			if !errors.As(err, &de) || de.Path != tt.path || !strings.Contains(de.Msg, tt.msg) {
				t.Fatalf("err = %#v (%v), want path %q msg ~ %q", de, err, tt.path, tt.msg)
			}
		})
	}
}

func TestDecodeNeverLeaksSecureKey(t *testing.T) {
	for _, in := range []string{
		`{"statusCode":0,"secureKey":"S3CRETKEY","nextPosition":"S3CRETKEY"}`,
		`{"statusCode":7,"secureKey":"S3CRETKEY"}`,
		`{"statusCode":0,"secureKey":{"S3CRETKEY":1}}`,
	} {
		_, err := DecodeResponse([]byte(in))
		if err == nil || strings.Contains(err.Error(), "S3CRETKEY") {
			t.Fatalf("%s: err = %v", in, err)
		}
	}
}

func TestFlexStringMarshal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1", `1`}, {"117", `117`}, {"0", `0`}, {"007553863DC30029", `"007553863DC30029"`},
		{"01", `"01"`}, {"-1", `"-1"`}, {"", `""`}, {"1234567890123456", `"1234567890123456"`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(FlexString(tt.in))
		if err != nil || string(b) != tt.want {
			t.Fatalf("%q → %s (%v), want %s", tt.in, b, err, tt.want)
		}
		var back FlexString
		if err := json.Unmarshal(b, &back); err != nil || string(back) != tt.in {
			t.Fatalf("%s back → %q (%v)", b, back, err)
		}
	}
}

func TestKeysApply(t *testing.T) {
	var k Keys
	if !k.Apply(&Response{ChatID: "c1", UserID: "u1", SecureKey: "s1", Alias: "1"}) {
		t.Fatal("first apply must change")
	}
	steps := []struct {
		name    string
		r       Response
		changed bool
		want    Keys
	}{
		{"missing fields keep values", Response{Alias: "1"}, false, Keys{"c1", "u1", "s1", "1"}},
		{"deprecated ignored", Response{ChatID: Deprecated, UserID: Deprecated, SecureKey: "s2"}, true, Keys{"c1", "u1", "s2", "1"}},
		{"alias moves", Response{Alias: "2"}, true, Keys{"c1", "u1", "s2", "2"}},
		{"statusCode 1 untrusted", Response{StatusCode: StatusRetry, SecureKey: "bad", Alias: "9"}, false, Keys{"c1", "u1", "s2", "2"}},
		{"statusCode 2 applies", Response{StatusCode: StatusFailed, SecureKey: "s3"}, true, Keys{"c1", "u1", "s3", "2"}},
	}
	for _, s := range steps {
		if got := k.Apply(&s.r); got != s.changed || k != s.want {
			t.Fatalf("%s: changed=%v keys=%+v", s.name, got, k)
		}
	}
	for _, f := range []string{k.String(), k.GoString()} {
		if strings.Contains(f, "s3") {
			t.Fatalf("secureKey leaked: %s", f)
		}
	}
}

func TestCursor(t *testing.T) {
	tests := []struct{ next, last, want int }{
		{0, 0, 1}, {2, 1, 2}, {9, 8, 9}, {8, 8, 9}, {0, 5, 6}, {12, 3, 12},
	}
	for _, tt := range tests {
		if got := Cursor(tt.next, tt.last); got != tt.want {
			t.Fatalf("Cursor(%d,%d) = %d, want %d", tt.next, tt.last, got, tt.want)
		}
	}
}

func TestEventDisplayText(t *testing.T) {
	var e Event
	if err := json.Unmarshal([]byte(`{"type":"Message","text":"plain","eventAttributes":{"structured-content":{"genesys-chat":{"content":{"text":"rich"}}}}}`), &e); err != nil {
		t.Fatal(err)
	}
	if e.DisplayText() != "rich" {
		t.Fatal(e.DisplayText())
	}
	e.EventAttributes = nil
	if e.DisplayText() != "plain" {
		t.Fatal(e.DisplayText())
	}
}

func FuzzDecodeResponse(f *testing.F) {
	for _, name := range []string{"requestchat.json", "notification.json", "filelimits.json", "disconnect.json", "upload.json", "errors.json", "hexids.json"} {
		f.Add(readFixture(f, name))
	}
	f.Add([]byte(`{"statusCode":1}`))
	f.Add([]byte(`{"statusCode":0,"messages":[{"type":"X","index":"1e3"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := DecodeResponse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidResponse) {
				t.Fatalf("error not ErrInvalidResponse: %v", err)
			}
			return
		}
		if r.StatusCode < 0 || r.StatusCode > 2 || r.NextPosition < 0 {
			t.Fatalf("invalid value accepted: %+v", r)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := DecodeResponse(b); err != nil {
			t.Fatalf("re-decode of %s: %v", b, err)
		}
	})
}
