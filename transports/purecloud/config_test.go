package purecloud_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud"
	"github.com/cxbus/webchat/transports/purecloud/wire"
	"github.com/cxbus/webchat/transports/transporttest"
)

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		json  string
		wants []string // every bad field named
	}{
		{"empty", `{}`, []string{"webchat.transport.dataURL: required"}},
		{"not json", `{"transport":`, []string{"invalid config"}},
		{"wrong types", `{"transport":{"dataURL":5}}`, []string{"webchat.transport.dataURL: must be a string"}},
		{"bad url and type", `{"transport":{"type":"gms","dataURL":"ftp://x"}}`, []string{"webchat.transport.type", "webchat.transport.dataURL"}},
		{"bad region", `{"transport":{"region":"mars_1"}}`, []string{"webchat.transport.region: unknown region"}},
		{"ranges", `{"transport":{"dataURL":"https://api.mypurecloud.com","maxMessagePageSize":101,
			"interactionData":{"routing":{"targetType":"USER","priority":11},"journey":{"actionMapVersion":"x"}},
			"socketHeartbeatTrackerInterval":-1},"ajaxTimeout":-5}`,
			[]string{"maxMessagePageSize", "targetType", "priority", "actionMapVersion", "socketHeartbeatTrackerInterval", "ajaxTimeout"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := purecloud.ParseConfig(json.RawMessage(c.json))
			if !errors.Is(err, transports.ErrInvalidConfig) {
				t.Fatalf("err = %v", err)
			}
			for _, w := range c.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not name %q", err, w)
				}
			}
			if _, err := transports.New(transports.TypePureCloud, json.RawMessage(c.json), transports.Options{}); !errors.Is(err, transports.ErrInvalidConfig) {
				t.Errorf("registry: %v", err)
			}
		})
	}
	for _, ok := range []string{
		`{"transport":{"type":"purecloud-v2-sockets","dataURL":"https://api.mypurecloud.ie/"}}`,
		`{"transport":{"region":"eu_west_1"},"userData":{"a":1},"emojis":true}`,
		``,
	} {
		if ok == "" {
			continue
		}
		if _, err := purecloud.ParseConfig(json.RawMessage(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// The create request carries the Widgets mapping (§11.1); checked on the
// simulator's side of the wire.
func TestCreateMapping(t *testing.T) {
	ctx := testCtx(t)
	srv := startSim(t, fastSim())
	raw := `{
	  "userData": {"source": "config", "shared": "config", "phone": "+1 555"},
	  "ajaxTimeout": 1000,
	  "transport": {
	    "type": "purecloud-v2-sockets", "dataURL": "` + srv.URL + `/",
	    "deploymentKey": "dep-cfg", "orgGuid": "org-cfg",
	    "interactionData": {
	      "routing": {"targetType": "queue", "targetAddress": "Sales", "priority": 2, "skills": ["Computers"], "language": "English - Written"},
	      "journey": {"customerId": "cust-1", "customerIdType": "cookie", "sessionId": "s-1", "sessionType": "web", "actionId": "a-1", "actionMapId": "am-1", "actionMapVersion": 3},
	      "userData": {"shared": "interaction", "level": 2}
	    }
	  }
	}`
	tr, err := purecloud.NewFromJSON(json.RawMessage(raw), transports.Options{HTTPClient: newHTTPClient(t)})
	if err != nil {
		t.Fatal(err)
	}
	rec := transporttest.Record(tr)
	t.Cleanup(func() { _ = tr.Close(); <-rec.Done() })
	_, err = tr.Start(ctx, transports.StartRequest{
		FirstName: "Joan", LastName: "Smith", Email: "joan@example.com", Subject: "Savings",
		UserData:        map[string]any{"shared": "start", "vip": true},
		InteractionData: json.RawMessage(`{"routing":{"targetAddress":"Support"}}`),
		DeploymentKey:   "dep-start",
	})
	if err != nil {
		t.Fatal(err)
	}
	conv, err := srv.NextConversation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if conv.DeploymentID() != "dep-start" || conv.Queue() != "Support" {
		t.Fatalf("deployment %q queue %q", conv.DeploymentID(), conv.Queue())
	}
	var guest wire.WebChatMemberInfo
	for _, m := range conv.Members() {
		if m.ID == conv.GuestID() {
			guest = m
		}
	}
	if guest.DisplayName != "Joan Smith" || guest.FirstName != "Joan" || guest.Email != "joan@example.com" || guest.PhoneNumber != "+1 555" {
		t.Fatalf("guest member %+v", guest)
	}
	want := map[string]string{
		"source": "config", "shared": "start", "level": "2", "vip": "true", "phoneNumber": "+1 555",
		"firstName": "Joan", "lastName": "Smith", "email": "joan@example.com", "subject": "Savings",
	}
	for k, v := range want {
		if guest.CustomFields[k] != v {
			t.Errorf("customFields[%q] = %q, want %q (all: %v)", k, guest.CustomFields[k], v, guest.CustomFields)
		}
	}
	if _, ok := guest.CustomFields["phone"]; ok {
		t.Error("phone not renamed to phoneNumber")
	}
}

func TestStartValidation(t *testing.T) {
	ctx := testCtx(t)
	cfg := baseConfig("http://127.0.0.1:1")
	cfg.Transport.DeploymentKey, cfg.Transport.InteractionData.Routing.TargetAddress = "", ""
	tr, _ := newClient(t, cfg)
	_, err := tr.Start(ctx, transports.StartRequest{})
	if !errors.Is(err, transports.ErrInvalidConfig) || !strings.Contains(err.Error(), "deploymentKey") || !strings.Contains(err.Error(), "targetAddress") {
		t.Fatalf("err = %v", err)
	}
	if _, err := tr.Send(ctx, transports.Outgoing{Text: "x"}); !errors.Is(err, transports.ErrNotStarted) {
		t.Fatalf("send before start: %v", err)
	}
	if _, err := tr.Send(ctx, transports.Outgoing{Text: "  "}); !errors.Is(err, transports.ErrEmptyMessage) {
		t.Fatalf("blank: %v", err)
	}
	if _, err := tr.Send(ctx, transports.Outgoing{Text: strings.Repeat("😀", 2001)}); !errors.Is(err, transports.ErrMessageTooLong) {
		t.Fatalf("4002 UTF-16 units: %v", err)
	}
	if err := tr.End(ctx); !errors.Is(err, transports.ErrNotStarted) {
		t.Fatalf("end before start: %v", err)
	}
	if _, err := tr.FetchHistory(ctx); !errors.Is(err, transports.ErrNotStarted) {
		t.Fatalf("history before start: %v", err)
	}
	// Create fails: the error is a TransportError with status 0 (network).
	cfg = baseConfig("http://127.0.0.1:1")
	tr2, _ := newClient(t, cfg)
	_, err = tr2.Start(ctx, transports.StartRequest{Nickname: "x"})
	var te *transports.TransportError
	if !errors.As(err, &te) || te.Status != 0 {
		t.Fatalf("create against a closed port: %v", err)
	}
}
