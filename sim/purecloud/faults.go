package purecloud

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// HTTPFault is an injected REST failure or delay. It matches calls of Op
// (an operation id such as OpPostMessage; empty matches every operation),
// skips the first After matching calls, then affects Times calls (0 means
// 1, negative means every later call). With Probability > 0 each matching
// call is affected with that chance instead (seeded by Options.FaultSeed).
type HTTPFault struct {
	Op          string        `json:"op,omitempty"`
	After       int           `json:"after,omitempty"`
	Times       int           `json:"times,omitempty"`
	Probability float64       `json:"probability,omitempty"`
	Delay       time.Duration `json:"-"` // added latency (on the simulator's clock)
	// Status is the error status to answer (429, 500, 503, 504, …); 0 with
	// no Drop only adds Delay. A 429 carries Retry-After: RetryAfter
	// seconds (default 1) and the swagger message.
	Status     int `json:"status,omitempty"`
	RetryAfter int `json:"retryAfter,omitempty"`
	// Drop closes the connection without any response.
	Drop bool `json:"drop,omitempty"`
	// CommitThenFail applies the operation first, then answers Status or
	// drops: the client cannot know the call succeeded.
	CommitThenFail bool `json:"commitThenFail,omitempty"`
}

func (f *HTTPFault) fails() bool { return f.Status != 0 || f.Drop }

type faultRule struct {
	HTTPFault
	seen, fired int
}

type faultSet struct {
	mu    sync.Mutex
	rules []*faultRule
	del   DeliveryFaults
}

// take returns the fault for this call of op, or nil.
func (fs *faultSet) take(s *Simulator, op string) *HTTPFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, r := range fs.rules {
		if r.Op != "" && r.Op != op {
			continue
		}
		r.seen++
		if r.seen <= r.After {
			continue
		}
		if r.Probability > 0 {
			if s.chance(r.Probability) {
				f := r.HTTPFault
				return &f
			}
			continue
		}
		times := r.Times
		if times == 0 {
			times = 1
		}
		if times > 0 && r.fired >= times {
			continue
		}
		r.fired++
		f := r.HTTPFault
		return &f
	}
	return nil
}

// InjectHTTP adds a REST fault; faults are checked in the order added.
func (s *Simulator) InjectHTTP(f HTTPFault) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.rules = append(s.faults.rules, &faultRule{HTTPFault: f})
}

// ClearFaults removes every REST fault and delivery fault, and lifts a
// global reconnect refusal.
func (s *Simulator) ClearFaults() {
	s.faults.mu.Lock()
	s.faults.rules = nil
	s.faults.del = DeliveryFaults{}
	s.faults.mu.Unlock()
	s.mu.Lock()
	s.refuseTo = time.Time{}
	s.mu.Unlock()
}

// applyDelay waits f.Delay on the simulator's clock; false if the request
// or the simulator ended first.
func (s *Simulator) applyDelay(r *http.Request, f *HTTPFault) bool {
	if f.Delay <= 0 {
		return true
	}
	ch := make(chan struct{})
	t := s.afterFunc(f.Delay, func() { close(ch) })
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

func (s *Simulator) writeFault(w http.ResponseWriter, r *http.Request, corr string, f *HTTPFault) {
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // aborts the response without a body
	}
	msg := ""
	if f.Status == http.StatusTooManyRequests {
		ra := f.RetryAfter
		if ra <= 0 {
			ra = 1
		}
		w.Header().Set(wire.HeaderRetryAfter, strconv.Itoa(ra))
		msg = wire.RateLimitMessage(ra)
	}
	s.writeError(w, r, corr, f.Status, statusCode(f.Status), msg)
}

// DeliveryFaults make the event stream misbehave with seeded probabilities
// (Options.FaultSeed): each chat envelope may be sent twice at once, sent
// again after the next frame, or swapped with the next frame.
// DropSocket is the chance that the socket is closed abruptly (no close
// frame) right after an envelope was written.
type DeliveryFaults struct {
	Duplicate      float64 `json:"duplicate,omitempty"`
	DuplicateLater float64 `json:"duplicateLater,omitempty"`
	Reorder        float64 `json:"reorder,omitempty"`
	DropSocket     float64 `json:"dropSocket,omitempty"`
}

// SetDeliveryFaults sets server-wide probabilistic delivery faults.
func (s *Simulator) SetDeliveryFaults(d DeliveryFaults) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	s.faults.del = d
}

