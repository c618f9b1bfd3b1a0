package webchatservice_test

// Benchmarks, each with its baseline in the same function (read the ratio from one run):
//
//   - BenchmarkSendMessage: the sendMessage command through bus + service (outbox) + transport
//     against the simulator, vs the transport's Send alone against the same simulator.
//   - BenchmarkMessageReceived: an agent message from the simulator to a messageReceived
//     subscriber with 10 prefilters and 2 preprocessors, vs with none.
//
// Run: go test -run '^$' -bench . -benchtime 2000x ./webchatservice/

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cxbus/webchat/bus"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/webchatservice"
)

func BenchmarkSendMessage(b *testing.B) {
	b.Run("service", func(b *testing.B) {
		sim := startSim(b, fastSimOptions())
		s, _ := active(b, sim, pcOptions(sim, nil))
		s.must(webchatservice.CmdSendMessage, map[string]any{"message": "warm-up"})
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := s.app.Command(ctx, "WebChatService.sendMessage", webchatservice.SendMessageOptions{Message: "benchmark message"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("transport-baseline", func(b *testing.B) {
		sim := startSim(b, fastSimOptions())
		cfg, err := json.Marshal(pureCloudConfig(sim.URL, nil))
		if err != nil {
			b.Fatal(err)
		}
		tr, err := transports.New(transports.TypePureCloud, cfg, transports.Options{})
		if err != nil {
			b.Fatal(err)
		}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			for range tr.Events() {
			}
		}()
		defer func() { tr.Close(); <-drained }()
		ctx := context.Background()
		if _, err := tr.Start(ctx, transports.StartRequest{Nickname: "Ada"}); err != nil {
			b.Fatal(err)
		}
		if _, err := tr.Send(ctx, transports.Outgoing{Text: "warm-up"}); err != nil { // waits for the socket
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := tr.Send(ctx, transports.Outgoing{Text: "benchmark message"}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkMessageReceived(b *testing.B) {
	for _, filtered := range []bool{true, false} {
		name := "none-baseline"
		if filtered {
			name = "10-prefilters-2-preprocessors"
		}
		b.Run(name, func(b *testing.B) {
			sim := startSim(b, fastSimOptions())
			s := newTS(b, pcOptions(sim, nil))
			if filtered {
				filters := []any{`/^internal-\d+:/`, `/token=[a-f0-9]{32}/i`, `/\bpassword\b/i`, `/^#cmd /`, `/\{end:[0-9]{9}\}/`,
					`/ssn:\s*\d{3}-\d{2}-\d{4}/`, `/^debug:/m`, `/x-trace-[a-z]+/`, `/^\[bot-control\]/`, `/secret-(alpha|beta|gamma)/`}
				s.must(webchatservice.CmdAddPrefilter, map[string]any{"filters": filters})
				s.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": upper})
				s.must(webchatservice.CmdRegisterPreProcessor, map[string]any{"preprocessor": suffix(" ✓")})
			}
			var got atomic.Int64
			target := atomic.Int64{}
			done := make(chan struct{}, 1)
			if _, err := s.app.Subscribe("WebChatService.messageReceived", func(e bus.Event) {
				mr := e.Data.(webchatservice.MessageReceived)
				for _, m := range mr.Messages {
					if m.Type == transports.TypeMessage && strings.Contains(strings.ToLower(m.Text), "agent line") {
						if got.Add(1) == target.Load() {
							done <- struct{}{}
						}
					}
				}
			}); err != nil {
				b.Fatal(err)
			}
			s.must(webchatservice.CmdStartChat, map[string]any{"nickname": "Ada"})
			conv, err := sim.NextConversation(ctxT(b))
			if err != nil {
				b.Fatal(err)
			}
			s.wait(webchatservice.EventAgentConnected)
			text := "agent line: " + strings.Repeat("lorem ipsum dolor sit amet ", 7) // ~200 characters
			target.Store(int64(b.N))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := conv.Say(fmt.Sprintf("%s %d", text, i), simpc.SayOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-ctxT(b).Done():
				b.Fatalf("delivered %d of %d", got.Load(), b.N)
			}
		})
	}
}
