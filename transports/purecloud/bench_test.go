package purecloud_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func benchSim(b *testing.B) (*simpc.Server, purecloud.Config) {
	o := fastSim()
	o.HeartbeatInterval = -1
	o.Script = &simpc.Script{Agent: &simpc.AgentProfile{Name: "Alex"}}
	srv, err := simpc.Start("127.0.0.1:0", o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	cfg := baseConfig(srv.URL)
	cfg.Transport.SocketHeartbeatTrackerInterval = int(time.Hour / time.Millisecond)
	return srv, cfg
}

// startBenchChat starts a chat and drains events until the agent joined.
func startBenchChat(b *testing.B, srv *simpc.Server, cfg purecloud.Config) (*purecloud.Transport, *simpc.Conversation) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hc := &http.Client{Transport: &http.Transport{}}
	b.Cleanup(hc.CloseIdleConnections)
	tr, err := purecloud.New(cfg, transports.Options{HTTPClient: hc})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	if _, err := tr.Start(ctx, transports.StartRequest{Nickname: "Joan"}); err != nil {
		b.Fatal(err)
	}
	conv, err := srv.NextConversation(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for ev := range tr.Events() {
		if agentJoined([]transports.Event{ev}) {
			break
		}
	}
	return tr, conv
}

// BenchmarkAgentMessageToEvent: the agent says a line in the simulator →
// the normalized message arrives on Events(), over loopback. Baseline:
// BenchmarkAgentMessageRawGorilla (same simulator call, same frame, read
// with a bare gorilla connection).
func BenchmarkAgentMessageToEvent(b *testing.B) {
	srv, cfg := benchSim(b)
	tr, conv := startBenchChat(b, srv, cfg)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := conv.Say("Hello, how can I help you today?", simpc.SayOptions{})
		if err != nil {
			b.Fatal(err)
		}
	wait:
		for ev := range tr.Events() {
			for _, x := range ev.Messages {
				if x.ID == m.ID {
					break wait
				}
			}
		}
	}
}

func BenchmarkAgentMessageRawGorilla(b *testing.B) {
	srv, cfg := benchSim(b)
	tr, conv := startBenchChat(b, srv, cfg)
	url := tr.SessionData().Get(purecloud.KeyWebSocketURL)
	_ = tr.Close() // detach; the raw socket takes its place
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ws.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m, err := conv.Say("Hello, how can I help you today?", simpc.SayOptions{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			if bytes.Contains(data, []byte(m.ID)) {
				break
			}
		}
	}
}

// TestSimProcess is not a test: it runs the simulator in a child process
// for the memory benchmarks, so only client memory is measured.
func TestSimProcess(t *testing.T) {
	if os.Getenv("PURECLOUD_BENCH_SIM") != "1" {
		t.Skip("helper process for BenchmarkIdleSessionMemory")
	}
	o := fastSim()
	o.HeartbeatInterval = 0 // the real default (10 s)
	o.Script = &simpc.Script{Agent: &simpc.AgentProfile{Name: "Alex"}}
	srv, err := simpc.Start("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("URL=" + srv.URL)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	srv.Close()
}

func simProcess(b *testing.B) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSimProcess$")
	cmd.Env = append(os.Environ(), "PURECLOUD_BENCH_SIM=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URL="); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }()
			return u
		}
	}
	b.Fatal("simulator process did not start")
	return ""
}

const idleSessions = 1000

// measureIdle opens n sessions with open (8 at a time), then reports the
// client heap + stack growth per session and goroutines per session.
func measureIdle(b *testing.B, n int, open func() (func(), error)) {
	b.ReportAllocs()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	g0 := runtime.NumGoroutine()
	closers := make([]func(), n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var errOnce sync.Once
	var firstErr error
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := open()
			if err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			closers[i] = c
		}(i)
	}
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m1)
	g1 := runtime.NumGoroutine()
	perSession := (float64(m1.HeapAlloc) - float64(m0.HeapAlloc) + float64(m1.StackInuse) - float64(m0.StackInuse)) / float64(n)
	b.ReportMetric(perSession, "B/session")
	b.ReportMetric(float64(g1-g0)/float64(n), "goroutines/session")
	b.ReportMetric(float64(n), "sessions")
	for _, c := range closers {
		c()
	}
}

// BenchmarkIdleSessionMemory: client memory per idle, connected session with
// 1,000 sessions open (simulator in another process). Run with -benchtime=1x.
// Baseline: BenchmarkIdleRawGorillaMemory.
func BenchmarkIdleSessionMemory(b *testing.B) {
	url := simProcess(b)
	cfg := baseConfig(url)
	cfg.Transport.SocketHeartbeatTrackerInterval = 0 // the real default (14 s) against 10 s heartbeats
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	b.Cleanup(hc.CloseIdleConnections)
	for i := 0; i < b.N; i++ {
		measureIdle(b, idleSessions, func() (func(), error) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			tr, err := purecloud.New(cfg, transports.Options{HTTPClient: hc})
			if err != nil {
				return nil, err
			}
			if _, err := tr.Start(ctx, transports.StartRequest{Nickname: "Joan"}); err != nil {
				return nil, err
			}
			for ev := range tr.Events() { // drain until idle: connected, agent joined
				if agentJoined([]transports.Event{ev}) {
					break
				}
			}
			return func() { _ = tr.Close() }, nil
		})
	}
}

// BenchmarkIdleRawGorillaMemory is the baseline: create the conversation with
// one REST call and keep a bare gorilla connection with a reader goroutine.
func BenchmarkIdleRawGorillaMemory(b *testing.B) {
	url := simProcess(b)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	b.Cleanup(hc.CloseIdleConnections)
	body, _ := json.Marshal(&wire.CreateWebChatConversationRequest{OrganizationID: "o", DeploymentID: "d",
		RoutingTarget: &wire.WebChatRoutingTarget{TargetType: wire.TargetTypeQueue, TargetAddress: "q"},
		MemberInfo:    &wire.GuestMemberInfo{DisplayName: "Joan"}})
	for i := 0; i < b.N; i++ {
		measureIdle(b, idleSessions, func() (func(), error) {
			resp, err := hc.Post(url+wire.ConversationsPath, "application/json", bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			var cr wire.CreateWebChatConversationResponse
			err = json.NewDecoder(resp.Body).Decode(&cr)
			resp.Body.Close()
			if err != nil {
				return nil, err
			}
			ws, _, err := websocket.DefaultDialer.Dial(cr.EventStreamURI, nil)
			if err != nil {
				return nil, err
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
			return func() { ws.Close(); <-done }, nil
		})
	}
}
