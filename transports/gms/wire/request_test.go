package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var keys = Keys{ChatID: "00048aAPEQJ8000U", UserID: "007555677B20000A", SecureKey: "4ee15d7e1c343c8e", Alias: "117"}

func withKeys(r Request) *Request { r.SetKeys(keys); return &r }

// requests has one request per operation, with every parameter it uses.
func requests() []*Request {
	return []*Request{
		{Operation: OpRequestChat, FirstName: "Joan", LastName: "Smith", Nickname: "JS", Subject: "Savings",
			EmailAddress: "joan@example.com", Endpoint: "ep", UserData: map[string]string{"TimeZone": "-480", "a[b]": "c"}},
		withKeys(Request{Operation: OpRefresh, TranscriptPosition: 2, Message: "typing…"}),
		withKeys(Request{Operation: OpSendMessage, Message: "Hello", MessageType: "text", TranscriptPosition: 3,
			EventAttributes: map[string]any{"general-properties": map[string]any{"related-event-id": "7"}}}),
		withKeys(Request{Operation: OpStartTyping, Message: "hello, I ha", TranscriptPosition: 3}),
		withKeys(Request{Operation: OpStopTyping, Message: "hello, I have", TranscriptPosition: 4}),
		withKeys(Request{Operation: OpReadReceipt, TranscriptPosition: 5}),
		withKeys(Request{Operation: OpPushURL, PushURL: "http://www.genesys.com"}),
		withKeys(Request{Operation: OpUpdateNickname, Nickname: "MyNewNickname"}),
		withKeys(Request{Operation: OpCustomNotice, Message: "ORDER UPDATE", EventAttributes: map[string]any{"purpose": "cancel-idle-timer"}}),
		withKeys(Request{Operation: OpUpdateData, UserData: map[string]string{"key3": "value3"}}),
		withKeys(Request{Operation: OpDisconnect}),
		withKeys(Request{Operation: OpFileGetLimits}),
		withKeys(Request{Operation: OpFileUpload, UserData: map[string]string{KeyFileDescription: "March invoice"}}),
		withKeys(Request{Operation: OpFileDownload, FileID: "00F057DB0FF10005"}),
		withKeys(Request{Operation: OpFileDelete, FileID: "00F057DB0FF10005"}),
	}
}

