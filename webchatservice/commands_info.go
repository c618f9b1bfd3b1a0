package webchatservice

// Read-only commands and registration hooks: getTranscript, getAgents, getStats,
// getSessionData, registerTypingPreviewInput, registerPreProcessor, verifySession.

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cxbus/webchat/bus"
)

func (s *Service) cmdGetTranscript(ctx context.Context, c *bus.Call) (any, error) {
	t := Transcript{Messages: make([]Message, 0, len(s.transcript)), OriginalMessages: make([]json.RawMessage, 0, len(s.transcript))}
	for _, e := range s.transcript {
		t.Messages = append(t.Messages, e.processed)
		t.OriginalMessages = append(t.OriginalMessages, original(e.original))
	}
	return t, nil
}

func (s *Service) cmdGetAgents(ctx context.Context, c *bus.Call) (any, error) {
	return AgentsResult{Agents: s.agentsMap()}, nil
}

func (s *Service) cmdGetStats(ctx context.Context, c *bus.Call) (any, error) {
	st := Stats{Agents: s.agentsMap(), StartTime: false, EndTime: false, Duration: false}
	if n := len(s.transcript); n > 0 {
		start := s.transcript[0].original.Timestamp.UnixMilli()
		end := s.transcript[n-1].original.Timestamp.UnixMilli()
		st.StartTime, st.EndTime, st.Duration = start, end, end-start
	}
	return st, nil
}

func (s *Service) cmdGetSessionData(ctx context.Context, c *bus.Call) (any, error) {
	if s.sd.IsZero() {
		return s.emptySessionData(), nil
	}
	out := s.emptySessionData()
	for k, v := range s.sd.Map() {
		out[k] = v
	}
	return out, nil
}

func (s *Service) cmdRegisterTypingPreviewInput(ctx context.Context, c *bus.Call) (any, error) {
	var input any
	switch o := c.Options.(type) {
	case map[string]any:
		input = o["input"]
	case TypingPreviewInput:
		input = o.Input
	case *TypingPreviewInput:
		input = o.Input
	}
	src, ok := previewSource(input)
	if !ok {
		return nil, ErrInvalidPreviewInput
	}
	s.preview = src
	return nil, nil
}

// TypingPreviewInput are the registerTypingPreviewInput options. Input is the source of the
// preview text: a func() string, or a <-chan string whose latest value is the text.
type TypingPreviewInput struct {
	Input any `json:"-"`
}

func previewSource(v any) (func() string, bool) {
	switch in := v.(type) {
	case func() string:
		return in, in != nil
	case interface{ Text() string }:
		return in.Text, true
	case <-chan string:
		return channelPreview(in), in != nil
	case chan string:
		return channelPreview(in), in != nil
	}
	return nil, false
}

// channelPreview keeps the latest value sent on ch.
func channelPreview(ch <-chan string) func() string {
	var latest string
	return func() string {
		for {
			select {
			case v, ok := <-ch:
				if !ok {
					return latest
				}
				latest = v
			default:
				return latest
			}
		}
	}
}

func (s *Service) cmdRegisterPreProcessor(ctx context.Context, c *bus.Call) (any, error) {
	var fn any
	present := false
	switch o := c.Options.(type) {
	case map[string]any:
		fn, present = o["preprocessor"]
	case PreProcessorOptions:
		fn, present = o.PreProcessor, o.PreProcessor != nil
	case *PreProcessorOptions:
		fn, present = o.PreProcessor, o.PreProcessor != nil
	}
	p, ok := asPreprocessor(fn)
	if !ok {
		typ := "undefined"
		if present && fn != nil {
			typ = fmt.Sprintf("%T", fn)
		}
		return nil, &NoPreprocessorError{Type: typ}
	}
	s.preprocessors.Add(p)
	return fn, nil
}

// PreProcessorOptions are the registerPreProcessor options. PreProcessor is a
// preprocessor.Func, a func(context.Context, *Message) (*Message, error) or a
// func(*Message) *Message.
type PreProcessorOptions struct {
	PreProcessor any `json:"-"`
}

func (s *Service) cmdVerifySession(ctx context.Context, c *bus.Call) (any, error) {
	if s.restoring {
		s.restoreWait = append(s.restoreWait, c.Defer())
		return nil, nil
	}
	return VerifySessionResult{SessionActive: s.state == stateActive}, nil
}
