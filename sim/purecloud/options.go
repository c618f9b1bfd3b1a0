package purecloud

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// Defaults of the Options knobs (spec §12.5).
const (
	DefaultHeartbeatInterval = 10 * time.Second
	DefaultIdleTimeout       = 15 * time.Minute
	DefaultDetachTimeout     = 15 * time.Minute
	DefaultJWTTTL            = 24 * time.Hour
	DefaultRoutingDelay      = 500 * time.Millisecond
	DefaultAlertDelay        = time.Second
	DefaultAnswerDelay       = 2 * time.Second
	DefaultCloseGrace        = time.Second
	DefaultMaxRequestBytes   = 64 << 10
	DefaultWriteTimeout      = 10 * time.Second
)

// Options configures a Simulator. The zero value works: an open deployment
// (any org, deployment and queue accepted), the default script (§7.2) and
// the defaults above. For every duration, zero means the documented default
// and a negative value means "none": no delay, or the feature off.
type Options struct {
	// Deployments, when non-empty, are the only deployments accepted by
	// create. Nil accepts any deploymentId/organizationId/queue.
	Deployments []Deployment
	// VerifyMemberAuthToken checks memberAuthToken for deployments that
	// require authentication. Nil accepts any well-formed JWT.
	VerifyMemberAuthToken func(deploymentID, token string) bool

	HeartbeatInterval time.Duration // channel.metadata heartbeat period (10 s)
	IdleTimeout       time.Duration // no guest message or typing → end (15 min)
	DetachTimeout     time.Duration // no guest socket → end (15 min)
	JWTTTL            time.Duration // token lifetime (24 h)
	RoutingDelay      time.Duration // first attach → routing starts (500 ms)
	AlertDelay        time.Duration // routing → agent ALERTING (1 s)
	AnswerDelay       time.Duration // ALERTING → CONNECTED (2 s)
	CloseGrace        time.Duration // end → sockets closed with 1001 (1 s)
	WriteTimeout      time.Duration // per WebSocket write (10 s)

	// Script is the member and agent timeline of every conversation. Nil
	// means DefaultScript(). ScriptFor, when set, picks a script per create
	// request and wins over Script (a nil result falls back to Script).
	Script    *Script
	ScriptFor func(req *wire.CreateWebChatConversationRequest) *Script

	// Strict rejects a guest bodyType other than standard/notice with 400;
	// the default stores it as standard, as the live service did.
	Strict bool
	// MaxRequestBytes bounds request bodies; larger ones get 413 (64 KiB).
	MaxRequestBytes int64

	// Clock drives every timer (real time when nil). Rand feeds ids (UUIDs)
	// and is crypto/rand when nil. FaultSeed seeds probabilistic faults.
	Clock     Clock
	Rand      io.Reader
	FaultSeed uint64

	// SigningKey signs the guest JWTs (RS256). Nil uses a 2048-bit key
	// generated once per process (each Simulator still has its own key id).
	SigningKey *rsa.PrivateKey
	// EventStreamBase overrides the scheme and host of eventStreamUri
	// (e.g. "wss://chat.example.com"); by default it is built from the
	// request's own host and scheme.
	EventStreamBase string

	// DisableControlAPI turns off the /_sim/ admin API. ControlAPIAnyHost
	// serves it to non-loopback peers too (off: loopback only).
	DisableControlAPI bool
	ControlAPIAnyHost bool

	// Logger receives debug logs; JWTs are never logged.
	Logger zerolog.Logger
}

// Deployment is a configured web chat deployment.
type Deployment struct {
	ID             string
	OrganizationID string
	// AuthenticationRequired demands a valid memberAuthToken on create.
	AuthenticationRequired bool
	// Queues lists the accepted routingTarget.targetAddress values; empty
	// accepts any queue.
	Queues []string
}

// AgentProfile describes an agent the simulator routes to the chat.
type AgentProfile struct {
	Name      string `json:"name,omitempty"`
	AvatarURL string `json:"avatarUrl,omitempty"`
}

// Reply is a scripted agent answer to a guest message.
type Reply struct {
	// Match is a case-insensitive substring of the guest's text; empty
	// matches every message. The first matching Reply answers.
	Match string `json:"match,omitempty"`
	// Text is what the agent says.
	Text string `json:"text"`
	// Delay is the pause before answering; Typing sends a typing
	// indicator first.
	Delay  time.Duration `json:"-"`
	Typing bool          `json:"typing,omitempty"`
}

// Script is the lifecycle every conversation runs after its first socket
// attach (routing never starts before).
type Script struct {
	// Workflow lets an Architect flow (role WORKFLOW) join, optionally post
	// WorkflowGreeting as a notice, and leave.
	Workflow         bool
	WorkflowName     string
	WorkflowGreeting string
	// ACD adds the queue placeholder member (role ACD) while the agent rings.
	ACD bool
	// Agent is routed after AlertDelay (ALERTING), then AnswerDelay
	// (CONNECTED + member-join). Nil: no agent is ever routed.
	Agent *AgentProfile
	// AgentGreeting is said by the agent once it has joined.
	AgentGreeting string
	// Echo makes the agent repeat each guest message, prefixed by
	// EchoPrefix, after ReplyDelay (with a typing indicator if ReplyTyping).
	Echo        bool
	EchoPrefix  string
	ReplyDelay  time.Duration
	ReplyTyping bool
	// Replies are scripted answers, tried before Echo.
	Replies []Reply
	// OnGuestMessage, when set, is called (in its own goroutine) for each
	// guest standard or notice message once an agent is connected.
	OnGuestMessage func(c *Conversation, m wire.WebChatMessage)
}

// DefaultScript is the §7.2 timeline: a WORKFLOW member joins and leaves,
// an ACD member holds the chat, and agent "Agent" rings then answers.
func DefaultScript() *Script {
	return &Script{Workflow: true, ACD: true, Agent: &AgentProfile{Name: "Agent"}}
}

type settings struct {
	heartbeat, idle, detach, jwtTTL       time.Duration
	routing, alert, answer, grace, wTimer time.Duration
	maxBody                               int64
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
	for _, d := range o.Deployments {
		if d.ID == "" {
			errs = append(errs, errors.New("purecloud: Options.Deployments: a deployment has no ID"))
		}
	}
	if o.MaxRequestBytes < 0 {
		errs = append(errs, fmt.Errorf("purecloud: Options.MaxRequestBytes is negative (%d)", o.MaxRequestBytes))
	}
	if o.JWTTTL < 0 {
		errs = append(errs, fmt.Errorf("purecloud: Options.JWTTTL is negative (%s)", o.JWTTTL))
	}
	if err := errors.Join(errs...); err != nil {
		return settings{}, err
	}
	s := settings{
		heartbeat: pick(o.HeartbeatInterval, DefaultHeartbeatInterval),
		idle:      pick(o.IdleTimeout, DefaultIdleTimeout),
		detach:    pick(o.DetachTimeout, DefaultDetachTimeout),
		jwtTTL:    pick(o.JWTTTL, DefaultJWTTTL),
		routing:   pick(o.RoutingDelay, DefaultRoutingDelay),
		alert:     pick(o.AlertDelay, DefaultAlertDelay),
		answer:    pick(o.AnswerDelay, DefaultAnswerDelay),
		grace:     pick(o.CloseGrace, DefaultCloseGrace),
		wTimer:    pick(o.WriteTimeout, DefaultWriteTimeout),
		maxBody:   o.MaxRequestBytes,
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxRequestBytes
	}
	return s, nil
}
