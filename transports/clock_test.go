package transports

import (
	"context"
	"testing"
	"time"
)

func TestFakeClockTimers(t *testing.T) {
	c := NewFakeClock(time.Time{})
	start := c.Now()
	var order []string
	c.AfterFunc(3*time.Second, func() { order = append(order, "3s") })
	t2 := c.NewTimer(2 * time.Second)
	c.AfterFunc(time.Second, func() { order = append(order, "1s") })
	stopped := c.AfterFunc(time.Second, func() { order = append(order, "stopped") })
	if !stopped.Stop() || stopped.Stop() {
		t.Fatal("Stop results")
	}
	if c.Pending() != 3 {
		t.Fatalf("pending %d", c.Pending())
	}
	c.Advance(1500 * time.Millisecond)
	if len(order) != 1 || order[0] != "1s" {
		t.Fatalf("order %v", order)
	}
	select {
	case <-t2.C():
		t.Fatal("2s timer fired early")
	default:
	}
	c.Advance(2 * time.Second)
	select {
	case at := <-t2.C():
		if at.Sub(start) != 2*time.Second {
			t.Fatalf("fired at %v", at.Sub(start))
		}
	default:
		t.Fatal("2s timer did not fire")
	}
	if len(order) != 2 || order[1] != "3s" || c.Now().Sub(start) != 3500*time.Millisecond {
		t.Fatalf("order %v now %v", order, c.Now().Sub(start))
	}
	// Reset re-arms a fired timer.
	if t2.Reset(time.Second) {
		t.Fatal("Reset of a fired timer must report false")
	}
	c.Set(c.Now().Add(time.Second))
	select {
	case <-t2.C():
	default:
		t.Fatal("reset timer did not fire")
	}
	// A timer armed from inside a callback fires within the same Advance when due.
	fired := false
	c.AfterFunc(time.Second, func() { c.AfterFunc(time.Second, func() { fired = true }) })
	c.Advance(5 * time.Second)
	if !fired {
		t.Fatal("nested timer did not fire")
	}
	// Zero duration fires at once.
	z := c.NewTimer(0)
	select {
	case <-z.C():
	default:
		t.Fatal("zero timer")
	}
}

func TestFakeClockBlockUntilAndSleep(t *testing.T) {
	c := NewFakeClock(time.Time{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, c, time.Minute) }()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := c.BlockUntil(short, 5); err == nil {
		t.Fatal("BlockUntil ignored ctx")
	}
	if err := Sleep(short, c, time.Second); err == nil {
		t.Fatal("Sleep ignored ctx")
	}
	if err := Sleep(ctx, SystemClock(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	rt := SystemClock().AfterFunc(time.Hour, func() {})
	if !rt.Stop() {
		t.Fatal("real timer stop")
	}
	nt := SystemClock().NewTimer(time.Hour)
	nt.Reset(time.Hour)
	if nt.C() == nil || !nt.Stop() {
		t.Fatal("real NewTimer")
	}
}
