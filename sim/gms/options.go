package gms

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/bayeux"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// Defaults of the Options knobs.
const (
	DefaultFlexDisconnectTimeout = 45 * time.Second  // Chat Server settings/flex-disconnect-timeout
	DefaultKeyGrace              = 30 * time.Second  // old secureKey accepted after a move
	DefaultEndedRetention        = 60 * time.Second  // an ended chat still answers refresh
	DefaultIdleAlert             = 255 * time.Second // inactivity-control/timeout-alert
	DefaultIdleClose             = 45 * time.Second  // inactivity-control/timeout-close
	DefaultMaxRequestBytes       = 64 << 10
	DefaultAgentJoinDelay        = time.Second
	DefaultReplyDelay            = 500 * time.Millisecond
	DefaultIdleAlertText         = "Are you still there? The chat will close soon."
	DefaultIdleCloseText         = "The chat was closed because of inactivity."
	DefaultSystemNickname        = "system"
)

// Clock is the simulator's time source (the transports contract's clock, so
// one *transports.FakeClock can drive a client and the simulator together).
type Clock = transports.Clock

// Options configures a Server. The zero value works: any service name, no
// authentication, the default script (an agent joins after 1 s, greets and
// echoes), idle control off, flex-disconnect-timeout 45 s for REST chats,
// Chat Server default file limits. For every duration, zero means the
// documented default and a negative value means "off" (or "no delay").
type Options struct {
	// Services, when non-empty, are the only chat service names served;
	// others get HTTP 404 with error 306 (CometD: statusCode 2, 306).
	Services []string

	// BasicAuth, when set, is required: REST and chat-ntf requests need the
	// Authorization: Basic header; CometD requestChat needs data.auth.
	BasicAuth *Credentials
	// APIKey, when set, is required in the apikey header of REST requests.
	APIKey string

	// Script is the agent side run for every new chat. Nil means
	// DefaultScript(); &Script{} runs nothing (drive the agent from Go or the
	// control API). ScriptFor, when set, picks a script per chat (nil result:
	// Script).
	Script    *Script
	ScriptFor func(c *Chat) *Script

	// Idle is Chat Server inactivity control; off unless Idle.Enabled.
	Idle IdleOptions
	// FlexDisconnectTimeout closes a chat whose REST client sent no request
	// for this long (Client ParticipantLeft + chatEnded). Default 45 s;
	// negative: off. FlexDisconnectCometD applies it to CometD chats too
	// (off by default: GMS holds their Chat Server connection).
	FlexDisconnectTimeout time.Duration
	FlexDisconnectCometD  bool

	// KeyGrace is how long the old secureKey keeps working after the chat
	// moved to another Chat Server (MoveChatServer). Default 30 s.
	KeyGrace time.Duration
	// EndedRetention is how long an ended chat still answers refresh and
	// requestNotifications (statusCode 0, chatEnded:true, the last events)
	// before it is forgotten. Default 60 s.
	EndedRetention time.Duration

	// FileLimits are the per-chat file limits; nil means
	// wire.DefaultFileLimits(). The used-* fields are ignored.
	FileLimits *wire.FileLimits

	// HexParticipantIDs sends participantId as 16-hex-digit strings instead
	// of numbers (1 for the client, 2, 3, … for others).
	HexParticipantIDs bool
	// SkipIndexEvery > 0 leaves a gap in the transcript indexes after every
	// n-th event (GMS does not deliver every Chat Server event).
	SkipIndexEvery int
	// CometDDeprecatedIDs sends "userId":"deprecated","chatId":"deprecated"
	// in CometD notifications; CometDMonitored adds "monitored":false.
	CometDDeprecatedIDs bool
	CometDMonitored     bool
	// StrictPushKeys rejects a requestNotifications whose push_notification_*
	// userData differs from the requestChat's (statusCode 2).
	StrictPushKeys bool
	// LenientContentType accepts any request content type (default: only
	// application/x-www-form-urlencoded and multipart/form-data; others 415).
	LenientContentType bool
	// MaxRequestBytes bounds form bodies (64 KiB); uploads are bounded by the
	// file limits.
	MaxRequestBytes int64

	// Codes overrides the error codes the simulator uses where GMS documents
	// none; zero fields keep the wire.Code* defaults.
	Codes Codes

	// Bayeux configures the CometD server at /genesys/cometd. Its Logger
	// is replaced by Logger; its Clock stays the wall clock unless set (held
	// connects and session expiry are real-time by default even when Clock
	// is fake). OnSessionOpen/OnSessionClose are chained after the
	// simulator's own hooks.
	Bayeux bayeux.ServerOptions

	// DisableControlAPI turns off the /_sim/ HTTP control API.
	// ControlAPIAnyHost serves it to non-loopback peers too.
	DisableControlAPI bool
	ControlAPIAnyHost bool

	// Clock drives every timer and utcTime (real time when nil). Rand is the
	// id source (crypto/rand when nil).
	Clock Clock
	Rand  io.Reader

	// Logger receives debug logs. Secure keys, credentials and api keys are
	// never logged.
	Logger zerolog.Logger
}