// restView is what REST carries for r: chatId travels in the path, not the body.
func TestRESTRoundTrip(t *testing.T) {
	for _, r := range requests() {
		t.Run(string(r.Operation), func(t *testing.T) {
			if err := r.Validate(); err != nil {
				t.Fatal(err)
			}
			form, err := r.Form()
			if err != nil {
				t.Fatal(err)
			}
			if form.Get(FieldSecureKey) != "" && r.Operation == OpRequestChat {
				t.Fatal("requestChat sends no keys")
			}
			u, err := RESTURL("http://h/genesys/2/chat/customer-support/", r.Operation, r.ChatID, r.FileID, true)
			if err != nil {
				t.Fatal(err)
			}
			pu, _ := url.Parse(u)
			p, err := ParseRESTPath(pu.Path)
			if err != nil {
				t.Fatalf("%s: %v", u, err)
			}
			if p.Op != r.Operation || p.Service != "customer-support" || p.ChatID != r.ChatID || p.FileID != r.FileID {
				t.Fatalf("path %s parsed to %+v", u, p)
			}
			// Through a real encoding: url-encoded body.
			back, err := ParseForm(p.Op, p.ChatID, p.FileID, mustParseQuery(t, form.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(restOnly(r), back) {
				t.Fatalf("round trip\n got %+v\nwant %+v", *back, *restOnly(r))
			}
			// And multipart.
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			if err := WriteFields(mw, form); err != nil {
				t.Fatal(err)
			}
			mw.Close()
			hr, _ := http.NewRequest("POST", u, &buf)
			hr.Header.Set("Content-Type", mw.FormDataContentType())
			if err := hr.ParseMultipartForm(1 << 20); err != nil {
				t.Fatal(err)
			}
			back2, err := ParseForm(p.Op, p.ChatID, p.FileID, hr.Form)
			if err != nil || !reflect.DeepEqual(back, back2) {
				t.Fatalf("multipart differs: %v\n%+v\n%+v", err, back, back2)
			}
		})
	}
}

func mustParseQuery(t *testing.T, s string) url.Values {
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// restOnly drops what REST does not carry for the operation.
func restOnly(r *Request) *Request {
	c := *r
	switch c.Operation {
	case OpRequestChat:
		c.ChatID, c.UserID, c.SecureKey, c.Alias = "", "", "", ""
	}
	return &c
}

func TestCometDRoundTrip(t *testing.T) {
	for _, r := range requests() {
		if !r.Operation.CometD() {
			if _, err := r.CometD(); err == nil {
				t.Fatalf("%s: CometD() must fail", r.Operation)
			}
			continue
		}
		t.Run(string(r.Operation), func(t *testing.T) {
			b, err := r.MarshalCometD()
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParseCometD(b)
			if err != nil {
				t.Fatal(err)
			}
			want := *r
			switch want.Operation {
			case OpSendMessage, OpStartTyping, OpStopTyping:
				want.TranscriptPosition = 0 // REST only
			}
			if !reflect.DeepEqual(&want, back) {
				t.Fatalf("round trip of %s\n got %+v\nwant %+v", b, *back, want)
			}
		})
	}
	// requestNotifications with push keys and transcriptPosition as a string (the Genesys example).
	back, err := ParseCometD([]byte(`{"operation":"requestNotifications","alias":"117","chatId":"00048aAPEQJ8000U",
	 "userId":"007555677B20000A","secureKey":"4ee15d7e1c343c8e","transcriptPosition":"2",
	 "userData":{"push_notification_deviceid":"dev","push_notification_debug":true},
	 "auth":{"encoded":"dXNlcjE6cGFzczE="}}`))
	if err != nil {
		t.Fatal(err)
	}
	if back.TranscriptPosition != 2 || back.UserData["push_notification_debug"] != "true" || back.Keys() != keys {
		t.Fatalf("%+v", back)
	}
	if u, p, ok := back.Auth.Credentials(); !ok || u != "user1" || p != "pass1" {
		t.Fatalf("auth %q %q %v", u, p, ok)
	}
	if s := back.Auth.String() + back.String() + back.GoString(); strings.Contains(s, "pass1") || strings.Contains(s, keys.SecureKey) {
		t.Fatalf("secret leaked: %s", s)
	}
}

func TestNtfForm(t *testing.T) {
	for _, r := range requests() {
		if !r.Operation.File() {
			if _, err := r.NtfForm(); err == nil {
				t.Fatalf("%s: NtfForm must fail", r.Operation)
			}
			continue
		}
		v, err := r.NtfForm()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseNtfForm(v)
		if err != nil {
			t.Fatal(err)
		}
		if back.Operation != r.Operation || back.SecureKey != r.SecureKey || back.FileID != r.FileID || !reflect.DeepEqual(back.UserData, r.UserData) {
			t.Fatalf("%s: %+v", r.Operation, back)
		}
	}
	back, err := ParseNtfForm(url.Values{"operation": {"download"}, "secureKey": {"k"}, "fileId": {"f"}})
	if err != nil || back.Operation != OpFileDownload {
		t.Fatalf("download alias: %v %+v", err, back)
	}
	for _, v := range []url.Values{{}, {"operation": {"sendMessage"}}} {
		var re *RequestError
		if _, err := ParseNtfForm(v); !errors.As(err, &re) || re.Field != FieldOperation {
			t.Fatalf("%v: err = %v", v, err)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		r     Request
		field string
		code  int
	}{
		{"nickname", Request{Operation: OpRequestChat, Nickname: "n"}, "", 0},
		{"full name", Request{Operation: OpRequestChat, FirstName: "a", LastName: "b"}, "", 0},
		{"nothing", Request{Operation: OpRequestChat}, FieldNickname, CodeNicknameRequired},
		{"blank nickname", Request{Operation: OpRequestChat, Nickname: "  "}, FieldNickname, CodeNicknameRequired},
		{"first only", Request{Operation: OpRequestChat, FirstName: "a"}, FieldLastName, CodeLastNameRequired},
		{"last only", Request{Operation: OpRequestChat, LastName: "b"}, FieldFirstName, CodeFirstNameRequired},
		{"bad email", Request{Operation: OpRequestChat, Nickname: "n", EmailAddress: "not-an-email"}, FieldEmailAddress, CodeInvalidEmail},
		{"email no domain dot", Request{Operation: OpRequestChat, Nickname: "n", EmailAddress: "a@b"}, FieldEmailAddress, CodeInvalidEmail},
		{"no op", Request{}, FieldOperation, CodeInvalidRequest},
		{"bad op", Request{Operation: "explode", SecureKey: "k"}, FieldOperation, CodeInvalidRequest},
		{"no key", Request{Operation: OpRefresh}, FieldSecureKey, CodeInvalidRequest},
		{"send empty", Request{Operation: OpSendMessage, SecureKey: "k"}, FieldMessage, CodeInvalidRequest},
		{"read receipt 0", Request{Operation: OpReadReceipt, SecureKey: "k"}, FieldTranscriptPosition, CodeInvalidRequest},
		{"push url", Request{Operation: OpPushURL, SecureKey: "k"}, FieldPushURL, CodeInvalidRequest},
		{"nickname update", Request{Operation: OpUpdateNickname, SecureKey: "k"}, FieldNickname, CodeInvalidRequest},
		{"download no id", Request{Operation: OpFileDownload, SecureKey: "k"}, FieldFileID, CodeInvalidRequest},
		{"negative position", Request{Operation: OpRefresh, SecureKey: "k", TranscriptPosition: -1}, FieldTranscriptPosition, CodeInvalidRequest},
		{"refresh ok", Request{Operation: OpRefresh, SecureKey: "k"}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *RequestError
			if !errors.As(err, &re) || re.Field != tt.field || re.Code != tt.code {
				t.Fatalf("err = %v, want field %s code %d", err, tt.field, tt.code)
			}
			if re.APIError().Code != tt.code {
				t.Fatal("APIError code")
			}
		})
	}
}

func TestParseFormErrors(t *testing.T) {
	for _, v := range []url.Values{
		{"transcriptPosition": {"abc"}},
		{"transcriptPosition": {"-3"}},
		{"eventAttributes": {"[1]"}},
		{"eventAttributes": {"{bad"}},
	} {
		var re *RequestError
		if _, err := ParseForm(OpSendMessage, "c", "", v); !errors.As(err, &re) || re.Code != CodeInvalidRequest {
			t.Fatalf("%v: err = %v", v, err)
		}
	}
}

func TestUserDataFlattening(t *testing.T) {
	v := url.Values{}
	EncodeUserData(v, map[string]string{"TimeZone": "-480", "_genesys_url": "http://x/?a=b&c=d"})
	enc := v.Encode()
	if !strings.Contains(enc, "userData%5BTimeZone%5D=-480") {
		t.Fatal(enc)
	}
	v = mustParseQuery(t, enc+"&userData%5BTimeZone%5D=60&userData%5B%5D=x&userDataX=1&userData[a][b]=nested")
	got := DecodeUserData(v)
	want := map[string]string{"TimeZone": "60", "_genesys_url": "http://x/?a=b&c=d", "a][b": "nested"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v", got)
	}
	if DecodeUserData(url.Values{"x": {"1"}}) != nil {
		t.Fatal("want nil")
	}
}

func TestParseRESTPath(t *testing.T) {
	tests := []struct {
		path string
		want RESTPath
		bad  bool
	}{
		{"/genesys/2/chat/cs", RESTPath{Service: "cs", Op: OpRequestChat}, false},
		{"/genesys/2/chat/cs/", RESTPath{Service: "cs", Op: OpRequestChat}, false},
		{"/genesys/2/chat/cs/C1/refresh", RESTPath{Service: "cs", ChatID: "C1", Op: OpRefresh}, false},
		{"/genesys/2/chat/cs/C1/send", RESTPath{Service: "cs", ChatID: "C1", Op: OpSendMessage}, false},
		{"/genesys/2/chat/cs/C1/file", RESTPath{Service: "cs", ChatID: "C1", Op: OpFileUpload}, false},
		{"/genesys/2/chat/cs/C1/file/limits", RESTPath{Service: "cs", ChatID: "C1", Op: OpFileGetLimits}, false},
		{"/genesys/2/chat/cs/C1/file/F1/download", RESTPath{Service: "cs", ChatID: "C1", Op: OpFileDownload, FileID: "F1"}, false},
		{"/genesys/2/chat/cs/C1/file/F1/delete", RESTPath{Service: "cs", ChatID: "C1", Op: OpFileDelete, FileID: "F1"}, false},
		{"/genesys/2/chat/cs/C1/sendMessage", RESTPath{}, true},
		{"/genesys/2/chat/cs/C1/download", RESTPath{}, true},
		{"/genesys/2/chat/cs/C1/file/F1/explode", RESTPath{}, true},
		{"/genesys/2/chat/cs//refresh", RESTPath{}, true},
		{"/genesys/2/chat/", RESTPath{}, true},
		{"/genesys/2/chat", RESTPath{}, true},
		{"/other", RESTPath{}, true},
	}
	for _, tt := range tests {
		got, err := ParseRESTPath(tt.path)
		if tt.bad {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("%s: err = %v, got %+v", tt.path, err, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Fatalf("%s: %+v %v", tt.path, got, err)
		}
	}
}

func TestRESTURL(t *testing.T) {
	tests := []struct {
		op            Operation
		chat, file    string
		slash         bool
		want          string
		wantErrSubstr string
	}{
		{OpRequestChat, "", "", true, "http://h/b/", ""},
		{OpRequestChat, "", "", false, "http://h/b", ""},
		{OpSendMessage, "C 1", "", false, "http://h/b/C%201/send", ""},
		{OpFileGetLimits, "C", "", false, "http://h/b/C/file/limits", ""},
		{OpFileDelete, "C", "F", false, "http://h/b/C/file/F/delete", ""},
		{OpFileDelete, "C", "", false, "", "needs a fileId"},
		{OpRefresh, "", "", false, "", "needs a chatId"},
		{OpRequestNotifications, "C", "", false, "", "no REST endpoint"},
	}
	for _, tt := range tests {
		got, err := RESTURL("http://h/b/", tt.op, tt.chat, tt.file, tt.slash)
		if tt.wantErrSubstr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErrSubstr) {
				t.Fatalf("%s: err = %v", tt.op, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Fatalf("%s: %q %v", tt.op, got, err)
		}
	}
	if s, ok := ServiceFromChannel(ServiceChannel("customer-support")); !ok || s != "customer-support" {
		t.Fatal(s)
	}
	for _, c := range []string{"/service/chatV2/", "/service/chatV2/a/b", "/meta/connect", "/service/chatV2/*"} {
		if _, ok := ServiceFromChannel(c); ok {
			t.Fatal(c)
		}
	}
}

func TestCometDDataShape(t *testing.T) {
	r := withKeys(Request{Operation: OpRequestNotifications, TranscriptPosition: 4})
	d, _ := r.CometD()
	b, _ := json.Marshal(d)
	want := `{"alias":"117","chatId":"00048aAPEQJ8000U","message":"","operation":"requestNotifications","secureKey":"4ee15d7e1c343c8e","transcriptPosition":4,"userId":"007555677B20000A"}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

func FuzzParseCometD(f *testing.F) {
	for _, r := range requests() {
		if b, err := r.MarshalCometD(); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"operation":"readReceipt","transcriptPosition":"5","auth":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseCometD(data)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error type %T: %v", err, err)
			}
			return
		}
		_ = r.Validate()
		if r.Operation.CometD() {
			if _, err := r.MarshalCometD(); err != nil {
				t.Fatalf("re-encode: %v", err)
			}
		}
	})
}

func FuzzParseForm(f *testing.F) {
	for _, r := range requests() {
		if v, err := r.Form(); err == nil {
			f.Add("/genesys/2/chat/cs/C1/send", v.Encode())
		}
	}
	f.Add("/genesys/2/chat/cs/C1/file/F/download", "eventAttributes=%7B%7D&transcriptPosition=1")
	f.Fuzz(func(t *testing.T, path, body string) {
		p, err := ParseRESTPath(path)
		if err != nil {
			if !errors.Is(err, ErrBadPath) {
				t.Fatalf("path error %v", err)
			}
			return
		}
		v, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		r, err := ParseForm(p.Op, p.ChatID, p.FileID, v)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error type %T", err)
			}
			return
		}
		_ = r.Validate()
		if _, err := r.Form(); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
