package webchatservice

import (
	"context"
	"time"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
)

// Re-send intervals while the client keeps typing (spec §6.5).
const (
	pureCloudTypingRepost = 3 * time.Second
	cometDTypingResend    = 5 * time.Second
)

func (s *Service) cmdSendTyping(ctx context.Context, c *bus.Call) (any, error) {
	if s.state != stateActive {
		return nil, ErrNoActiveChat
	}
	o, err := bus.DecodeOptions[SendTypingOptions](c.Options)
	if err != nil {
		return nil, err
	}
	if o.IsTyping != nil && !*o.IsTyping {
		s.stopClientTyping(true)
		return nil, nil
	}
	preview := o.Message
	if preview == "" {
		preview = o.MessageAlt
	}
	if preview == "" && s.preview != nil {
		preview = s.preview()
	}
	tr := s.tr
	now := s.clock.Now()
	if s.clientTyping {
		s.armTypingTimer()
		resend := false
		switch s.set.mode {
		case ModePureCloud:
			resend = now.Sub(s.typingSentAt) >= pureCloudTypingRepost
		case ModeCometD:
			resend = now.Sub(s.typingSentAt) >= cometDTypingResend && preview != s.typingSentText
		}
		if !resend {
			return nil, nil
		}
		s.typingSentAt, s.typingSentText = now, preview
		s.deferIO(c, func(ctx context.Context) (any, error) { return nil, tr.Typing(ctx, preview, true) }, s.reportFailure)
		return nil, nil
	}
	s.clientTyping = true
	s.typingSentAt, s.typingSentText = now, preview
	s.armTypingTimer()
	s.deferIO(c, func(ctx context.Context) (any, error) { return nil, tr.Typing(ctx, preview, true) }, func(v any, err error) (any, error) {
		if err != nil {
			if s.clientTyping {
				s.clientTyping = false
				s.stopTypingTimer()
			}
			s.publishError(err)
			return nil, err
		}
		if s.clientTyping {
			s.publish(EventClientTypingStarted, nil, false)
		}
		return nil, nil
	})
	return nil, nil
}

// armTypingTimer (re)starts the 2 s idle countdown that stops the client's typing.
func (s *Service) armTypingTimer() {
	s.stopTypingTimer()
	s.typingTimer = s.clock.AfterFunc(ClientTypingIdle, func() {
		s.plugin.Post(func() { s.stopClientTyping(true) })
	})
}

func (s *Service) stopTypingTimer() {
	if s.typingTimer != nil {
		s.typingTimer.Stop()
		s.typingTimer = nil
	}
}

// stopClientTyping ends the client's typing: clientTypingStopped, and a stop request on
// transports that have one when sendStop (sendMessage sends none).
func (s *Service) stopClientTyping(sendStop bool) {
	if !s.clientTyping {
		return
	}
	s.clientTyping = false
	s.stopTypingTimer()
	s.publish(EventClientTypingStopped, nil, false)
	if sendStop && s.caps.TypingStop && s.tr != nil && s.state == stateActive {
		tr := s.tr
		s.goIO(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := tr.Typing(ctx, "", false); err != nil && !isEnded(err) {
				s.plugin.Post(func() { s.publishError(err) })
			}
		}, nil)
	}
}

func isEnded(err error) bool {
	return err != nil && (errorsIs(err, transports.ErrSessionEnded) || errorsIs(err, transports.ErrClosed))
}
