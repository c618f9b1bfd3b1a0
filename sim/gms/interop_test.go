package gms

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports/gms/wire"
)

// interopModules returns the directory whose node_modules hold the pinned
// official CometD client (cometd 9.0.0 + cometd-nodejs-client 2.0.0, from
// interop/bayeux/package-lock.json, installed by `make test`). It skips when
// node or the modules are missing, unless WEBCHAT_REQUIRE_INTEROP=1.
func interopModules(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "interop", "bayeux"))
	if err != nil {
		t.Fatal(err)
	}
	missing := func(why string) {
		if os.Getenv("WEBCHAT_REQUIRE_INTEROP") == "1" {
			t.Fatalf("interop test needs %s (WEBCHAT_REQUIRE_INTEROP=1): run `npm ci` in %s", why, dir)
		}
		t.Skipf("skipping interop test: %s", why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node on PATH")
	}
	for _, m := range []string{"cometd", "cometd-nodejs-client"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m)); err != nil {
			missing("interop/bayeux/node_modules/" + m)
		}
	}
	return dir
}

// TestInteropCometDJSClient runs the Genesys CometD sample's flow with the
// official CometD JavaScript client against the simulator, over WebSocket
// and over long-polling: requestChat, agent greeting and echo, typing, a
// forgotten Bayeux session (re-handshake + requestNotifications recovers the
// message sent meanwhile), disconnect.
func TestInteropCometDJSClient(t *testing.T) {
	mods := interopModules(t)
	script, _ := filepath.Abs(filepath.Join("testdata", "gms-sample-client.mjs"))
	for _, mode := range []string{"ws", "lp"} {
		t.Run(mode, func(t *testing.T) {
			s := NewServer(Options{Script: &Script{Agent: "Ann", JoinDelay: -1, Greeting: "Hello!", Echo: true, EchoPrefix: "You said: ", ReplyDelay: -1}})
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "node", script, mods, s.URL, mode)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.Output()
			var last map[string]any
			var chatID, transport string
			sc := bufio.NewScanner(bytes.NewReader(stdout))
			for sc.Scan() {
				var m map[string]any
				if json.Unmarshal(sc.Bytes(), &m) == nil {
					last = m
					if m["event"] == "chat" {
						chatID, _ = m["chatId"].(string)
						transport, _ = m["transport"].(string)
					}
				}
			}
			if err != nil || last == nil || last["event"] != "result" {
				t.Fatalf("node: %v\nstdout: %s\nstderr: %s", err, stdout, stderr.String())
			}
			wantTransport := map[string]string{"ws": "websocket", "lp": "long-polling"}[mode]
			if transport != wantTransport {
				t.Fatalf("transport %q, want %q", transport, wantTransport)
			}
			if last["reestablished"].(float64) < 1 {
				t.Fatalf("no re-handshake: %v", last)
			}
			texts := last["texts"].([]any)
			want := []string{"Hello!", "I have a question", "You said: I have a question", "while you were away"}
			if len(texts) != len(want) {
				t.Fatalf("texts %v", texts)
			}
			for i := range want {
				if texts[i] != want[i] {
					t.Fatalf("texts %v, want %v", texts, want)
				}
			}
			c := s.Chat(chatID)
			if c == nil {
				t.Fatal("chat unknown")
			}
			if ended, why := c.Ended(); !ended || why != EndClient {
				t.Fatalf("ended=%v why=%s", ended, why)
			}
			if c.UserData()["interests"] != "javascript" || c.Mode() != ModeCometD {
				t.Fatal("requestChat userData")
			}
			if _, ok := find(c, wire.EventTypingStopped); !ok {
				t.Fatal("typing not recorded")
			}
		})
	}
}
