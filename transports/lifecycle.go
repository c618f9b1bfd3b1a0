package transports

import "context"

// Phase is where a transport's session stands.
type Phase uint8

// The phases, in the only order a session goes through them (a transport may skip Ended:
// Close without End).
const (
	PhaseNew    Phase = iota // not started yet
	PhaseActive              // started or resumed, not over
	PhaseEnded               // the chat is over; the transport still answers questions about it
	PhaseClosed              // Close ran: every goroutine of the transport stopped
)

// Lifecycle is the session state machine every transport shares, so that they agree on the
// errors of each phase and on what ending and closing release. A transport guards it with its
// own mutex (the methods that change it say so); Context, Done and Closed are safe anywhere.
type Lifecycle struct {
	// Phase is the current phase.
	Phase Phase
	// Ending is set while End runs: an end the server reports meanwhile answers it.
	Ending bool
	// EndReason and EndErr say why the session ended (from PhaseEnded on).
	EndReason EndReason
	EndErr    error

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	closed chan struct{}
}

// NewLifecycle returns a lifecycle in PhaseNew.
func NewLifecycle() *Lifecycle {
	ctx, cancel := context.WithCancel(context.Background())
	return &Lifecycle{ctx: ctx, cancel: cancel, done: make(chan struct{}), closed: make(chan struct{})}
}

// Context is cancelled when the session ends or the transport closes: the session's
// goroutines and requests run under it.
func (l *Lifecycle) Context() context.Context { return l.ctx }

// Done is closed when the session ends or the transport closes.
func (l *Lifecycle) Done() <-chan struct{} { return l.done }

// Closed is closed when the transport closes.
func (l *Lifecycle) Closed() <-chan struct{} { return l.closed }

// PhaseErr is the error of an operation that needs an active session, in the current phase:
// ErrNotStarted, ErrSessionEnded, ErrClosed, or ErrAlreadyStarted when active (for Start and
// Resume, the operations that need PhaseNew).
func (l *Lifecycle) PhaseErr() error {
	switch l.Phase {
	case PhaseNew:
		return ErrNotStarted
	case PhaseEnded:
		return ErrSessionEnded
	case PhaseClosed:
		return ErrClosed
	}
	return ErrAlreadyStarted
}

// Active reports whether the session is active. Owner's lock held.
func (l *Lifecycle) Active() bool { return l.Phase == PhaseActive }

// End moves an active session to PhaseEnded, once: Done closes and Context is cancelled. An
// end the server reports (EndedByServer, EndedSessionLost) while Ending is recorded as
// EndedByClient, since it answers our own End. It returns the reason recorded, and false when
// the session was not active. Owner's lock held.
func (l *Lifecycle) End(r EndReason, err error) (EndReason, bool) {
	if l.Phase != PhaseActive {
		return r, false
	}
	if l.Ending && (r == EndedByServer || r == EndedSessionLost) {
		r = EndedByClient
	}
	l.Phase = PhaseEnded
	l.EndReason, l.EndErr = r, err
	close(l.done)
	l.cancel()
	return r, true
}

// Close moves to PhaseClosed: Closed closes, and Done too unless the session had ended;
// Context is cancelled. It reports false when the lifecycle was already closed. Owner's lock
// held.
func (l *Lifecycle) Close() bool {
	if l.Phase == PhaseClosed {
		return false
	}
	wasEnded := l.Phase == PhaseEnded
	l.Phase = PhaseClosed
	close(l.closed)
	if !wasEnded {
		close(l.done)
	}
	l.cancel()
	return true
}
