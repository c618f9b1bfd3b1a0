package bayeux

import "time"

// Clock is the source of time for the client and the server. Tests inject a fake one;
// the zero value of every options struct uses the real clock.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that sends on C() once d has elapsed.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer that the package uses.
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (t realTimer) C() <-chan time.Time { return t.t.C }
func (t realTimer) Stop() bool          { return t.t.Stop() }

// RealClock returns the wall clock.
func RealClock() Clock { return realClock{} }
