package purecloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// Send posts one message (#5). It waits (bounded by ctx) until the socket is
// attached and backfilled: sends before the first attach and during a
// reconnect are held, never dropped, and leave in call order. 429 waits
// Retry-After. #5 is not idempotent, so after an ambiguous failure (network
// error or 5xx) the transcript is searched for our message before any resend.
// If ctx ends while the outcome is unknown, the error is a
// *transports.AmbiguousSendError carrying the cursor to resend with.
func (t *Transport) Send(ctx context.Context, out transports.Outgoing) (transports.Sent, error) {
	if strings.TrimSpace(out.Text) == "" {
		return transports.Sent{}, transports.ErrEmptyMessage
	}
	if n := wire.BodyLength(out.Text); n > wire.MaxBodyLength {
		return transports.Sent{}, fmt.Errorf("%w: %d UTF-16 code units, the limit is %d", transports.ErrMessageTooLong, n, wire.MaxBodyLength)
	}
	t.sendMu.Lock()
	defer t.sendMu.Unlock()

	ambiguous := out.Since != nil
	since := transports.Cursor{}
	if out.Since != nil {
		since = *out.Since
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		k, err := t.waitConnected(ctx)
		if err != nil {
			return transports.Sent{}, t.sendFailure(err, lastErr, ambiguous, since)
		}
		if ambiguous {
			m, err := t.findOwn(ctx, k, since.ID, out.Text)
			switch {
			case err != nil:
				if r, fatal := fatalReason(err, true); fatal {
					t.endSession(r, err)
					return transports.Sent{}, fmt.Errorf("%w: %w", transports.ErrSessionEnded, err)
				}
				lastErr = err
				if serr := transports.Sleep(ctx, t.clock, t.backoff.Delay(attempt)); serr != nil {
					return transports.Sent{}, t.sendFailure(serr, lastErr, true, since)
				}
				continue
			case m != nil:
				t.markOwn(m.ID)
				return transports.Sent{ID: m.ID, Index: m.Timestamp.UnixMilli(), Timestamp: m.Timestamp.Time, Deduplicated: true}, nil
			}
			ambiguous = false
		} else {
			since = t.Cursor()
		}
		m, raw, err := t.rest.postMessage(ctx, k.jwt, k.conv, k.member, out.Text)
		if err == nil {
			t.markOwn(m.ID)
			return transports.Sent{ID: m.ID, Index: m.Timestamp.UnixMilli(), Timestamp: m.Timestamp.Time, Answer: raw}, nil
		}
		lastErr = err
		if r, fatal := fatalReason(err, true); fatal {
			t.endSession(r, err)
			return transports.Sent{}, fmt.Errorf("%w: %w", transports.ErrSessionEnded, err)
		}
		var te *transports.TransportError
		if !errors.As(err, &te) {
			return transports.Sent{}, err
		}
		var wait = t.backoff.Delay(attempt)
		switch {
		case te.Status == http.StatusTooManyRequests:
			// Rejected before processing: not ambiguous.
			if te.RetryAfter > 0 {
				wait = te.RetryAfter
			}
			if wait > transports.MaxRetryAfter {
				return transports.Sent{}, fmt.Errorf("%w (%s): %w", transports.ErrRetryAfterTooLong, wait, err)
			}
		case te.Temporary():
			ambiguous = true // it may have been stored: look before resending
		default:
			return transports.Sent{}, err // 4xx: the server refused it
		}
		t.log.Debug().Err(err).Int("attempt", attempt).Msg("purecloud: send failed, retrying")
		if serr := transports.Sleep(ctx, t.clock, wait); serr != nil {
			return transports.Sent{}, t.sendFailure(serr, lastErr, ambiguous, since)
		}
	}
}

func (t *Transport) sendFailure(err, last error, ambiguous bool, since transports.Cursor) error {
	if ambiguous {
		return &transports.AmbiguousSendError{Since: since, Err: errors.Join(err, last)}
	}
	if last != nil && !errors.Is(err, transports.ErrSessionEnded) && !errors.Is(err, transports.ErrClosed) {
		return errors.Join(err, last)
	}
	return err
}

func (t *Transport) markOwn(id string) {
	t.mu.Lock()
	t.own.Add(id)
	t.mu.Unlock()
}

// findOwn pages #7 after `after` for a message of ours with this body that
// no earlier Send returned.
func (t *Transport) findOwn(ctx context.Context, k sessionKeys, after, body string) (*wire.WebChatMessage, error) {
	for {
		page, err := t.rest.getMessages(ctx, k.jwt, k.conv, after, "", wire.SortAscending, wire.MaxResults, 2)
		if err != nil {
			return nil, err
		}
		for i := range page.Entities {
			m := &page.Entities[i]
			if m.Sender == nil || m.Sender.ID != k.member || m.Body != body {
				continue
			}
			if m.BodyType != "" && m.BodyType != wire.BodyStandard {
				continue
			}
			t.mu.Lock()
			claimed := t.own.Has(m.ID)
			t.mu.Unlock()
			if !claimed {
				return m, nil
			}
		}
		if len(page.Entities) < wire.MaxResults {
			return nil, nil
		}
		after = page.Entities[len(page.Entities)-1].ID
	}
}
