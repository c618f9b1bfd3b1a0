//go:build unix

package bayeux

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// interopDir returns interop/bayeux, skipping the test when node or the npm packages
// are missing, unless WEBCHAT_REQUIRE_INTEROP=1 (set by make test), which fails it.
func interopDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "interop", "bayeux"))
	if err != nil {
		t.Fatal(err)
	}
	require := os.Getenv("WEBCHAT_REQUIRE_INTEROP") == "1"
	missing := func(why string) {
		if require {
			t.Fatalf("interop test needs %s (WEBCHAT_REQUIRE_INTEROP=1): run `npm ci` in %s", why, dir)
		}
		t.Skipf("skipping interop test: %s", why)
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing("node on PATH")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		missing("interop/bayeux/node_modules")
	}
	return dir
}

// nodeProc is a node script started by a test; its stdout JSON lines arrive on lines.
type nodeProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan map[string]any
	mu    sync.Mutex
	log   []string
	done  chan struct{}
}

func startNode(t *testing.T, script string, args ...string) *nodeProc {
	t.Helper()
	dir := interopDir(t)
	cmd := exec.Command("node", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = &testWriter{t: t, prefix: script + " stderr: "}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting node %s: %v", script, err)
	}
	p := &nodeProc{t: t, cmd: cmd, stdin: stdin, lines: make(chan map[string]any, 1024), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		defer close(p.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log = append(p.log, line)
			p.mu.Unlock()
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil {
				p.lines <- m
			}
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		_ = cmd.Wait()
	})
	return p
}

type testWriter struct {
	t      *testing.T
	prefix string
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Log(w.prefix + strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func (p *nodeProc) send(cmd map[string]any) {
	p.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		p.t.Fatalf("writing to node: %v", err)
	}
}

// next returns the next line matching pred, failing after a generous timeout.
func (p *nodeProc) next(pred func(map[string]any) bool, what string) map[string]any {
	p.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case m, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("node exited while waiting for %s; output:\n%s", what, p.output())
			}
			if m["event"] == "error" {
				p.t.Fatalf("node reported an error while waiting for %s: %v; output:\n%s", what, m["error"], p.output())
			}
			if pred(m) {
				return m
			}
		case <-timeout:
			p.t.Fatalf("timed out waiting for %s; output:\n%s", what, p.output())
		}
	}
}

func (p *nodeProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "\n")
}

func (p *nodeProc) port() int {
	m := p.next(func(m map[string]any) bool { _, ok := m["port"]; return ok }, "the port line")
	return int(m["port"].(float64))
}

func isEvent(ev, channel string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["event"] == ev && (channel == "" || m["channel"] == channel) }
}

func baseURL(port int, path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", port, path) }
