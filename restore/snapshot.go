package restore

import (
	"encoding/json"
	"fmt"
	"time"
)

// DefaultRestoreTimeout is the contract's default restoreTimeout ("default 60 seconds").
const DefaultRestoreTimeout = 60 * time.Second

// Snapshot is what a session stores so it can be restored after a restart. Stores persist it
// as JSON; field names are stable. SessionData holds secrets (a JWT, a secureKey): wrap the
// store with [Encrypt] to keep them encrypted at rest, and never log a snapshot.
type Snapshot struct {
	// SessionID identifies the session (see [ValidateID] for the allowed form).
	SessionID string `json:"sessionId"`
	// Revision is set by the store: 1 for the first save, +1 for each further save. (It is
	// encoded second so a store can read it without decoding the whole snapshot.)
	Revision uint64 `json:"revision"`
	// TransportType is the transport's registry name, e.g. "purecloud-v2-sockets" or "gms".
	TransportType string `json:"transportType,omitempty"`
	// Mode is the transport mode ("R", "C", "P" in the contract's tables, or a transport's own
	// name).
	Mode string `json:"mode,omitempty"`
	// Async is true for an asynchronous (long-lived) chat; restoreTimeout does not apply.
	Async bool `json:"async,omitempty"`
	// Flags are further boolean session states (e.g. "sleeping").
	Flags map[string]bool `json:"flags,omitempty"`
	// SessionData is the transport's session data (R/C chatId, userId, secureKey, alias; P jwt,
	// conversationId, memberId, …). SECRET.
	SessionData json.RawMessage `json:"sessionData,omitempty"`
	// Cursor is the transport's transcript cursor; restore resumes from it (§6.8).
	Cursor json.RawMessage `json:"cursor,omitempty"`
	// LastContact is the time of the last successful server contact; restoreTimeout is
	// measured from it (§6.6). When zero, SavedAt is used.
	LastContact time.Time `json:"lastContact,omitzero"`
	// Prefilters are the custom prefilters in their serial form (prefilter.Set.Patterns).
	Prefilters []string `json:"prefilters,omitempty"`
	// UserData is the session's attached data.
	UserData map[string]any `json:"userData,omitempty"`
	// Transcript holds the session's messages before preprocessing, replayed on restore
	// with restoring: true.
	Transcript []json.RawMessage `json:"transcript,omitempty"`
	// Agents are the participants by id (the getAgents map).
	Agents map[string]Agent `json:"agents,omitempty"`
	// Stats are the transcript times behind getStats.
	Stats Stats `json:"stats,omitzero"`
	// Outbox holds outgoing messages not yet confirmed by the server, in order (§6.9).
	Outbox []Outgoing `json:"outbox,omitempty"`
	// Extra holds further state by name, for additions without a schema change.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
	// SavedAt is when the snapshot was saved. Save sets it to time.Now() when it is zero;
	// callers with an injected clock set it themselves.
	SavedAt time.Time `json:"savedAt,omitzero"`
	// Sealed is the encrypted form written by [Encrypt]; it is nil in snapshots returned by
	// an encrypting store. A snapshot loaded from an unwrapped store with Sealed set holds no
	// readable data.
	Sealed *Sealed `json:"sealed,omitempty"`
}

// Agent is one participant, as in getAgents. Times are epoch milliseconds (0 = not yet).
type Agent struct {
	Name             string `json:"name"`
	Type             string `json:"type,omitempty"` // Agent, Supervisor, Bot, …
	Connected        bool   `json:"connected"`
	Supervisor       bool   `json:"supervisor"`
	ConnectedTime    int64  `json:"connectedTime,omitempty"`
	DisconnectedTime int64  `json:"disconnectedTime,omitempty"`
}

// Stats are the times of the first and last transcript message, epoch milliseconds (0 = no
// message), as in getStats.
type Stats struct {
	StartTime int64 `json:"startTime,omitempty"`
	EndTime   int64 `json:"endTime,omitempty"`
}

// Outgoing is a queued outgoing message.
type Outgoing struct {
	// ID is a local id, stable across restarts, that settles the pending sendMessage.
	ID string `json:"id"`
	// Type is the message type ("text" when empty).
	Type string `json:"type,omitempty"`
	// Message is the text.
	Message string `json:"message"`
	// ParentMessageID is sendMessage's parentMessageID.
	ParentMessageID string `json:"parentMessageID,omitempty"`
	// QueuedAt is when the message was queued.
	QueuedAt time.Time `json:"queuedAt,omitzero"`
	// Attempts counts send attempts. After an ambiguous failure (sent, no answer) the
	// transcript is checked for the message before it is sent again.
	Attempts int `json:"attempts,omitempty"`
	// Extra holds transport-specific data.
	Extra json.RawMessage `json:"extra,omitempty"`
}

// Sealed is an encrypted snapshot: AES-256-GCM over the snapshot's JSON, bound to the
// session id.
type Sealed struct {
	Alg   string `json:"alg"`   // "A256GCM"
	KeyID string `json:"kid"`   // fingerprint of the key, not the key
	Nonce []byte `json:"nonce"` // 12 bytes
	Data  []byte `json:"data"`  // ciphertext and tag
}

// Expired reports whether a non-async snapshot is too old to restore: now − LastContact (or
// SavedAt when LastContact is zero) ≥ restoreTimeout. A restoreTimeout ≤ 0 means
// [DefaultRestoreTimeout]. Async snapshots never expire; a snapshot without any time has.
func Expired(s *Snapshot, now time.Time, restoreTimeout time.Duration) bool {
	if s.Async {
		return false
	}
	if restoreTimeout <= 0 {
		restoreTimeout = DefaultRestoreTimeout
	}
	ref := s.LastContact
	if ref.IsZero() {
		ref = s.SavedAt
	}
	if ref.IsZero() {
		return true
	}
	return now.Sub(ref) >= restoreTimeout
}

// maxIDLen is the longest session id accepted.
const maxIDLen = 128

// ValidateID checks a session id: 1 to 128 characters from [A-Za-z0-9._-], starting with a
// letter or digit. So an id is always a plain file name: it cannot name a directory, go up
// with "..", or collide with the store's hidden temp and lock files.
func ValidateID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("%w: length %d (want 1 to %d)", ErrInvalidID, len(id), maxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if alnum || i > 0 && (c == '.' || c == '_' || c == '-') {
			continue
		}
		return fmt.Errorf("%w: %q: character %q at %d (allowed: letters, digits, '.', '_', '-'; first a letter or digit)",
			ErrInvalidID, id, c, i)
	}
	return nil
}
