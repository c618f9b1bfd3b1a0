package purecloud

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func fuzzSim(f *testing.F) *Simulator {
	s, err := New(Options{SigningKey: sharedKey(), HeartbeatInterval: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	return s
}

// checkResponse: every answer is JSON with a correlation id; errors are
// well-formed ErrorBodies; nothing is a 5xx.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if rec.Header().Get(wire.HeaderCorrelationID) == "" {
		t.Fatal("no correlation id")
	}
	if rec.Code >= 400 {
		var e wire.ErrorBody
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Status != rec.Code || e.Code == "" {
			t.Fatalf("bad error body %d %q", rec.Code, rec.Body)
		}
	}
}

// FuzzCreateRequest feeds untrusted create bodies to #1.
func FuzzCreateRequest(f *testing.F) {
	s := fuzzSim(f)
	good, _ := json.Marshal(createReq())
	f.Add(good)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"routingTarget":null,"memberInfo":{"displayName":""}}`))
	f.Add([]byte(`{"journeyContext":{"customer":{},"triggeringAction":{"actionMap":null}}}`))
	f.Add([]byte(`[1,2]`))
	f.Add([]byte(`{"organizationId":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest("POST", wire.ConversationsPath, strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		checkResponse(t, rec)
		if rec.Code == 200 {
			var c wire.CreateWebChatConversationResponse
			if json.Unmarshal(rec.Body.Bytes(), &c) != nil || c.JWT == "" || c.Member == nil {
				t.Fatalf("bad create response %s", rec.Body)
			}
		} else if rec.Code != 400 && rec.Code != 413 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}

// FuzzMessageRequest feeds untrusted #5 bodies with a valid token.
func FuzzMessageRequest(f *testing.F) {
	s := fuzzSim(f)
	good, _ := json.Marshal(createReq())
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", wire.ConversationsPath, strings.NewReader(string(good)))
	s.ServeHTTP(rec, req)
	var c wire.CreateWebChatConversationResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"body":"hi"}`), "application/json")
	f.Add([]byte(`{"body":"hi","bodyType":"standard | notice"}`), "application/json; charset=utf-8")
	f.Add([]byte(`{"body":""}`), "")
	f.Add([]byte(`null`), "text/plain")
	f.Fuzz(func(t *testing.T, body []byte, ctype string) {
		req := httptest.NewRequest("POST", wire.MemberMessagesPath(c.ID, c.Member.ID), strings.NewReader(string(body)))
		req.Header.Set("Content-Type", ctype)
		req.Header.Set("Authorization", "Bearer "+c.JWT)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		checkResponse(t, rec)
		if rec.Code == 200 {
			var m wire.WebChatMessage
			if json.Unmarshal(rec.Body.Bytes(), &m) != nil || m.Body == "" || wire.BodyLength(m.Body) > wire.MaxBodyLength ||
				(m.BodyType != wire.BodyStandard && m.BodyType != wire.BodyNotice) {
				t.Fatalf("accepted %s", rec.Body)
			}
		}
	})
}

// FuzzAuthorization feeds untrusted Authorization headers and paths.
func FuzzAuthorization(f *testing.F) {
	s := fuzzSim(f)
	tok, _, err := s.issueJWT("conv", "dep", "member", "org")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("Bearer "+tok, wire.MembersPath("conv"))
	f.Add("bearer "+tok[:len(tok)-3], wire.MemberPath("conv", "member"))
	f.Add("Bearer a.b.c", wire.MessagesPath("x")+"?maxResults=-1")
	f.Add("", "/api/v2/webchat/guest/conversations/%2e%2e/members")
	f.Fuzz(func(t *testing.T, auth, path string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest("GET", "http://sim"+path, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", auth)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if strings.HasPrefix(req.URL.Path, "/_sim") || strings.HasPrefix(req.URL.Path, wire.EventStreamPathPrefix) {
			return
		}
		checkResponse(t, rec)
		if rec.Code == 200 {
			if got, ok := wire.IsBearer(auth); !ok || got != tok {
				t.Fatalf("accepted a foreign token for %s", path)
			}
		}
	})
}

// FuzzVerifyJWT checks the token verifier against forged tokens.
func FuzzVerifyJWT(f *testing.F) {
	s := fuzzSim(f)
	tok, _, err := s.issueJWT("conv", "dep", "member", "org")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tok[:len(tok)-2] + "xx")
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ1cm46cHVyZWNsb3VkOndlYmNoYXQifQ.")
	f.Fuzz(func(t *testing.T, in string) {
		cl, err := s.verifyJWT(in)
		if err == nil && in != tok {
			t.Fatalf("forged token accepted: %+v", cl)
		}
	})
}