// deliveryPlan holds a conversation's counted delivery faults.
type deliveryPlan struct {
	dup, dupLater, reorder int
}

// next returns the flags of the next chat envelope; c.mu held.
func (p *deliveryPlan) next(s *Simulator) frameFlags {
	var fl frameFlags
	if p.dup > 0 {
		p.dup--
		fl |= flagDup
	}
	if p.dupLater > 0 {
		p.dupLater--
		fl |= flagDupLater
	}
	if p.reorder > 0 {
		p.reorder--
		fl |= flagReorder
	}
	s.faults.mu.Lock()
	d := s.faults.del
	s.faults.mu.Unlock()
	if s.chance(d.Duplicate) {
		fl |= flagDup
	}
	if s.chance(d.DuplicateLater) {
		fl |= flagDupLater
	}
	if s.chance(d.Reorder) {
		fl |= flagReorder
	}
	if s.chance(d.DropSocket) {
		fl |= flagAbortAfter
	}
	return fl
}

// DuplicateNext sends each of the next n chat envelopes twice: at once, or
// (later) again after the frame that follows it.
func (c *Conversation) DuplicateNext(n int, later bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if later {
		c.delivery.dupLater += n
	} else {
		c.delivery.dup += n
	}
}

// ReorderNext swaps each of the next n chat envelopes with the frame that
// follows it (a heartbeat, if nothing else comes).
func (c *Conversation) ReorderNext(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delivery.reorder += n
}

func (c *Conversation) socketsL() []*socket {
	out := make([]*socket, 0, len(c.sockets))
	for k := range c.sockets {
		out = append(out, k)
	}
	return out
}

// DropSockets closes every attached socket cleanly with code and reason
// (after the frames already queued). The chat goes on; the client may
// reconnect.
func (c *Conversation) DropSockets(code int, reason string) int {
	c.mu.Lock()
	socks := c.socketsL()
	c.mu.Unlock()
	for _, k := range socks {
		k.closeWith(code, reason)
	}
	return len(socks)
}

// AbortSockets closes every attached socket's TCP connection with no close
// frame (the client sees 1006).
func (c *Conversation) AbortSockets() int {
	c.mu.Lock()
	socks := c.socketsL()
	c.mu.Unlock()
	for _, k := range socks {
		k.abort()
	}
	return len(socks)
}

// StallSockets keeps every attached socket open but sends nothing more on
// it, heartbeats included, until the client gives up on it.
func (c *Conversation) StallSockets() int {
	c.mu.Lock()
	socks := c.socketsL()
	c.mu.Unlock()
	for _, k := range socks {
		k.stall()
	}
	return len(socks)
}

// SendSocketClosing sends v2.system.socket_closing on every attached socket.
func (c *Conversation) SendSocketClosing() int {
	c.mu.Lock()
	socks := c.socketsL()
	c.mu.Unlock()
	for _, k := range socks {
		k.enqueue(outFrame{data: wire.SocketClosingFrame})
	}
	return len(socks)
}

// RefuseReconnects makes new socket attaches fail with HTTP 503 (no
// upgrade) for d on the simulator's clock.
func (c *Conversation) RefuseReconnects(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuseUntil = c.s.clock.Now().Add(d)
}

// ExpireToken expires every token issued so far for this conversation:
// REST answers 401 and an attach is closed with 4100.
func (c *Conversation) ExpireToken() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revoked = true
	c.revokedAt = c.s.clock.Now().Unix()
}

// RefuseReconnects makes every socket attach fail with 503 for d.
func (s *Simulator) RefuseReconnects(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseTo = s.clock.Now().Add(d)
}

func (s *Simulator) refusing(c *Conversation) bool {
	now := s.clock.Now()
	s.mu.Lock()
	g := now.Before(s.refuseTo)
	s.mu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	return g || now.Before(c.refuseUntil)
}

// DropAllSockets drops every socket of every conversation while REST state
// is kept (a restart of the stream service). abrupt skips the close frame;
// otherwise code 1001 is sent.
func (s *Simulator) DropAllSockets(abrupt bool) int {
	n := 0
	for _, c := range s.Conversations() {
		if abrupt {
			n += c.AbortSockets()
		} else {
			n += c.DropSockets(1001, "service restarting")
		}
	}
	return n
}
