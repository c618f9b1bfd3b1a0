package webchatservice

import (
	"context"
	"errors"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
)

// outgoing is one message in the outbox: every sendMessage goes through it, so messages leave in
// order, one at a time, and none is lost or sent twice across disconnects (spec §6.9).
type outgoing struct {
	out      transports.Outgoing
	d        *bus.Deferred // nil for messages restored from a snapshot (their caller is gone)
	inFlight bool
}

// enqueue queues a message for call c (sendMessage, sendFilteredMessage).
func (s *Service) enqueue(c *bus.Call, out transports.Outgoing) error {
	if s.set.rejectWhileDown && !s.connected {
		return ErrNotConnected
	}
	if len(s.outbox) >= s.set.outboxLimit {
		return ErrOutboxFull
	}
	s.stopClientTyping(false)
	s.wakeIfSleeping()
	d := c.Defer()
	s.outbox = append(s.outbox, &outgoing{out: out, d: &d})
	s.persistSoon()
	s.kickOutbox()
	return nil
}

// kickOutbox sends the head of the outbox when nothing is in flight. The transport itself
// waits while it is (re)connecting, so the outbox only keeps order and outcome.
func (s *Service) kickOutbox() {
	if s.sending || s.state != stateActive || s.tr == nil {
		return
	}
	for len(s.outbox) > 0 {
		head := s.outbox[0]
		if head.d != nil && head.d.Context().Err() != nil { // its caller gave up (settled already)
			s.outbox = s.outbox[1:]
			continue
		}
		s.sending, head.inFlight = true, true
		tr, gen, out := s.tr, s.gen, head.out
		ctx := context.Background()
		if head.d != nil {
			ctx = head.d.Context()
		}
		var sent transports.Sent
		var err error
		s.goIO(func() { sent, err = tr.Send(ctx, out) }, func() { s.sendDone(gen, head, sent, err) })
		return
	}
}

func (s *Service) sendDone(gen int, head *outgoing, sent transports.Sent, err error) {
	s.sending = false
	head.inFlight = false
	if gen != s.gen || len(s.outbox) == 0 || s.outbox[0] != head {
		return // the session ended meanwhile; the outbox was rejected
	}
	var amb *transports.AmbiguousSendError
	if errors.As(err, &amb) && (head.d == nil || head.d.Context().Err() == nil) && s.state == stateActive {
		// Outcome unknown: retry with Since, so the transport checks the transcript first.
		since := amb.Since
		head.out.Since = &since
		s.kickOutbox()
		return
	}
	s.outbox = s.outbox[1:]
	s.persistSoon()
	if head.d != nil {
		if err != nil {
			head.d.Reject(err)
		} else {
			head.d.Resolve(sendResult(sent))
		}
	}
	if err != nil {
		s.publishError(err)
	} else if len(sent.Answer) > 0 && s.set.mode != ModePureCloud {
		s.publish(EventAjaxResponse, redactedAnswer(sent.Answer), false)
	}
	s.kickOutbox()
}

// rejectOutbox rejects every queued message (the session ended).
func (s *Service) rejectOutbox(err error) {
	for _, o := range s.outbox {
		if o.d != nil {
			o.d.Reject(err)
		}
	}
	s.outbox = nil
	s.sending = false
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }

// sendResult is sendMessage's resolution: the server's answer, or, when an earlier ambiguous
// attempt turned out to have reached the server (no answer of its own), what is known of it.
func sendResult(sent transports.Sent) any {
	if len(sent.Answer) > 0 {
		return redactedAnswer(sent.Answer)
	}
	if sent.ID == "" && !sent.Deduplicated {
		return nil
	}
	return map[string]any{"id": sent.ID, "timestamp": sent.Timestamp, "deduplicated": sent.Deduplicated}
}
