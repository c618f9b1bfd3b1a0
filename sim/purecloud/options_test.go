package purecloud

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		name string
		o    Options
		want []string
	}{
		{"zero value", Options{SigningKey: sharedKey()}, nil},
		{"deployment without id", Options{SigningKey: sharedKey(), Deployments: []Deployment{{OrganizationID: "o"}}}, []string{"Options.Deployments"}},
		{"negative body limit", Options{SigningKey: sharedKey(), MaxRequestBytes: -1}, []string{"Options.MaxRequestBytes"}},
		{"negative JWTTTL and body", Options{SigningKey: sharedKey(), JWTTTL: -time.Second, MaxRequestBytes: -1}, []string{"Options.JWTTTL", "Options.MaxRequestBytes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(tc.o)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				_ = s.Close()
				return
			}
			if err == nil {
				_ = s.Close()
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) || !strings.HasPrefix(err.Error(), "purecloud: ") {
					t.Fatalf("error %q does not name %s", err, w)
				}
			}
		})
	}
	if _, err := Start("127.0.0.1:0", Options{SigningKey: sharedKey(), MaxRequestBytes: -5}); err == nil {
		t.Fatal("Start accepted bad options")
	}
	if _, err := Start("256.0.0.1:0", Options{SigningKey: sharedKey()}); err == nil {
		t.Fatal("Start accepted a bad address")
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "MaxRequestBytes") {
				t.Fatalf("NewServer panic %v", r)
			}
		}()
		NewServer(Options{SigningKey: sharedKey(), MaxRequestBytes: -1})
	}()
}

func TestDefaultsAndShutdown(t *testing.T) {
	set, err := (&Options{}).settings()
	if err != nil {
		t.Fatal(err)
	}
	if set.heartbeat != DefaultHeartbeatInterval || set.idle != DefaultIdleTimeout || set.detach != DefaultDetachTimeout ||
		set.jwtTTL != DefaultJWTTTL || set.routing != DefaultRoutingDelay || set.alert != DefaultAlertDelay ||
		set.answer != DefaultAnswerDelay || set.grace != DefaultCloseGrace || set.maxBody != DefaultMaxRequestBytes {
		t.Fatalf("defaults %+v", set)
	}
	set, _ = (&Options{HeartbeatInterval: -1, IdleTimeout: -1, RoutingDelay: -1}).settings()
	if set.heartbeat != 0 || set.idle != 0 || set.routing != 0 {
		t.Fatalf("negative = none: %+v", set)
	}
	s, err := Start("127.0.0.1:0", fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	a := createChat(t, s)
	st := a.attach()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if code, _ := st.closeCode(); code != 1001 {
		t.Fatalf("socket at shutdown: %d", code)
	}
	if _, err := s.NextConversation(ctx); err != nil {
		t.Fatalf("queued conversation lost: %v", err)
	}
	if _, err := s.NextConversation(ctx); err != ErrClosed {
		t.Fatalf("after close: %v", err)
	}
	s.Close() // idempotent
}

func TestCORS(t *testing.T) {
	s := newTestServer(t, fastOpts())
	req, _ := http.NewRequest("OPTIONS", s.URL+wire.ConversationsPath, nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight %d %v", res.StatusCode, res.Header)
	}
	body, _ := json.Marshal(createReq())
	req, _ = http.NewRequest("POST", s.URL+wire.ConversationsPath, bytes.NewReader(body))
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), wire.HeaderCorrelationID) {
		t.Fatalf("CORS create %d %v", res.StatusCode, res.Header)
	}
	// OPTIONS without a preflight is just a wrong method.
	req, _ = http.NewRequest("OPTIONS", s.URL+wire.ConversationsPath, nil)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 {
		t.Fatalf("plain OPTIONS %d", res.StatusCode)
	}
}
