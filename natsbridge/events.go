package natsbridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
)

// Headers set on every event message.
const (
	HeaderSession = "Webchat-Session"
	HeaderSeq     = "Webchat-Seq"
	HeaderNode    = "Webchat-Node"
)

// EventStream stores every session event in a JetStream stream, so consumers can replay a
// session from any point (filter on <prefix>.<session>.evt.>). Each event carries a
// Nats-Msg-Id of node, session and sequence, so the stream drops a re-sent event.
type EventStream struct {
	// Stream is the stream name. Default "WEBCHAT_EVENTS".
	Stream string
	// Create creates or updates the stream on Start with the subjects <prefix>.*.evt.>.
	Create bool
	// MaxAge bounds how long events are kept (0: forever). Replicas for clusters (default 1).
	MaxAge   time.Duration
	Replicas int
	// Duplicates is the de-duplication window (default 2 minutes).
	Duplicates time.Duration
}

// EnsureStream creates or updates the event stream for prefix.
func EnsureStream(ctx context.Context, js jetstream.JetStream, prefix string, es EventStream) (jetstream.Stream, error) {
	if es.Stream == "" {
		es.Stream = "WEBCHAT_EVENTS"
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	cfg := jetstream.StreamConfig{
		Name:       es.Stream,
		Subjects:   []string{Subjects{Prefix: prefix}.Events("*")},
		MaxAge:     es.MaxAge,
		Replicas:   es.Replicas,
		Duplicates: es.Duplicates,
		Storage:    jetstream.FileStorage,
	}
	s, err := js.CreateOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("natsbridge: event stream %s: %w", es.Stream, err)
	}
	return s, nil
}

// eventPublisher publishes one session's events. Its publish runs in the bridge plugin's mailbox
// of that session, so events leave in bus order.
type eventPublisher struct {
	b       *Bridge
	session string
	seq     uint64
	epoch   string
}

func newEventPublisher(b *Bridge, session string) *eventPublisher {
	return &eventPublisher{b: b, session: session, epoch: strconv.FormatInt(time.Now().UnixNano(), 36)}
}

func (p *eventPublisher) publish(e bus.Event) {
	subject := p.b.subj.Event(p.session, e.Name)
	if !validSubject(subject) {
		// e.g. a data event of a string with spaces (WebChatService.data.key:'a b').
		p.b.log.Debug().Str("event", e.Name).Msg("natsbridge: event name is not a valid subject; not bridged")
		return
	}
	data, err := json.Marshal(e)
	if err != nil {
		p.b.log.Error().Err(err).Str("event", e.Name).Msg("natsbridge: event not encodable; not bridged")
		return
	}
	p.seq++
	m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	seq := strconv.FormatUint(p.seq, 10)
	m.Header.Set(HeaderSession, p.session)
	m.Header.Set(HeaderSeq, seq)
	m.Header.Set(HeaderNode, p.b.opts.NodeID)
	if p.b.opts.EventStream != nil {
		m.Header.Set(nats.MsgIdHdr, p.b.opts.NodeID+"-"+p.epoch+"-"+p.session+"-"+seq)
	}
	if err := p.b.opts.Conn.PublishMsg(m); err != nil {
		p.b.log.Error().Err(err).Str("event", e.Name).Msg("natsbridge: event publish failed")
	}
}

// validSubject reports whether every token of s is valid (events with spaces in data values are not).
func validSubject(s string) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if !validToken(s[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// redact removes secrets from a result unless the payload has no secret key at all (fast path).
func redact(raw json.RawMessage) json.RawMessage {
	if !mayHoldSecret(raw) {
		return raw
	}
	return transports.RedactJSON(raw, nil)
}

// mayHoldSecret reports whether raw mentions a secret key name (case-insensitively).
func mayHoldSecret(raw []byte) bool {
	for _, k := range transports.SecretKeys {
		if containsFold(raw, k) {
			return true
		}
	}
	return false
}

func containsFold(b []byte, s string) bool {
	n := len(s)
	for i := 0; i+n <= len(b); i++ {
		match := true
		for j := 0; j < n; j++ {
			c, d := b[i+j], s[j]
			if c|0x20 != d|0x20 {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}
