package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// syncBuffer is a bytes.Buffer safe for the daemon's goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestServeSimOverNATS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan string, 1)
	var out, errOut syncBuffer
	done := make(chan error, 1)
	dir := t.TempDir()
	go func() {
		done <- serve(ctx, serveOptions{sim: true, shutdown: 10 * time.Second, ready: ready,
			daemon: daemonConfig{Listen: "127.0.0.1:0", DataDir: dir}}, &out, &errOut)
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatalf("serve ended: %v\n%s%s", err, out.String(), errOut.String())
	case <-time.After(30 * time.Second):
		t.Fatal("serve not ready")
	}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	req := func(subject string, payload any) map[string]any {
		t.Helper()
		data, _ := json.Marshal(payload)
		m, err := nc.Request(subject, data, 20*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", subject, err)
		}
		var r map[string]any
		json.Unmarshal(m.Data, &r)
		if r["error"] != nil {
			t.Fatalf("%s: %s", subject, m.Data)
		}
		return r
	}
	id := req("webchat.sessions.open", map[string]any{})["result"].(map[string]any)["id"].(string)
	texts := make(chan string, 100)
	sub, _ := nc.Subscribe("webchat."+id+".evt.WebChatService.messageReceived", func(m *nats.Msg) {
		var e struct {
			Data struct{ Messages []struct{ Text, Type string } }
		}
		json.Unmarshal(m.Data, &e)
		for _, msg := range e.Data.Messages {
			if msg.Type == "Message" {
				texts <- msg.Text
			}
		}
	})
	defer sub.Unsubscribe()
	nc.Flush()
	req("webchat."+id+".cmd.WebChatService.startChat", map[string]any{"nickname": "Grace"})
	waitText(t, texts, "Hello, this is Sam. How can I help?")
	req("webchat."+id+".cmd.WebChatService.sendMessage", map[string]any{"message": "ping"})
	waitText(t, texts, "You said: ping")
	req("webchat.sessions.close", map[string]any{"id": id})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if !strings.Contains(out.String(), "ready on") || !strings.Contains(out.String(), "cluster member") {
		t.Fatalf("output:\n%s", out.String())
	}
	// Every event of the chat was acknowledged by the event stream.
	if m := regexp.MustCompile(`event stream: (\d+) events stored, \d+ retried, (\d+) lost`).FindStringSubmatch(out.String()); m == nil || m[1] == "0" || m[2] != "0" {
		t.Fatalf("event stream summary missing or wrong:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "nats", "jetstream")); err != nil {
		t.Fatalf("JetStream data not on disk: %v", err)
	}
}

func waitText(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case s := <-ch:
			if s == want {
				return
			}
		case <-deadline:
			t.Fatalf("no message %q", want)
		}
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"webchat": {}, "daemon": {"nope": 1}}`), 0o600)
	badTTL := filepath.Join(dir, "ttl.json")
	os.WriteFile(badTTL, []byte(`{"daemon": {"leaseTTL": "soon"}}`), 0o600)
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte(`{`), 0o600)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no config", []string{"--data-dir", dir}, "no webchat configuration"},
		{"unknown daemon key", []string{"--config", bad}, `unknown field "nope"`},
		{"bad lease ttl", []string{"--config", badTTL}, `daemon.leaseTTL "soon"`},
		{"not JSON", []string{"--config", notJSON}, "unexpected end of JSON input"},
		{"missing file", []string{"--config", filepath.Join(dir, "missing.json")}, "no such file"},
		{"bad listen", []string{"--sim", "--listen", "nowhere", "--data-dir", dir}, `--listen "nowhere"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := serveCommand(context.Background(), c.args, &bytes.Buffer{}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, errConfig) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	if got := redactURL("nats://user:secret@host:4222"); got != "nats://[redacted]@host:4222" {
		t.Fatal(got)
	}
}
