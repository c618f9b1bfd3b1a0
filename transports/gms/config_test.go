package gms

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
)

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       []string // substrings of the error
	}{
		{"rest without dataURL", `{}`, []string{"webchat.dataURL: required"}},
		{"bad dataURL", `{"dataURL":"ftp://x/y"}`, []string{"webchat.dataURL: must be an absolute http/https URL"}},
		{"bad serverURL", `{"serverURL":"nohost"}`, []string{"webchat.serverURL"}},
		{"cometd without URL", `{"cometD":{"enabled":true}}`, []string{"webchat.cometD.cometURL: required"}},
		{"bad channel", `{"cometD":{"enabled":true,"cometURL":"http://h/genesys/cometd","channel":"/chat/x"}}`, []string{"webchat.cometD.channel"}},
		{"bad apiURL", `{"cometD":{"enabled":true,"cometURL":"http://h/c","apiURL":"::"}}`, []string{"webchat.cometD.apiURL"}},
		{"async in REST", `{"dataURL":"http://h/genesys/2/chat/s","async":{"enabled":true}}`, []string{"Async chat only in CometD mode"}},
		{"negative", `{"dataURL":"http://h/x","ajaxTimeout":-1,"pollExceptionLimit":-2,"onlineAfter":-1,"pollRateMult":-3}`,
			[]string{"webchat.ajaxTimeout", "webchat.pollExceptionLimit", "webchat.onlineAfter", "webchat.pollRateMult"}},
		{"negative cometD timings", `{"cometD":{"enabled":true,"cometURL":"http://h/c","notificationRetry":-1,"serverTimeoutAfter":-5}}`,
			[]string{"webchat.cometD.notificationRetry", "webchat.cometD.serverTimeoutAfter"}},
		{"wrong type", `{"dataURL":"http://h/x","pollRate":"fast"}`, []string{"webchat.pollRate: must be a int, got a JSON string"}},
		{"other transport", `{"transport":{"type":"purecloud-v2-sockets"},"dataURL":"http://h/x"}`, []string{"webchat.transport.type"}},
		{"bad header", `{"dataURL":"http://h/x","headers":{"a b":"c"}}`, []string{"webchat.headers"}},
		{"bad basic auth", `{"dataURL":"http://h/x","basicAuth":{"username":"a:b","password":"p"}}`, []string{"webchat.basicAuth.username"}},
		{"not JSON", `{`, []string{"webchat:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(json.RawMessage(tc.json))
			if !errors.Is(err, transports.ErrInvalidConfig) {
				t.Fatalf("error %v, want ErrInvalidConfig", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestConfigDefaultsAndClamping(t *testing.T) {
	var logs bytes.Buffer
	log := zerolog.New(&logs)
	c, err := ParseConfig(json.RawMessage(`{"dataURL":"http://gms:8080/genesys/2/chat/customer-support/",
		"pollRate":100,"pollRateMin":50,"pollIntervalIdle_ms":99999,"pollRateSleep":60000,"pollRateMult":1,
		"ignored":{"ui":true},"cometD":{"apiURL":"not used in REST"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.settings(log)
	if err != nil {
		t.Fatal(err)
	}
	if s.restBase != "http://gms:8080/genesys/2/chat/customer-support" || !s.trailingSlash || s.mode != ModeREST {
		t.Errorf("base %q slash %v mode %v", s.restBase, s.trailingSlash, s.mode)
	}
	if s.pollRate != time.Second || s.pollMin != 250*time.Millisecond || s.pollMax != MaxPollInterval ||
		s.pollSleep != MaxPollInterval || s.pollMult != DefaultPollRateMult {
		t.Errorf("clamped rates %v %v %v %v %v", s.pollRate, s.pollMin, s.pollMax, s.pollSleep, s.pollMult)
	}
	for _, f := range []string{"webchat.pollRate", "webchat.pollRateMin", "webchat.pollIntervalIdle_ms", "webchat.pollRateSleep", "webchat.pollRateMult"} {
		if !strings.Contains(logs.String(), `"option":"`+f+`"`) {
			t.Errorf("no warning for %s: %s", f, logs.String())
		}
	}
	d, _ := Config{DataURL: "http://h/x"}.settings(zerolog.Nop())
	if d.ajaxTimeout != DefaultAjaxTimeout || d.pollLimit != DefaultPollExceptionLimit || d.pollRate != DefaultPollRate ||
		d.pollMin != DefaultPollRateMin || d.pollMax != DefaultPollRateMax || d.pollSleep != DefaultPollRateSleep ||
		d.onlineAfter != DefaultOnlineAfter || d.discAfter != DefaultDisconnectAfter || !d.dynamic {
		t.Errorf("defaults %+v", d)
	}
	cm, _ := Config{CometD: CometDConfig{Enabled: true, CometURL: "ws://h/genesys/cometd"}}.settings(zerolog.Nop())
	if cm.channel != DefaultChannel || cm.service != "customer-support" || !cm.websocket || cm.pageSize != DefaultPageSize ||
		cm.notifyRetry != NotificationRetry || cm.timeoutAfter != ServerTimeoutAfter {
		t.Errorf("cometd defaults %+v", cm)
	}
	ct, _ := Config{CometD: CometDConfig{Enabled: true, CometURL: "ws://h/genesys/cometd", NotificationRetry: 500, ServerTimeoutAfter: 4}}.settings(zerolog.Nop())
	if ct.notifyRetry != 500*time.Millisecond || ct.timeoutAfter != 4 {
		t.Errorf("cometD timings %v × %d", ct.notifyRetry, ct.timeoutAfter)
	}
	zero := 0
	z, _ := Config{DataURL: "http://h/x", PollExceptionLimit: &zero}.settings(zerolog.Nop())
	if z.pollLimit != 0 {
		t.Errorf("pollExceptionLimit 0 → %d", z.pollLimit)
	}
}

// TestRegistry: WebChatService builds the transport from the whole
// Widgets webchat section by type name.
func TestRegistry(t *testing.T) {
	s := startSim(t, simgms.Options{})
	cfg := `{"dataURL":"` + s.ChatURL(svc) + `","userData":{"a":"b"},"emojis":true,"cometD":{"enabled":false}}`
	tr, err := transports.New(transports.TypeGMS, json.RawMessage(cfg), transports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.Type() != "gms" || !tr.Capabilities().Polling || !tr.Capabilities().TypingStop {
		t.Fatalf("type %q caps %+v", tr.Type(), tr.Capabilities())
	}
	if _, err := transports.New(transports.TypeGMS, json.RawMessage(`{"cometD":{"enabled":true}}`), transports.Options{}); !errors.Is(err, transports.ErrInvalidConfig) {
		t.Fatalf("bad config: %v", err)
	}
	// Close before start closes the stream at once.
	tr.Close()
	if _, ok := <-tr.Events(); ok {
		t.Fatal("event before start")
	}
}

// TestSecretsNeverLogged: a whole session at trace level, with Basic auth,
// an API key and a custom Authorization header: none of the secrets (nor the
// secureKeys the simulator issued) appears in the logs or in error texts.
func TestSecretsNeverLogged(t *testing.T) {
	modes(t, func(t *testing.T, mk func(*simgms.Server) Config) {
		ctx := testCtx(t)
		s := startSim(t, simgms.Options{BasicAuth: &simgms.Credentials{Username: "user1", Password: "s3cr3t-pass"}, APIKey: "api-key-123"})
		var logs syncBuffer
		cfg := mk(s)
		cfg.BasicAuth = &BasicAuth{Username: "user1", Password: "s3cr3t-pass"}
		cfg.APIKey = "api-key-123"
		cfg.Headers = map[string]string{"X-Trace": "t"}
		c := newClient(t, cfg, func(o *transports.Options) { o.Logger = zerolog.New(&logs).Level(zerolog.TraceLevel) })
		chat := c.startChat(t, ctx, s)
		keys := []string{chat.Keys().SecureKey}
		chat.MoveChatServer(simgms.MoveOptions{})
		keys = append(keys, chat.Keys().SecureKey)
		ann, _ := chat.JoinAgent("Ann")
		ann.Send("hi")
		c.rec.WaitFor(t, "hi", msgWith(transports.TypeMessage, transports.ParticipantAgent, "hi"))
		if c.Mode() == ModeCometD {
			chat.ForgetCometD() // re-handshake and requestNotifications
			ann.Send("after forget")
			c.rec.WaitFor(t, "after forget", msgWith(transports.TypeMessage, transports.ParticipantAgent, "after forget"))
		}
		_, sendErr := c.Send(ctx, transports.Outgoing{Text: ""})
		_, upErr := c.UploadFile(ctx, transports.FileUpload{Name: "x.exe", Body: strings.NewReader("x")})
		c.End(ctx)
		evs := c.rec.WaitClosed(t)
		texts := logs.String()
		for _, e := range evs {
			if e.Err != nil {
				texts += e.Err.Error()
			}
			if e.SessionData != nil {
				texts += e.SessionData.String()
			}
		}
		texts += c.SessionData().String() + sendErr.Error() + upErr.Error()
		for _, secret := range append(keys, "s3cr3t-pass", "api-key-123", "dXNlcjE6czNjcjN0LXBhc3M=") {
			if strings.Contains(texts, secret) {
				t.Fatalf("secret %q leaked", secret)
			}
		}
		if logs.Len() == 0 {
			t.Fatal("nothing logged at trace level: the test proves nothing")
		}
	})
}
