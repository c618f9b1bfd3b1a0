package gms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// positioned reports whether a REST operation carries transcriptPosition =
// cursor, so its answer holds the transcript from the cursor (the simulator
// and GMS answer other operations without events).
func positioned(op wire.Operation) bool {
	switch op {
	case wire.OpRefresh, wire.OpSendMessage, wire.OpStartTyping, wire.OpStopTyping:
		return true
	}
	return false
}

// restCall runs one REST operation with the current session keys and applies
// the answer. pos < 0 means "the cursor" for positioned operations. The
// returned error is a *transports.TransportError for transport failures,
// HTTP errors and answers whose statusCode is not 0 (the answer is returned
// too when there was one). A session that the answer ends yields an error
// wrapping transports.ErrSessionEnded.
func (t *Transport) restCall(ctx context.Context, req *wire.Request, pos int, b *body, download func(*http.Response) error) (*answer, error) {
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive && !(t.life.Phase == transports.PhaseNew && t.starting) {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return nil, err
	}
	t.reqSeq++
	seq := t.reqSeq
	req.SetKeys(t.keys)
	suffix := positioned(req.Operation)
	if suffix {
		if pos < 0 {
			pos = int(t.tracker.Position())
		}
		req.TranscriptPosition = pos
	}
	if req.Operation == wire.OpRefresh {
		req.Message = t.preview
	}
	t.mu.Unlock()

	target, err := wire.RESTURL(t.set.restBase, req.Operation, req.ChatID, req.FileID, t.set.trailingSlash)
	if err != nil {
		return nil, &transports.TransportError{Operation: string(req.Operation), Err: err}
	}
	form, err := req.Form()
	if err != nil {
		return nil, &transports.TransportError{Operation: string(req.Operation), Err: err}
	}
	bd := body{form: form}
	timeout := t.set.ajaxTimeout
	if b != nil {
		bd = *b
		bd.form = form
		timeout = t.set.uploadTimeout
		if req.Operation != wire.OpFileUpload {
			timeout = t.set.ajaxTimeout
		}
	}
	res, err := t.post(ctx, req.Operation, target, bd, true, timeout, download)
	if err != nil && res.ans == nil {
		if transportFailure(err, res) && ctx.Err() == nil {
			t.mu.Lock()
			t.conn.failure(t, err)
			t.mu.Unlock()
		}
		if res.status == http.StatusNotFound && req.Operation != wire.OpRequestChat {
			// The chatId is unknown to GMS: the session is lost.
			t.mu.Lock()
			t.endLocked(transports.EndedSessionLost, err)
			t.mu.Unlock()
			return nil, sessionEndedErr(err)
		}
		return nil, err
	}
	if res.ans == nil { // a download streamed to the writer
		t.mu.Lock()
		t.conn.answer(t, 0)
		t.mu.Unlock()
		return nil, nil
	}
	a := res.ans
	t.mu.Lock()
	t.applyLocked(a, answerInfo{op: req.Operation, seq: seq, suffix: suffix, status: res.status})
	ended := t.life.Phase == transports.PhaseEnded
	t.mu.Unlock()
	if a.resp.StatusCode != wire.StatusOK {
		ae := apiError(req.Operation, res.status, a)
		if ended || (a.resp.ChatEnded && res.status == http.StatusNotFound) {
			return a, sessionEndedErr(ae)
		}
		return a, ae
	}
	if err != nil {
		return a, err
	}
	if ended && req.Operation != wire.OpRefresh && req.Operation != wire.OpDisconnect {
		return a, transports.ErrSessionEnded
	}
	return a, nil
}

// retryable reports whether a REST operation that failed with err may be
// sent again without risk: statusCode 1 answers (the operation had no
// effect). ambiguous reports failures after which the server may have
// processed it (network errors, timeouts, 5xx).
func retryable(err error) (retry, ambiguous bool) {
	var te *transports.TransportError
	if !errors.As(err, &te) {
		return false, false
	}
	if te.StatusCode == int(wire.StatusRetry) {
		return true, false
	}
	if te.Status == http.StatusTooManyRequests {
		return true, false
	}
	if te.Temporary() && te.StatusCode == 0 {
		return true, true
	}
	return false, false
}

// restOp runs an operation that is not a message send until it is answered
// with statusCode 0, retrying transient failures with back-off until ctx
// ends (customNotice, updateData, pushUrl, updateNickname, readReceipt: these
// are delivered at least once).
func (t *Transport) restOp(ctx context.Context, mk func() *wire.Request) (*answer, error) {
	var last error
	for attempt := 0; ; attempt++ {
		a, err := t.restCall(ctx, mk(), -1, nil, nil)
		if err == nil {
			return a, nil
		}
		if errors.Is(err, transports.ErrSessionEnded) || errors.Is(err, transports.ErrClosed) {
			return a, err
		}
		retry, _ := retryable(err)
		if !retry || ctx.Err() != nil {
			return a, err
		}
		last = err
		if serr := t.sleep(ctx, t.retryDelay(err, attempt)); serr != nil {
			return nil, errors.Join(serr, last)
		}
	}
}

// retryDelay is the back-off before retry attempt n, honouring Retry-After.
func (t *Transport) retryDelay(err error, attempt int) time.Duration {
	var te *transports.TransportError
	if errors.As(err, &te) && te.RetryAfter > 0 && te.RetryAfter <= transports.MaxRetryAfter {
		return te.RetryAfter
	}
	return t.set.sendBackoff.Delay(attempt)
}

// startREST posts Request Chat and applies the answer.
func (t *Transport) startREST(ctx context.Context, req *wire.Request) (*answer, error) {
	a, err := t.restCall(ctx, req, 0, nil, nil)
	if err != nil {
		return a, err
	}
	if a.resp.ChatID == "" || a.resp.SecureKey == "" {
		return a, &transports.TransportError{Operation: string(wire.OpRequestChat), Status: http.StatusOK,
			Body: transports.RedactJSON(a.body, nil), Err: fmt.Errorf("%w: the answer has no chatId or secureKey", transports.ErrMalformed)}
	}
	return a, nil
}

// resumeREST refreshes from the cursor.
func (t *Transport) resumeREST(ctx context.Context) error {
	a, err := t.restCall(ctx, &wire.Request{Operation: wire.OpRefresh}, -1, nil, nil)
	return t.resumeResult(a, err)
}

// resumeResult maps the answer of the resume call: chatEnded (or a lost
// session) → ErrSessionEnded; statusCode 1 → the session is kept and the
// Chat Server reported offline at once (Widgets' restoredOffline).
func (t *Transport) resumeResult(a *answer, err error) error {
	if a != nil && a.resp.ChatEnded {
		return sessionEndedErr(err)
	}
	if err != nil {
		var te *transports.TransportError
		if errors.As(err, &te) && te.StatusCode == int(wire.StatusRetry) {
			t.mu.Lock()
			t.conn.forceOffline(t)
			t.mu.Unlock()
			return nil
		}
		if errors.As(err, &te) && te.Status == http.StatusNotFound {
			return sessionEndedErr(err)
		}
		return err
	}
	return nil
}

// endREST posts disconnect.
func (t *Transport) endREST(ctx context.Context) error {
	_, err := t.restCall(ctx, &wire.Request{Operation: wire.OpDisconnect}, 0, nil, nil)
	if errors.Is(err, transports.ErrSessionEnded) {
		return nil
	}
	return err
}
