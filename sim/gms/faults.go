package gms

import (
	"sync"
	"time"

	"github.com/cxbus/webchat/transports/gms/wire"
)

// faults is the simulator-wide fault state.
type faults struct {
	mu           sync.Mutex
	offlineN     int       // next n answers are statusCode 1
	offlineUntil time.Time // statusCode 1 until then
	failN        int       // next n HTTP requests fail with failStatus
	failStatus   int
	delay        time.Duration
	dropN        int  // next n unsolicited notifications are dropped
	dupEvents    bool // REST transcripts repeat the event before the position
	opFail       map[wire.Operation]opFailure
}

// opFailure is a pending FailOperation fault.
type opFailure struct{ n, status int }

// offline reports (and consumes) a statusCode 1 answer.
func (f *faults) offline(now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offlineN > 0 {
		f.offlineN--
		return true
	}
	return now.Before(f.offlineUntil)
}

func (f *faults) takeFail() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failN > 0 {
		f.failN--
		return f.failStatus
	}
	return 0
}

// takeOpFail reports (and consumes) an injected HTTP failure for op.
func (f *faults) takeOpFail(op wire.Operation) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	of, ok := f.opFail[op]
	if !ok {
		return 0
	}
	if of.n--; of.n <= 0 {
		delete(f.opFail, op)
	} else {
		f.opFail[op] = of
	}
	return of.status
}

func (f *faults) takeDrop() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropN > 0 {
		f.dropN--
		return true
	}
	return false
}

func (f *faults) getDelay() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.delay
}

func (f *faults) duplicates() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dupEvents
}

// ChatServerOffline makes the next n answers (REST and CometD, every chat)
// statusCode 1, as when GMS lost its Chat Server. Operations answered so
// have no effect.
func (s *Server) ChatServerOffline(n int) {
	s.faults.mu.Lock()
	s.faults.offlineN = n
	s.faults.mu.Unlock()
}

// ChatServerOfflineFor makes every answer statusCode 1 for d of the
// simulator's clock (0 ends the window now).
func (s *Server) ChatServerOfflineFor(d time.Duration) {
	s.faults.mu.Lock()
	if d <= 0 {
		s.faults.offlineUntil = time.Time{}
		s.faults.offlineN = 0
	} else {
		s.faults.offlineUntil = s.clock.Now().Add(d)
	}
	s.faults.mu.Unlock()
}

// FailRequests makes the next n REST and chat-ntf requests fail with the HTTP
// status (e.g. 500, 502, 503) before being processed. It does not touch
// CometD (see Bayeux().FailRequests).
func (s *Server) FailRequests(n, status int) {
	s.faults.mu.Lock()
	s.faults.failN, s.faults.failStatus = n, status
	s.faults.mu.Unlock()
}

// FailOperation makes the next n HTTP requests (REST and chat-ntf) for one
// operation fail with the HTTP status after the request was read, before it
// takes effect; other operations are unaffected. n ≤ 0 clears the fault. It
// does not touch CometD operations.
func (s *Server) FailOperation(op wire.Operation, n, status int) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if n <= 0 {
		delete(s.faults.opFail, op)
		return
	}
	if s.faults.opFail == nil {
		s.faults.opFail = map[wire.Operation]opFailure{}
	}
	s.faults.opFail[op] = opFailure{n: n, status: status}
}

// SetDelay delays every REST and chat-ntf answer, and every CometD
// operation, by d on the simulator's clock (0: off). A client with a shorter
// timeout sees a timeout; the operation still takes effect.
func (s *Server) SetDelay(d time.Duration) {
	s.faults.mu.Lock()
	s.faults.delay = d
	s.faults.mu.Unlock()
}

// DropNotifications drops the next n unsolicited CometD notifications (the
// events stay in the transcript: requestNotifications recovers them).
func (s *Server) DropNotifications(n int) {
	s.faults.mu.Lock()
	s.faults.dropN = n
	s.faults.mu.Unlock()
}

// SetDuplicateDelivery turns duplicate delivery on or off: every CometD
// delivery is sent twice, and every REST transcript answer repeats the event
// just before the requested position.
func (s *Server) SetDuplicateDelivery(on bool) {
	s.faults.mu.Lock()
	s.faults.dupEvents = on
	s.faults.mu.Unlock()
	s.bx.SetDuplicateDeliveries(on)
}

// DropCometDConnections closes every CometD WebSocket abruptly (sessions
// survive; clients reconnect).
func (s *Server) DropCometDConnections() { s.bx.DropConnections() }

// ForgetCometDSessions forgets every Bayeux session (402::Unknown client on
// the next request; clients handshake again and requestNotifications).
func (s *Server) ForgetCometDSessions() {
	for _, ss := range s.bx.Sessions() {
		ss.Forget()
	}
}

// Restart simulates a GMS node restart with the chat state kept: every
// Bayeux session is forgotten, every WebSocket dropped and (for a server
// from NewServer) every client connection closed.
func (s *Server) Restart() {
	s.ForgetCometDSessions()
	s.bx.DropConnections()
	if s.httpSrv != nil {
		s.httpSrv.CloseClientConnections()
	}
}
