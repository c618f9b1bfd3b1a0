package transports

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strings"

	"github.com/rs/zerolog"
)

// Redacted is the value that replaces a secret in redacted views.
const Redacted = "[redacted]"

// SecretKeys are the JSON keys that hold secrets in any Genesys payload: they
// are removed by [RedactJSON] and marked secret by transports in [SessionData].
var SecretKeys = []string{"jwt", "secureKey", "eventStreamUri", "WebSocketUrl", "memberAuthToken", "apikey", "Authorization", "password", "encoded"}

// SessionData is a transport's serializable session state: what it needs to
// resume after a restart, and what getSessionData shows.
//
// Values uses the Widgets getSessionData keys (purecloud: jwt, conversationId,
// memberId, displayName, WebSocketUrl, nextMsgURL, lastMessageId; GMS:
// sessionID, userId, secureKey, alias). Keys listed in Secret hold secrets: use
// [SessionData.Redacted] or [SessionData.Public] before the data leaves the
// process. The JSON encoding keeps everything (the snapshot store encrypts it at
// rest); String and the zerolog marshaller never show secrets.
type SessionData struct {
	// Transport is the registry type name that produced the data.
	Transport string `json:"transport"`
	// Values holds the session keys (Widgets getSessionData names).
	Values map[string]string `json:"values,omitempty"`
	// Secret lists the keys of Values that are secrets.
	Secret []string `json:"secret,omitempty"`
	// State is transport-private extra state (e.g. cached member roles, async
	// flag). Treat it as opaque; it never holds secrets.
	State json.RawMessage `json:"state,omitempty"`
	// Answer is the server's answer to the call that produced this data (the
	// startChat resolution / ajaxResponse). It is not persisted and may hold
	// secrets: Redacted drops it.
	Answer json.RawMessage `json:"-"`
}

// Get returns the value of key ("" when absent).
func (s SessionData) Get(key string) string { return s.Values[key] }

// IsSecret reports whether key holds a secret.
func (s SessionData) IsSecret(key string) bool { return slices.Contains(s.Secret, key) }

// IsZero reports whether the session data is empty.
func (s SessionData) IsZero() bool {
	return s.Transport == "" && len(s.Values) == 0 && len(s.State) == 0
}

// Clone returns a deep copy.
func (s SessionData) Clone() SessionData {
	c := SessionData{Transport: s.Transport, Secret: slices.Clone(s.Secret)}
	if s.Values != nil {
		c.Values = make(map[string]string, len(s.Values))
		for k, v := range s.Values {
			c.Values[k] = v
		}
	}
	if s.State != nil {
		c.State = bytes.Clone(s.State)
	}
	if s.Answer != nil {
		c.Answer = bytes.Clone(s.Answer)
	}
	return c
}

// Redacted returns a copy whose secret values are replaced by [Redacted] and
// without Answer. Safe to publish outside the process.
func (s SessionData) Redacted() SessionData {
	c := s.Clone()
	c.Answer = nil
	for k := range c.Values {
		if c.IsSecret(k) && c.Values[k] != "" {
			c.Values[k] = Redacted
		}
	}
	return c
}

// Public returns the Values without the secret keys (for events that leave
// the process, where even a placeholder is unwanted).
func (s SessionData) Public() map[string]string {
	m := make(map[string]string, len(s.Values))
	for k, v := range s.Values {
		if !s.IsSecret(k) {
			m[k] = v
		}
	}
	return m
}

// Map returns all Values including secrets (in-process getSessionData).
func (s SessionData) Map() map[string]string {
	m := make(map[string]string, len(s.Values))
	for k, v := range s.Values {
		m[k] = v
	}
	return m
}

// String shows the transport and the keys with secrets redacted.
func (s SessionData) String() string {
	r := s.Redacted()
	keys := make([]string, 0, len(r.Values))
	for k := range r.Values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("SessionData{")
	b.WriteString(r.Transport)
	for _, k := range keys {
		b.WriteString(" ")
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(r.Values[k])
	}
	b.WriteString("}")
	return b.String()
}

// GoString is like String so %#v does not print secrets either.
func (s SessionData) GoString() string { return s.String() }

// MarshalZerologObject logs the session data with secrets redacted.
func (s SessionData) MarshalZerologObject(e *zerolog.Event) {
	r := s.Redacted()
	e.Str("transport", r.Transport)
	for k, v := range r.Values {
		e.Str(k, v)
	}
}

// Cursor is a transport's position in the transcript: everything up to it has
// been delivered. It is serializable and goes into the restore snapshot.
type Cursor struct {
	// ID is the id of the last delivered message (purecloud).
	ID string `json:"id,omitempty"`
	// Index is the last delivered transcript index (GMS lastIndex; 0 = none).
	Index int64 `json:"index,omitempty"`
	// Next is the server's next position (GMS nextPosition; 0 = unknown).
	Next int64 `json:"next,omitempty"`
}

// IsZero reports whether the cursor is at the start of the transcript.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// RedactJSON returns a copy of raw with the values of the given keys (any depth,
// case-insensitive; [SecretKeys] when keys is nil) replaced by "[redacted]".
// Invalid JSON is returned as nil so it can never leak.
func RedactJSON(raw json.RawMessage, keys []string) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	if keys == nil {
		keys = SecretKeys
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	v = redactValue(v, keys)
	out, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return out
}

func redactValue(v any, keys []string) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if containsFold(keys, k) {
				if val != nil && val != "" {
					t[k] = Redacted
				}
				continue
			}
			t[k] = redactValue(val, keys)
		}
	case []any:
		for i := range t {
			t[i] = redactValue(t[i], keys)
		}
	}
	return v
}

func containsFold(list []string, s string) bool {
	for _, k := range list {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}
