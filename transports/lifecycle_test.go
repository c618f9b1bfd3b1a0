package transports

import (
	"errors"
	"testing"
)

func closedChan(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestLifecycle(t *testing.T) {
	l := NewLifecycle()
	if l.Phase != PhaseNew || !errors.Is(l.PhaseErr(), ErrNotStarted) || l.Active() {
		t.Fatalf("new: phase %v err %v", l.Phase, l.PhaseErr())
	}
	if _, ok := l.End(EndedByClient, nil); ok {
		t.Fatal("a session that never started ended")
	}
	l.Phase = PhaseActive
	if !errors.Is(l.PhaseErr(), ErrAlreadyStarted) || !l.Active() {
		t.Fatalf("active: err %v", l.PhaseErr())
	}

	// A server end while End runs answers our own End.
	l.Ending = true
	boom := errors.New("boom")
	if r, ok := l.End(EndedSessionLost, boom); !ok || r != EndedByClient || l.EndReason != EndedByClient || l.EndErr != boom {
		t.Fatalf("End = %v, %v; recorded %v %v", r, ok, l.EndReason, l.EndErr)
	}
	if !closedChan(l.Done()) || closedChan(l.Closed()) || l.Context().Err() == nil {
		t.Fatal("End must close Done and cancel the context, not close Closed")
	}
	if _, ok := l.End(EndedByServer, nil); ok || !errors.Is(l.PhaseErr(), ErrSessionEnded) {
		t.Fatal("a session ended twice")
	}
	if !l.Close() || !closedChan(l.Closed()) || !errors.Is(l.PhaseErr(), ErrClosed) {
		t.Fatal("Close after End")
	}
	if l.Close() {
		t.Fatal("Close is not idempotent")
	}

	// Close without End closes both channels.
	l2 := NewLifecycle()
	l2.Phase = PhaseActive
	if !l2.Close() || !closedChan(l2.Done()) || !closedChan(l2.Closed()) || l2.Context().Err() == nil {
		t.Fatal("Close of an active session")
	}

	// Without End running, the server's reason stands.
	l3 := NewLifecycle()
	l3.Phase = PhaseActive
	if r, _ := l3.End(EndedByServer, nil); r != EndedByServer {
		t.Fatalf("reason %v", r)
	}
}
