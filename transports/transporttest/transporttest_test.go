package transporttest

import (
	"testing"
	"time"

	"github.com/cxbus/webchat/transports"
)

func TestCountAndMessages(t *testing.T) {
	evs := []transports.Event{
		{Kind: transports.EventConnected},
		{Kind: transports.EventMessages, Messages: []transports.Message{{ID: "1"}, {ID: "2"}}},
		{Kind: transports.EventDisconnected},
		{Kind: transports.EventMessages, Messages: []transports.Message{{ID: "3"}}},
	}
	if Count(evs, transports.EventMessages) != 2 || Count(evs, transports.EventEnded) != 0 {
		t.Fatal("Count")
	}
	m := Messages(evs)
	if len(m) != 3 || m[0].ID != "1" || m[2].ID != "3" {
		t.Fatalf("Messages %v", m)
	}
}

type chanSource chan transports.Event

func (c chanSource) Events() <-chan transports.Event { return c }

func TestRecorder(t *testing.T) {
	src := make(chanSource)
	r := Record(src)
	go func() {
		src <- transports.Event{Kind: transports.EventConnected}
		src <- transports.Event{Kind: transports.EventMessages, Messages: []transports.Message{{ID: "1", Text: "hi"}}}
		close(src)
	}()
	if e := r.WaitKind(t, transports.EventMessages); len(e.Messages) != 1 || e.Messages[0].Text != "hi" {
		t.Fatalf("WaitKind returned %+v", e)
	}
	evs := r.WaitClosed(t)
	if len(evs) != 2 || !r.Closed() {
		t.Fatalf("events %v, closed %v", Kinds(evs), r.Closed())
	}
	select {
	case <-r.Done():
	default:
		t.Fatal("Done not closed after the stream closed")
	}

	// A wait that can no longer succeed fails at once instead of running into the timeout.
	ft := &fakeT{TB: t}
	r.Timeout = time.Minute
	start := time.Now()
	func() {
		defer func() { _ = recover() }()
		r.WaitKind(ft, transports.EventEnded)
	}()
	if !ft.failed || time.Since(start) > 10*time.Second {
		t.Fatalf("WaitKind on a closed stream: failed=%v after %v", ft.failed, time.Since(start))
	}
}

// fakeT records a failure instead of ending the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}
