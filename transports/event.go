package transports

import (
	"fmt"
	"time"
)

// EventKind tells what an [Event] reports.
type EventKind int

// Event kinds. The zero value is invalid so an uninitialized Event is detectable.
const (
	_ EventKind = iota
	// EventMessages: new transcript items, in order, de-duplicated (Messages),
	// and the cursor after them (Cursor). Persist the cursor after publishing.
	// Messages may be empty when only hidden items (e.g. a queue member's
	// join) moved the cursor: persist it, publish nothing.
	EventMessages
	// EventTyping: a remote party started or stopped typing, or its typing
	// indicator timed out (Typing). Drive agentTyping* events from this kind
	// only; TypingStarted/TypingStopped Messages are transcript copies.
	EventTyping
	// EventConnected: the first successful connection of a started or resumed
	// session (purecloud: the first socket open). Sends before it are queued.
	EventConnected
	// EventDisconnected: the connection was lost (Err says why). The transport
	// reconnects by itself.
	EventDisconnected
	// EventReconnected: the connection is back and the gap has been backfilled.
	// Only published after EventDisconnected.
	EventReconnected
	// EventServerOffline: the chat server went offline (GMS statusCode 1 over the limit).
	EventServerOffline
	// EventServerOnline: the chat server is back online.
	EventServerOnline
	// EventServerTimeout: GMS CometD requestNotifications went unanswered too often.
	EventServerTimeout
	// EventIdleAlert: the server will close the chat soon (IdleSecondsLeft).
	EventIdleAlert
	// EventIdleClose: the server closed the chat for inactivity; EventEnded follows.
	EventIdleClose
	// EventTransfer: an agent left but the session goes on (transfer or requeue);
	// confirmed by the server. Messages carries nothing; Participant is the agent.
	EventTransfer
	// EventSessionData: the session data changed (e.g. a rotated GMS secureKey);
	// SessionData holds the new value. Persist it.
	EventSessionData
	// EventError: a failure that is not a disconnect and does not end the
	// session (e.g. a malformed frame, a failed background lookup). Err is set.
	EventError
	// EventEnded: the session is over (Reason, optionally Err). It is the last
	// event; the channel is closed after it.
	EventEnded
)

var eventKindNames = [...]string{
	EventMessages:      "messages",
	EventTyping:        "typing",
	EventConnected:     "connected",
	EventDisconnected:  "disconnected",
	EventReconnected:   "reconnected",
	EventServerOffline: "serverOffline",
	EventServerOnline:  "serverOnline",
	EventServerTimeout: "serverTimeout",
	EventIdleAlert:     "idleAlert",
	EventIdleClose:     "idleClose",
	EventTransfer:      "transfer",
	EventSessionData:   "sessionData",
	EventError:         "error",
	EventEnded:         "ended",
}

// String returns the kind's name.
func (k EventKind) String() string {
	if k > 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// EndReason tells why a session ended.
type EndReason string

// End reasons.
const (
	// EndedByClient: End was called (or the server confirmed our own leave).
	EndedByClient EndReason = "client"
	// EndedByServer: the agent or the system ended the chat (purecloud: own
	// member DISCONNECTED; GMS: chatEnded true).
	EndedByServer EndReason = "server"
	// EndedIdle: the server closed the chat for inactivity.
	EndedIdle EndReason = "idle"
	// EndedSessionLost: the server no longer knows the session (404 …).
	EndedSessionLost EndReason = "sessionLost"
	// EndedExpired: the credentials or the restore window expired while the
	// transport could not reach the server.
	EndedExpired EndReason = "expired"
)

// TypingState is the state reported by an EventTyping.
type TypingState string

// Typing states.
const (
	TypingStarted TypingState = "started"
	// TypingStopped: the party stopped typing (explicit stop, or it sent a message).
	TypingStopped TypingState = "stopped"
	// TypingTimeout: no new indicator or message within the typing timeout.
	TypingTimeout TypingState = "timeout"
)

// Typing is the payload of an EventTyping.
type Typing struct {
	From    From        `json:"from"`
	State   TypingState `json:"state"`
	Preview string      `json:"preview,omitempty"`
}

// Event is one item of a transport's ordered event stream. Only the fields
// documented for its Kind are set.
type Event struct {
	Kind EventKind
	Time time.Time

	// EventMessages
	Messages []Message
	// Cursor after Messages (EventMessages); persist it after publishing.
	Cursor Cursor

	// EventTyping
	Typing *Typing

	// EventTransfer: the agent that left.
	Participant *From

	// EventIdleAlert: seconds until the server closes the chat (0 = unknown).
	IdleSecondsLeft int

	// EventSessionData: the new session data.
	SessionData *SessionData

	// EventEnded
	Reason EndReason

	// EventError, EventDisconnected (cause), EventEnded (cause, may be nil).
	Err error
}

// String summarizes the event without secrets or message text.
func (e Event) String() string {
	switch e.Kind {
	case EventMessages:
		return fmt.Sprintf("messages(%d)", len(e.Messages))
	case EventEnded:
		return "ended(" + string(e.Reason) + ")"
	case EventTyping:
		if e.Typing != nil {
			return "typing(" + string(e.Typing.State) + ")"
		}
	}
	return e.Kind.String()
}