// Credentials are Basic Authentication credentials.
type Credentials struct {
	Username string
	Password string
}

// String never prints the password.
func (c Credentials) String() string { return c.Username + ":[redacted]" }

// IdleOptions mirror Chat Server's inactivity-control section (§10).
type IdleOptions struct {
	Enabled bool
	// Alert is timeout-alert (255 s), Alert2 the optional second alert
	// (timeout-alert2, counted from the first; 0: none), Close is
	// timeout-close counted from the last alert (45 s).
	Alert, Alert2, Close time.Duration
	// AlertText and CloseText are message-alert and message-close.
	AlertText, CloseText string
	// IncludeNotices is include-notices: "none" (default), "major" (push URL,
	// file uploaded/deleted), "major2" (+ custom notices), "typing", "all".
	// Joins, leaves and messages always count as activity, and so does a
	// customNotice with eventAttributes {"purpose":"cancel-idle-timer"}.
	IncludeNotices string
}

// Codes are the error codes for failures GMS documents no code for.
type Codes struct {
	InvalidRequest   int // wire.CodeInvalidRequest
	SessionNotFound  int // wire.CodeSessionNotFound
	NotAuthorized    int // wire.CodeNotAuthorized
	UploadNeedsAgent int // wire.CodeUploadNeedsAgent
	FileTooLarge     int // wire.CodeTotalSizeExceeded (advice = upload-max-file-size)
	FileNotFound     int // wire.CodeFileNotFound
	DownloadLimit    int // wire.CodeDownloadLimit
	DeleteForbidden  int // wire.CodeDeleteForbidden
	PushKeysMismatch int // wire.CodePushKeysMismatch
}

func (c Codes) withDefaults() Codes {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.InvalidRequest, wire.CodeInvalidRequest)
	def(&c.SessionNotFound, wire.CodeSessionNotFound)
	def(&c.NotAuthorized, wire.CodeNotAuthorized)
	def(&c.UploadNeedsAgent, wire.CodeUploadNeedsAgent)
	def(&c.FileTooLarge, wire.CodeTotalSizeExceeded)
	def(&c.FileNotFound, wire.CodeFileNotFound)
	def(&c.DownloadLimit, wire.CodeDownloadLimit)
	def(&c.DeleteForbidden, wire.CodeDeleteForbidden)
	def(&c.PushKeysMismatch, wire.CodePushKeysMismatch)
	return c
}

// Reply is a scripted agent answer to a client message.
type Reply struct {
	// Match is a case-insensitive substring of the client's text; empty
	// matches every message. The first matching Reply answers.
	Match string `json:"match,omitempty"`
	Text  string `json:"text"`
	// Delay before answering (Script.ReplyDelay when 0; negative: none).
	Delay time.Duration `json:"delay,omitempty"`
	// Typing sends TypingStarted before the answer.
	Typing bool `json:"typing,omitempty"`
}

