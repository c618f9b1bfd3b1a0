package gms

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// Send sends one message (sendMessage). It never drops a message silently:
// while GMS cannot be reached, the Chat Server is offline (statusCode 1, the
// operation had no effect) or the CometD connection is being restored, it
// retries with back-off until ctx ends. GMS has no idempotency key, so after
// an ambiguous failure (network error, timeout, 5xx, a lost answer) the
// transcript after the pre-send cursor is searched for our own message with
// the same text before anything is resent. If ctx ends while the outcome is
// unknown, the error is a *transports.AmbiguousSendError carrying the cursor
// to resend with (Outgoing.Since). Sends are serialized, so they reach GMS
// in call order.
func (t *Transport) Send(ctx context.Context, out transports.Outgoing) (transports.Sent, error) {
	if strings.TrimSpace(out.Text) == "" {
		return transports.Sent{}, transports.ErrEmptyMessage
	}
	t.sendMu.Lock()
	defer t.sendMu.Unlock()
	if err := t.checkActive(); err != nil {
		return transports.Sent{}, err
	}
	t.mu.Lock()
	t.preview = ""
	t.mu.Unlock()

	ambiguous := out.Since != nil
	var since transports.Cursor
	if out.Since != nil {
		since = *out.Since
	}
	var last error
	for attempt := 0; ; attempt++ {
		if t.set.mode == ModeCometD {
			if err := t.waitUp(ctx); err != nil {
				return transports.Sent{}, sendFailure(err, last, ambiguous, since)
			}
		} else if err := t.checkActive(); err != nil {
			return transports.Sent{}, err
		}
		if ambiguous {
			sent, found, err := t.findOwn(ctx, since, out.Text)
			switch {
			case err != nil:
				if isEnd(err) {
					return transports.Sent{}, err
				}
				last = err
			case found:
				return sent, nil
			default:
				ambiguous = false
			}
		}
		if !ambiguous {
			since = t.Cursor()
			sent, retry, amb, err := t.sendOnce(ctx, out, since)
			if err == nil {
				t.sentSomething()
				return sent, nil
			}
			if isEnd(err) || !retry {
				return transports.Sent{}, err
			}
			ambiguous, last = amb, err
		}
		t.log.Debug().Err(last).Int("attempt", attempt).Bool("ambiguous", ambiguous).Msg("gms: send failed, retrying")
		if serr := t.sleep(ctx, t.retryDelay(last, attempt)); serr != nil {
			if isEnd(serr) {
				return transports.Sent{}, serr
			}
			return transports.Sent{}, sendFailure(serr, last, ambiguous, since)
		}
	}
}

func isEnd(err error) bool {
	return errors.Is(err, transports.ErrSessionEnded) || errors.Is(err, transports.ErrClosed) || errors.Is(err, transports.ErrNotStarted)
}

func sendFailure(err, last error, ambiguous bool, since transports.Cursor) error {
	if isEnd(err) {
		return err
	}
	if ambiguous {
		return &transports.AmbiguousSendError{Since: since, Err: errors.Join(err, last)}
	}
	if last != nil {
		return errors.Join(err, last)
	}
	return err
}

// messageRequest builds the sendMessage request (messageType default
// "text"; parentMessageID → eventAttributes general-properties.related-event-id).
func messageRequest(out transports.Outgoing) *wire.Request {
	r := &wire.Request{Operation: wire.OpSendMessage, Message: out.Text, MessageType: out.Type}
	if r.MessageType == "" {
		r.MessageType = "text"
	}
	if out.ParentMessageID != "" {
		r.EventAttributes = map[string]any{"general-properties": map[string]any{"related-event-id": out.ParentMessageID}}
	}
	return r
}

// sendOnce makes one attempt. retry: another attempt may succeed;
// ambiguous: this one may have reached GMS.
func (t *Transport) sendOnce(ctx context.Context, out transports.Outgoing, since transports.Cursor) (sent transports.Sent, retry, ambiguous bool, err error) {
	req := messageRequest(out)
	var a *answer
	if t.set.mode == ModeCometD {
		a, err = t.cometdCall(ctx, req, matchOwn(wire.EventMessage, out.Text, true))
		if err != nil {
			var oe *opError
			if errors.As(err, &oe) {
				return sent, true, oe.ambiguous, err
			}
			if te := (*transports.TransportError)(nil); errors.As(err, &te) && te.StatusCode == int(wire.StatusRetry) {
				return sent, true, false, err
			}
			return sent, false, false, err
		}
	} else {
		a, err = t.restCall(ctx, req, -1, nil, nil)
		if err != nil {
			r, amb := retryable(err)
			return sent, r, amb, err
		}
	}
	s, ok := t.claimOwn(a, since.Index, out.Text)
	if !ok {
		s = transports.Sent{Timestamp: t.clock.Now()}
	}
	s.Answer = a.body
	return s, false, false, nil
}

// claimOwn finds our Message with text after index since: first in the
// answer itself (CometD answers carry it; it may still be held behind a
// gap), then in the own-message log (REST answers carry the transcript).
func (t *Transport) claimOwn(a *answer, since int64, text string) (transports.Sent, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a != nil {
		for i := range a.resp.Messages {
			e := &a.resp.Messages[i]
			idx := int64(e.Index)
			if e.Type == wire.EventMessage && e.From != nil && e.From.Type == wire.PartyClient && e.Text == text &&
				idx > since && !t.own.claimed.Has(idxKey(idx)) {
				t.own.claim(idx)
				return transports.Sent{ID: messageID(t.chatPrefixLocked(), e.Index), Index: idx, Timestamp: time.UnixMilli(e.UTCTime).UTC()}, true
			}
		}
	}
	if idx, at, ok := t.own.find(since, text); ok {
		t.own.claim(idx)
		return transports.Sent{ID: messageID(t.chatPrefixLocked(), int(idx)), Index: idx, Timestamp: at}, true
	}
	return transports.Sent{}, false
}

// findOwn reads the transcript after since (REST refresh, CometD
// requestNotifications) and looks for our own unclaimed message with text.
func (t *Transport) findOwn(ctx context.Context, since transports.Cursor, text string) (transports.Sent, bool, error) {
	pos := since.Index + 1
	var a *answer
	var err error
	if t.set.mode == ModeCometD {
		a, err = t.cometdCall(ctx, &wire.Request{Operation: wire.OpRequestNotifications, TranscriptPosition: int(pos)},
			matchNotifications(pos), withSuffix)
	} else {
		a, err = t.restCall(ctx, &wire.Request{Operation: wire.OpRefresh}, int(pos), nil, nil)
	}
	if err != nil {
		return transports.Sent{}, false, err
	}
	// The answer holds every event from pos: also those delivered before
	// this transport existed (a resend after a restart).
	s, ok := t.claimOwn(a, since.Index, text)
	if ok {
		s.Deduplicated = true
	}
	return s, ok, nil
}
