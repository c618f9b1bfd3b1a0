package transports

import (
	"math"
	"math/rand/v2"
	"time"
)

// Backoff computes reconnect and retry delays: exponential growth with full
// jitter (AWS "full jitter"), so many clients never reconnect in lockstep.
//
// Delay(n) is uniform in [Min, min(Max, Initial·Factor^n)]. With the defaults
// the first attempt comes within 1 s, the bound doubles each attempt and is
// capped at 30 s (purecloud-guest-chat.md §13.5). The zero value uses the defaults.
type Backoff struct {
	// Initial is the bound of the first delay (default 1 s).
	Initial time.Duration
	// Max caps the bound (default 30 s).
	Max time.Duration
	// Factor multiplies the bound per attempt (default 2; values ≤ 1 mean 2).
	Factor float64
	// Min is the smallest delay (default 0). Must be ≤ Initial.
	Min time.Duration
	// Rand returns a uniform value in [0,1) (math/rand/v2 when nil).
	Rand func() float64
}

// Default backoff parameters.
const (
	DefaultBackoffInitial = time.Second
	DefaultBackoffMax     = 30 * time.Second
	DefaultBackoffFactor  = 2.0
)

// Bound returns the upper bound of the delay for attempt n (0-based).
func (b Backoff) Bound(n int) time.Duration {
	initial, max, factor := b.Initial, b.Max, b.Factor
	if initial <= 0 {
		initial = DefaultBackoffInitial
	}
	if max <= 0 {
		max = DefaultBackoffMax
	}
	if max < initial {
		max = initial
	}
	if factor <= 1 {
		factor = DefaultBackoffFactor
	}
	if n < 0 {
		n = 0
	}
	f := float64(initial) * math.Pow(factor, float64(n))
	if f >= float64(max) || math.IsInf(f, 0) || math.IsNaN(f) {
		return max
	}
	return time.Duration(f)
}

// Delay returns the jittered delay for attempt n (0-based).
func (b Backoff) Delay(n int) time.Duration {
	bound := b.Bound(n)
	lo := b.Min
	if lo < 0 {
		lo = 0
	}
	if lo > bound {
		lo = bound
	}
	r := b.Rand
	if r == nil {
		r = rand.Float64
	}
	x := r()
	if x < 0 || x >= 1 || math.IsNaN(x) {
		x = 0
	}
	return lo + time.Duration(x*float64(bound-lo))
}
