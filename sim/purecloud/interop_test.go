package purecloud

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestInteropGenesysJSSDK runs interop/purecloud/interop.js, which drives a
// full chat with Genesys's own purecloud-guest-chat-client SDK and the ws
// package against this simulator. It skips without node or npm packages
// unless WEBCHAT_REQUIRE_INTEROP=1 (set by make test).
func TestInteropGenesysJSSDK(t *testing.T) {
	require := os.Getenv("WEBCHAT_REQUIRE_INTEROP") == "1"
	skip := func(format string, args ...any) {
		t.Helper()
		if require {
			t.Fatalf("WEBCHAT_REQUIRE_INTEROP=1 but "+format, args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node is not on PATH")
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "interop", "purecloud")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "purecloud-guest-chat-client")); err != nil {
		skip("%s/node_modules is missing (run npm ci there)", dir)
	}
	o := Options{
		SigningKey:        sharedKey(),
		RoutingDelay:      -1,
		AlertDelay:        -1,
		AnswerDelay:       -1,
		CloseGrace:        -1,
		HeartbeatInterval: 50 * time.Millisecond,
		Script: &Script{Workflow: true, ACD: true, Agent: &AgentProfile{Name: "Interop Agent"},
			AgentGreeting: "Hello from the simulator", Echo: true},
	}
	s := newTestServer(t, o)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "interop.js")
	cmd.Dir = dir
	// A private HOME keeps the SDK from reading a user's ~/.genesyscloudjavascript-guest/config.
	cmd.Env = append(os.Environ(), "SIM_URL="+s.URL, "HOME="+t.TempDir(), "EXPECT_HEARTBEAT=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("interop.js: %v\n%s", err, out.String())
	}
	t.Log(out.String())
	if len(s.Conversations()) != 1 {
		t.Fatalf("conversations: %d", len(s.Conversations()))
	}
}
