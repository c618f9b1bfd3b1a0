package bus

import (
	"context"
	"sync"
	"testing"
)

// Each benchmark here has its baseline beside it, so ratios come from one run:
//
//	BenchmarkCommandRoundTrip        vs BenchmarkBaselineChannelRequestReply
//	BenchmarkPublishDeliver/subs=N   vs BenchmarkBaselineChannelStream/subs=N
//	BenchmarkPublishNoSubscriber     (target: ≤ 100 ns, 0 allocs)

type benchOpts struct{ N int }

// BenchmarkBaselineChannelRequestReply is a request/reply between two goroutines over Go
// channels with a reply channel per call: the floor for an asynchronous command round trip.
func BenchmarkBaselineChannelRequestReply(b *testing.B) {
	type req struct {
		opts  *benchOpts
		reply chan any
	}
	reqs := make(chan req, 1)
	go func() {
		for r := range reqs {
			r.reply <- r.opts
		}
	}()
	defer close(reqs)
	o := &benchOpts{N: 1}
	b.ReportAllocs()
	for b.Loop() {
		r := req{opts: o, reply: make(chan any, 1)}
		reqs <- r
		<-r.reply
	}
}

func BenchmarkCommandRoundTrip(b *testing.B) {
	bus := New(Options{})
	defer bus.Close(context.Background())
	p, _ := bus.RegisterPlugin("Svc")
	p.RegisterCommand("echo", func(ctx context.Context, c *Call) (any, error) { return c.Options, nil })
	p.Ready()
	caller, _ := bus.RegisterPlugin("Caller")
	ctx := context.Background()
	o := &benchOpts{N: 1}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := caller.Command(ctx, "Svc.echo", o); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineChannelStream sends each event on a buffered channel per consumer goroutine;
// ns/op is per event delivered to every consumer.
func BenchmarkBaselineChannelStream(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(subsName(n), func(b *testing.B) {
			chans := make([]chan *Event, n)
			var wg sync.WaitGroup
			for i := range chans {
				chans[i] = make(chan *Event, 1024)
				wg.Add(1)
				go func(ch chan *Event) {
					defer wg.Done()
					for e := range ch {
						_ = e
					}
				}(chans[i])
			}
			ev := &Event{Name: "P.x"}
			b.ReportAllocs()
			for b.Loop() {
				for _, ch := range chans {
					ch <- ev
				}
			}
			for _, ch := range chans {
				close(ch)
			}
			wg.Wait()
		})
	}
}

func BenchmarkPublishDeliver(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run(subsName(n), func(b *testing.B) {
			bus := New(Options{})
			defer bus.Close(context.Background())
			pub, _ := bus.RegisterPlugin("P")
			for i := range n {
				s, _ := bus.RegisterPlugin("S" + string(rune('a'+i)))
				s.Subscribe("P.x", func(e Event) {})
			}
			data := &benchOpts{}
			b.ReportAllocs()
			for b.Loop() {
				pub.Publish("x", data)
			}
			bus.Drain(context.Background()) // count delivery, not just enqueueing
		})
	}
}

func BenchmarkPublishNoSubscriber(b *testing.B) {
	bus := New(Options{})
	defer bus.Close(context.Background())
	pub, _ := bus.RegisterPlugin("WebChatService")
	data := &benchOpts{}
	b.ReportAllocs()
	for b.Loop() {
		pub.Publish("messageReceived", data)
	}
}

func subsName(n int) string {
	if n == 1 {
		return "subs=1"
	}
	return "subs=10"
}
