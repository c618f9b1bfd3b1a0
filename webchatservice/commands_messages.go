package webchatservice

// Message commands: sendMessage, sendFilteredMessage, addPrefilter, sendCustomNotice, updateUserData.

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/prefilter"
	"github.com/cxbus/webchat/transports"
)

func (s *Service) cmdSendMessage(ctx context.Context, c *bus.Call) (any, error) {
	if s.state != stateActive {
		return nil, ErrNoActiveChat
	}
	o, err := bus.DecodeOptions[SendMessageOptions](c.Options)
	if err != nil {
		return nil, ErrNoMessageText
	}
	out, err := s.outgoingFor(o)
	if err != nil {
		return nil, err
	}
	return nil, s.enqueue(c, out)
}

// outgoingFor validates sendMessage options into an Outgoing.
func (s *Service) outgoingFor(o SendMessageOptions) (transports.Outgoing, error) {
	text, ok := o.Message.(string)
	if !ok || strings.TrimSpace(text) == "" {
		return transports.Outgoing{}, ErrNoMessageText
	}
	if limit := s.set.cfg.MaxMessageLength; limit > 0 && utf8.RuneCountInString(text) > limit {
		return transports.Outgoing{}, &MessageTooLongError{Limit: limit}
	}
	return transports.Outgoing{Text: text, Type: o.Type, ParentMessageID: o.ParentMessageID}, nil
}

func (s *Service) cmdSendFilteredMessage(ctx context.Context, c *bus.Call) (any, error) {
	if s.state != stateActive {
		return nil, ErrNoActiveChatSession
	}
	o, err := bus.DecodeOptions[SendFilteredMessageOptions](c.Options)
	if err != nil {
		return nil, ErrNoMessageText
	}
	filters, err := parseFilters(o.Regex)
	if err != nil {
		return nil, err
	}
	out, err := s.outgoingFor(SendMessageOptions{Message: o.Message})
	if err != nil {
		return nil, err
	}
	if s.filters.Add(filters...) > 0 {
		s.persistSoon()
	}
	return nil, s.enqueue(c, out)
}

func (s *Service) cmdAddPrefilter(ctx context.Context, c *bus.Call) (any, error) {
	o, err := bus.DecodeOptions[AddPrefilterOptions](c.Options)
	if err != nil {
		return nil, ErrInvalidFilters
	}
	filters, err := parseFilters(o.Filters)
	if err != nil {
		return nil, err
	}
	if s.filters.Add(filters...) > 0 {
		s.persistSoon()
	}
	return s.filters.Filters(), nil
}

// parseFilters parses the filters/regex option (prefilter.ParseValue forms) into the contract's
// rejection on any problem, keeping the cause for errors.Is/As.
func parseFilters(v any) ([]*prefilter.Filter, error) {
	filters, err := prefilter.ParseValue(v)
	if err != nil {
		return nil, withCause(ErrInvalidFilters, err)
	}
	return filters, nil
}

func (s *Service) cmdSendCustomNotice(ctx context.Context, c *bus.Call) (any, error) {
	if s.tr == nil && !s.caps.CustomNotice {
		return nil, transports.ErrCustomNoticeUnsupported
	}
	if s.state != stateActive {
		return nil, ErrNoActiveChat
	}
	n, err := transports.AsNotices(s.tr)
	if err != nil {
		return nil, err
	}
	o, err := bus.DecodeOptions[SendCustomNoticeOptions](c.Options)
	if err != nil {
		return nil, err
	}
	s.deferIO(c, func(ctx context.Context) (any, error) {
		sent, err := n.SendCustomNotice(ctx, o.Message, nil)
		if err != nil {
			return nil, err
		}
		return redactedAnswer(sent.Answer), nil
	}, s.reportFailure)
	return nil, nil
}

func (s *Service) cmdUpdateUserData(ctx context.Context, c *bus.Call) (any, error) {
	data, err := parseUserData(c.Options)
	if err != nil {
		return nil, err
	}
	if s.state == stateActive {
		u, err := transports.AsUserDataUpdater(s.tr)
		if err != nil {
			return nil, err
		}
		s.mergeUserData(data)
		s.deferIO(c, func(ctx context.Context) (any, error) {
			return nil, u.UpdateUserData(ctx, data)
		}, s.reportFailure)
		return nil, nil
	}
	s.mergeUserData(data)
	return s.copyUserData(), nil
}

func (s *Service) mergeUserData(data map[string]any) {
	for k, v := range data {
		s.userData[k] = v
	}
	s.setData(DataUserData, s.copyUserData())
	s.persistSoon()
}

func (s *Service) copyUserData() map[string]any {
	m := make(map[string]any, len(s.userData))
	for k, v := range s.userData {
		m[k] = v
	}
	return m
}