// Script is the agent side every chat runs after requestChat.
type Script struct {
	// Agent is the nickname of the agent that joins after JoinDelay; empty:
	// no agent joins by itself.
	Agent     string
	JoinDelay time.Duration
	// Bot makes the agent a bot (eventAttributes GCTI_SYSTEM.party-info.style=BOT).
	Bot bool
	// Greeting is said by the agent once it has joined.
	Greeting string
	// Replies are tried first; then Echo repeats the client's text with
	// EchoPrefix. ReplyDelay (500 ms) and ReplyTyping apply to both.
	Replies     []Reply
	Echo        bool
	EchoPrefix  string
	ReplyDelay  time.Duration
	ReplyTyping bool
	// OnClientMessage, when set, is called (outside the simulator's locks,
	// on a goroutine the simulator owns) for every client Message.
	OnClientMessage func(c *Chat, ev wire.Event)
}

// DefaultScript: agent "Agent" joins after 1 s, greets, and echoes.
func DefaultScript() *Script {
	return &Script{Agent: "Agent", JoinDelay: DefaultAgentJoinDelay, Greeting: "Hello! How can I help you?",
		Echo: true, EchoPrefix: "You said: ", ReplyDelay: DefaultReplyDelay}
}

type settings struct {
	flex, keyGrace, retention    time.Duration
	idleAlert, idleAlert2, idleC time.Duration
	maxBody                      int64
	limits                       wire.FileLimits
	codes                        Codes
}

func pick(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func (o *Options) settings() (settings, error) {
	var errs []error
	if o.MaxRequestBytes < 0 {
		errs = append(errs, fmt.Errorf("gms: Options.MaxRequestBytes is negative (%d)", o.MaxRequestBytes))
	}
	if o.SkipIndexEvery < 0 {
		errs = append(errs, fmt.Errorf("gms: Options.SkipIndexEvery is negative (%d)", o.SkipIndexEvery))
	}
	if o.BasicAuth != nil && o.BasicAuth.Username == "" {
		errs = append(errs, errors.New("gms: Options.BasicAuth has no Username"))
	}
	switch o.Idle.IncludeNotices {
	case "", "none", "major", "major2", "typing", "all":
	default:
		errs = append(errs, fmt.Errorf("gms: Options.Idle.IncludeNotices %q is not none, major, major2, typing or all", o.Idle.IncludeNotices))
	}
	for _, s := range o.Services {
		if _, ok := wire.ServiceFromChannel(wire.ServiceChannel(s)); !ok {
			errs = append(errs, fmt.Errorf("gms: Options.Services: %q is not a valid service name", s))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return settings{}, err
	}
	st := settings{
		flex:       pick(o.FlexDisconnectTimeout, DefaultFlexDisconnectTimeout),
		keyGrace:   pick(o.KeyGrace, DefaultKeyGrace),
		retention:  pick(o.EndedRetention, DefaultEndedRetention),
		idleAlert:  pick(o.Idle.Alert, DefaultIdleAlert),
		idleAlert2: pick(o.Idle.Alert2, -1),
		idleC:      pick(o.Idle.Close, DefaultIdleClose),
		maxBody:    o.MaxRequestBytes,
		codes:      o.Codes.withDefaults(),
	}
	if st.maxBody == 0 {
		st.maxBody = DefaultMaxRequestBytes
	}
	if o.FileLimits != nil {
		st.limits = *o.FileLimits
		st.limits.UploadFileTypes = append([]string(nil), o.FileLimits.UploadFileTypes...)
	} else {
		st.limits = wire.DefaultFileLimits()
	}
	st.limits.UsedUploadMaxFiles, st.limits.UsedUploadMaxTotalSize, st.limits.UsedDownloadAttempts = 0, 0, 0
	return st, nil
}
