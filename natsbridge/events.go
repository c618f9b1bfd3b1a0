package natsbridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
)

// DefaultStreamDuplicates is the event stream's default de-duplication window.
const DefaultStreamDuplicates = 2 * time.Minute

// EventStream stores every session event in a JetStream stream, so consumers can replay a
// session from any point (filter on <prefix>.<session>.evt.>, the live subjects). The bridge
// publishes the stream's copy of each event on <prefix>.stored.<session>.evt.… with a
// Nats-Msg-Id of node, node start, session and sequence, waits for the stream's
// acknowledgement and publishes it again until acknowledged (see StreamStats); the stream maps
// the subject back to the live one and drops a re-sent copy.
type EventStream struct {
	// Stream is the stream name. Default "WEBCHAT_EVENTS".
	Stream string
	// Create creates or updates the stream on Start (see EnsureStream). Without it the stream
	// must exist with the configuration EnsureStream gives.
	Create bool
	// MaxAge bounds how long events are kept (0: forever). Replicas for clusters (default 1).
	MaxAge   time.Duration
	Replicas int
	// Duplicates is the de-duplication window (default DefaultStreamDuplicates). An event the
	// stream has not acknowledged is retried for half of it.
	Duplicates time.Duration
}

// EnsureStream creates or updates the event stream for prefix: file storage, subjects
// <prefix>.stored.*.evt.> transformed to <prefix>.*.evt.> as they are stored.
func EnsureStream(ctx context.Context, js jetstream.JetStream, prefix string, es EventStream) (jetstream.Stream, error) {
	if es.Stream == "" {
		es.Stream = "WEBCHAT_EVENTS"
	}
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if es.Duplicates <= 0 {
		es.Duplicates = DefaultStreamDuplicates
	}
	subj := Subjects{Prefix: prefix}
	cfg := jetstream.StreamConfig{
		Name:     es.Stream,
		Subjects: []string{subj.StoredEvents("*")},
		SubjectTransform: &jetstream.SubjectTransformConfig{
			Source:      subj.StoredEvents("*"),
			Destination: subj.Prefix + ".{{wildcard(1)}}.evt.>",
		},
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
// of that session (one at a time, in bus order), so its buffer and caches need no lock.
type eventPublisher struct {
	b        *Bridge
	session  string
	base     string                  // <prefix>.<session>.evt.
	stored   string                  // <prefix>.stored.<session>.evt.
	subjects map[string]eventSubject // by event name
	seq      uint64
	msgIDPre string // Nats-Msg-Id prefix; empty without an event stream
	buf      []byte
	data     bytes.Buffer
	enc      *json.Encoder // encodes event data into data
}

// maxCachedSubjects bounds the subject cache (data events can have many distinct names).
const maxCachedSubjects = 512

// eventSubject are an event's live and stored subjects; live is "" when the name is not a
// valid subject.
type eventSubject struct{ live, stored string }

func newEventPublisher(b *Bridge, session string) *eventPublisher {
	p := &eventPublisher{b: b, session: session, base: b.subj.Event(session, ""), stored: b.subj.StoredEvent(session, ""),
		subjects: map[string]eventSubject{}}
	p.enc = json.NewEncoder(&p.data)
	if b.stream != nil {
		p.msgIDPre = b.opts.NodeID + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + session + "-"
	}
	return p
}

// BridgedEvent is the JSON of an event on NATS: the bus event as Widgets encodes it
// ({time, publisher, event, data}) plus the session and a per-session sequence number that
// increases by one per event published by the node running the session.
type BridgedEvent struct {
	Time      int64           `json:"time"`
	Publisher string          `json:"publisher"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Session   string          `json:"session"`
	Seq       uint64          `json:"seq"`
}

func (p *eventPublisher) subject(name string) eventSubject {
	if s, ok := p.subjects[name]; ok {
		return s
	}
	s := eventSubject{live: p.base + name}
	if !validSubject(s.live) {
		s.live = ""
	} else if p.msgIDPre != "" {
		s.stored = p.stored + name
	}
	if len(p.subjects) < maxCachedSubjects {
		p.subjects[name] = s
	}
	return s
}

func (p *eventPublisher) publish(e bus.Event) {
	subject := p.subject(e.Name)
	if subject.live == "" {
		// e.g. a data event of a string with spaces (WebChatService.data.key:'a b').
		p.b.log.Debug().Str("event", e.Name).Msg("natsbridge: event name is not a valid subject; not bridged")
		return
	}
	b := p.buf[:0]
	b = append(b, `{"time":`...)
	b = strconv.AppendInt(b, e.Time.UnixMilli(), 10)
	b = append(b, `,"publisher":`...)
	b = appendJSONString(b, e.Publisher)
	b = append(b, `,"event":`...)
	b = appendJSONString(b, e.Name)
	b = append(b, `,"data":`...)
	b, ok := appendJSON(b, e.Data)
	if !ok {
		p.data.Reset()
		if err := p.enc.Encode(e.Data); err != nil {
			p.buf = b
			p.b.log.Error().Err(err).Str("event", e.Name).Msg("natsbridge: event data not encodable; not bridged")
			return
		}
		b = append(b, bytes.TrimRight(p.data.Bytes(), "\n")...)
	}
	p.seq++
	b = append(b, `,"session":"`...)
	b = append(b, p.session...) // session ids are hex
	b = append(b, `","seq":`...)
	b = strconv.AppendUint(b, p.seq, 10)
	b = append(b, '}')
	p.buf = b
	if err := p.b.opts.Conn.Publish(subject.live, b); err != nil {
		p.b.log.Error().Err(err).Str("event", e.Name).Msg("natsbridge: event publish failed")
	}
	if p.msgIDPre != "" {
		p.b.stream.publish(subject.stored, b, p.msgIDPre+strconv.FormatUint(p.seq, 10))
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
