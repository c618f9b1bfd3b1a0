package gms

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

type callOpt func(*opWaiter)

// withSuffix marks a requestNotifications whose answer carries the
// transcript from our position.
func withSuffix(w *opWaiter) { w.suffix = true }

// cometdCall runs one CometD operation and maps its answer: statusCode 1 and
// 2 become a *transports.TransportError (wrapping ErrSessionEnded when the
// answer ended the session); publish failures and missing answers an *opError.
func (t *Transport) cometdCall(ctx context.Context, req *wire.Request, match func(*answer) bool, opts ...callOpt) (*answer, error) {
	t.mu.Lock()
	cm := t.cm
	if cm == nil {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return nil, err
	}
	t.mu.Unlock()
	w := &opWaiter{match: match}
	for _, o := range opts {
		o(w)
	}
	a, err := cm.do(ctx, req, w, t.opTimeout())
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	ended := t.life.Phase == transports.PhaseEnded
	t.mu.Unlock()
	if a.resp.StatusCode != wire.StatusOK {
		ae := apiError(req.Operation, 0, a)
		if ended || a.resp.ChatEnded {
			return a, sessionEndedErr(ae)
		}
		return a, ae
	}
	if ended && req.Operation != wire.OpDisconnect {
		return a, transports.ErrSessionEnded
	}
	return a, nil
}

// operate runs an operation other than sendMessage until GMS answers it
// with statusCode 0, retrying transient failures (statusCode 1, network,
// lost answers) with back-off until ctx ends. These operations are
// delivered at least once.
func (t *Transport) operate(ctx context.Context, mk func() *wire.Request, match func(*answer) bool) (*answer, error) {
	if t.set.mode == ModeREST {
		if err := t.checkActive(); err != nil {
			return nil, err
		}
		return t.restOp(ctx, mk)
	}
	var last error
	for attempt := 0; ; attempt++ {
		if err := t.waitUp(ctx); err != nil {
			if last != nil && !isEnd(err) {
				err = errors.Join(err, last)
			}
			return nil, err
		}
		a, err := t.cometdCall(ctx, mk(), match)
		if err == nil {
			return a, nil
		}
		if isEnd(err) {
			return a, err
		}
		var oe *opError
		var te *transports.TransportError
		switch {
		case errors.As(err, &oe):
		case errors.As(err, &te) && te.StatusCode == int(wire.StatusRetry):
		default:
			return a, err
		}
		last = err
		if serr := t.sleep(ctx, t.retryDelay(err, attempt)); serr != nil {
			if isEnd(serr) {
				return nil, serr
			}
			return nil, errors.Join(serr, last)
		}
	}
}

// Typing sends startTyping (typing, with the preview text) or stopTyping.
// The caller runs the 2 s idle timer (webchatservice.md §6.5). Typing is
// never queued: while the link is down it is a no-op. In REST mode the
// preview is also sent with every refresh while typing.
func (t *Transport) Typing(ctx context.Context, preview string, typing bool) error {
	t.mu.Lock()
	if t.life.Phase != transports.PhaseActive {
		err := t.life.PhaseErr()
		t.mu.Unlock()
		return err
	}
	if typing {
		t.preview = preview
	} else {
		t.preview = ""
	}
	up := t.conn.up()
	cancelIdle := typing && up && t.idleAlerted && t.set.cfg.AutoCancelIdleTimer
	if cancelIdle {
		t.idleAlerted = false
	}
	t.mu.Unlock()
	if !up {
		return nil
	}
	if cancelIdle {
		if _, err := t.SendCustomNotice(ctx, "", CancelIdleAttributes); err != nil {
			t.log.Debug().Err(err).Msg("gms: cancel-idle-timer notice failed")
			t.mu.Lock()
			t.idleAlerted = true // the next typing tries again
			t.mu.Unlock()
		}
	}
	op, ev := wire.OpStartTyping, wire.EventTypingStarted
	if !typing {
		op, ev = wire.OpStopTyping, wire.EventTypingStopped
	}
	req := &wire.Request{Operation: op, Message: preview}
	var err error
	if t.set.mode == ModeCometD {
		_, err = t.cometdCall(ctx, req, matchOwn(ev, "", false))
	} else {
		_, err = t.restCall(ctx, req, -1, nil, nil)
	}
	return err
}

// SendCustomNotice sends a customNotice with text and eventAttributes
// (Widgets sendCustomNotice). In CometD mode the returned Sent carries the
// notice's index.
func (t *Transport) SendCustomNotice(ctx context.Context, text string, attributes map[string]any) (transports.Sent, error) {
	a, err := t.operate(ctx, func() *wire.Request {
		return &wire.Request{Operation: wire.OpCustomNotice, Message: text, EventAttributes: attributes}
	}, matchOwn(wire.EventCustomNotice, text, true))
	if err != nil {
		return transports.Sent{}, err
	}
	return t.sentFrom(a, wire.EventCustomNotice, text), nil
}

// sentFrom builds a Sent from the client's own event in a (when there).
func (t *Transport) sentFrom(a *answer, typ wire.EventType, text string) transports.Sent {
	s := transports.Sent{Timestamp: t.clock.Now(), Answer: a.body}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range a.resp.Messages {
		e := &a.resp.Messages[i]
		if e.Type == typ && e.Index > 0 && e.From != nil && e.From.Type == wire.PartyClient && e.Text == text {
			s.ID, s.Index = messageID(t.chatPrefixLocked(), e.Index), int64(e.Index)
		}
	}
	return s
}

// UpdateUserData sends updateData (attached data during the chat).
// Non-string values are JSON-encoded.
func (t *Transport) UpdateUserData(ctx context.Context, data map[string]any) error {
	for k, v := range data {
		if _, err := flatValue(v); err != nil {
			return fmt.Errorf("gms: userData.%s: %w", k, err)
		}
	}
	ud := flatten(data)
	if ud == nil {
		ud = map[string]string{}
	}
	_, err := t.operate(ctx, func() *wire.Request {
		return &wire.Request{Operation: wire.OpUpdateData, UserData: ud}
	}, matchEmpty)
	return err
}

// UpdateNickname changes the client's nickname (updateNickname).
func (t *Transport) UpdateNickname(ctx context.Context, nickname string) error {
	nickname = strings.TrimSpace(nickname)
	if nickname == "" {
		return errors.New("gms: updateNickname: empty nickname")
	}
	_, err := t.operate(ctx, func() *wire.Request {
		return &wire.Request{Operation: wire.OpUpdateNickname, Nickname: nickname}
	}, matchOwn(wire.EventNicknameUpdated, nickname, true))
	return err
}

// PushURL pushes a URL to the agent (pushUrl).
func (t *Transport) PushURL(ctx context.Context, url string) error {
	if strings.TrimSpace(url) == "" {
		return errors.New("gms: pushUrl: empty URL")
	}
	_, err := t.operate(ctx, func() *wire.Request {
		return &wire.Request{Operation: wire.OpPushURL, PushURL: url}
	}, matchOwn(wire.EventPushURL, "", false))
	return err
}

// ReadReceipt marks the transcript event with this index as read
// (readReceipt; transcriptPosition is the event's index, not the cursor).
func (t *Transport) ReadReceipt(ctx context.Context, index int64) error {
	if index < 1 || index > 1<<31-1 {
		return fmt.Errorf("gms: readReceipt: index %d out of range", index)
	}
	_, err := t.operate(ctx, func() *wire.Request {
		return &wire.Request{Operation: wire.OpReadReceipt, TranscriptPosition: int(index)}
	}, matchEmpty)
	return err
}
