package webchatservice

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cxbus/webchat/bus"
	"github.com/cxbus/webchat/transports"
)

// Mode is how the service talks to the contact center (spec §1).
type Mode string

// Modes.
const (
	// ModeREST is GMS Chat V2 over REST with polling (transport.type absent, cometD.enabled false).
	ModeREST Mode = "rest"
	// ModeCometD is GMS Chat V2 over CometD (transport.type absent, cometD.enabled true).
	ModeCometD Mode = "cometd"
	// ModePureCloud is Genesys Cloud guest chat v2 (transport.type "purecloud-v2-sockets").
	ModePureCloud Mode = "purecloud"
)

// Send modes for Config.SendWhileDisconnected.
const (
	SendQueue  = "queue"
	SendReject = "reject"
)

// Defaults of the options the service itself reads (the transports read and default the rest).
const (
	DefaultRestoreTimeout      = 60 * time.Second
	DefaultOutboxLimit         = 100
	DefaultPureCloudTypingWait = 4 * time.Second
	// ClientTypingIdle is how long after the last sendTyping the client's typing stops (spec §6.5).
	ClientTypingIdle = 2 * time.Second
)

// Config mirrors Genesys Widgets' `_genesys.widgets.webchat` object with the same JSON names, so
// a Widgets configuration loads as is. Only the options the service itself uses are fields here;
// the whole object (UI options included) is handed to the transport, which reads and validates
// its own options (dataURL, cometD, poll rates, transport.*). Zero values mean "default".
type Config struct {
	// Transport is the `transport` section (Genesys Cloud). Its `type` picks the transport:
	// absent → GMS (REST or CometD by cometD.enabled), "purecloud-v2-sockets" → Genesys Cloud.
	Transport *TransportSection `json:"transport,omitempty"`
	// UserData is the default attached data, merged under every startChat's userData.
	UserData map[string]any `json:"userData,omitempty"`
	// MaxMessageLength rejects longer sendMessage texts (code points). 0: no limit.
	MaxMessageLength int `json:"maxMessageLength,omitempty" validate:"gte=0"`
	// RestoreTimeout (ms) is the maximum age of the last server contact for a restore. Default 60000.
	RestoreTimeout int `json:"restoreTimeout,omitempty" validate:"gte=0"`
	// SleepEnabled allows sleep (slow polling) in GMS REST mode.
	SleepEnabled bool `json:"sleepEnabled,omitempty"`
	// CometD is the `cometD` section; only `enabled` is read here.
	CometD *struct {
		Enabled bool `json:"enabled"`
	} `json:"cometD,omitempty"`
	// Async is the `async` section (CometD only).
	Async *struct {
		Enabled            bool `json:"enabled"`
		MaxMessagePageSize int  `json:"maxMessagePageSize,omitempty"`
	} `json:"async,omitempty"`
	// SendWhileDisconnected: "queue" (default) keeps sendMessage pending until reconnected;
	// "reject" rejects at once with "Not connected to the chat server. Message was not sent.".
	SendWhileDisconnected string `json:"sendWhileDisconnected,omitempty" validate:"omitempty,oneof=queue reject"`
	// OutboxLimit is the most outgoing messages queued per session. Default 100.
	OutboxLimit int `json:"outboxLimit,omitempty" validate:"gte=0"`
	// AgentTypingTimeout (ms): agentTypingTimeout after this long without a new indicator.
	// Default 4000 for Genesys Cloud, off for GMS; the transport applies it.
	AgentTypingTimeout *int `json:"agentTypingTimeout,omitempty" validate:"omitempty,gte=0"`
}

// TransportSection is the part of `transport` the service reads.
type TransportSection struct {
	Type             string `json:"type,omitempty"`
	BotEventsEnabled bool   `json:"botEventsEnabled,omitempty"`
	Pagination       *bool  `json:"pagination,omitempty"`
}

// settings are the parsed, defaulted options.
type settings struct {
	raw             json.RawMessage
	cfg             Config
	mode            Mode
	transportType   string
	restoreTimeout  time.Duration
	outboxLimit     int
	rejectWhileDown bool
	botEvents       bool
	async           bool
}

// parseConfig turns a configure payload (a Config, *Config, map or JSON) into settings. It
// checks the rules of spec §3.3; the transport checks its own options when it is built.
func parseConfig(v any) (*settings, error) {
	raw, err := configJSON(v)
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, &ConfigError{Kind: ErrInvalidConfiguration, Fields: []string{jsonProblem(err)}, Err: err}
	}
	if err := bus.Validate(cfg); err != nil {
		var fe bus.FieldErrors
		if errors.As(err, &fe) {
			return nil, &ConfigError{Kind: ErrInvalidConfiguration, Fields: fe}
		}
		return nil, &ConfigError{Kind: ErrInvalidConfiguration, Err: err}
	}
	s := &settings{raw: raw, cfg: cfg, outboxLimit: DefaultOutboxLimit, restoreTimeout: DefaultRestoreTimeout}
	switch {
	case cfg.Transport == nil || cfg.Transport.Type == "":
		s.transportType = transports.TypeGMS
		s.mode = ModeREST
		if cfg.CometD != nil && cfg.CometD.Enabled {
			s.mode = ModeCometD
		}
		s.botEvents = true
	case cfg.Transport.Type == transports.TypePureCloud:
		s.transportType = transports.TypePureCloud
		s.mode = ModePureCloud
		s.botEvents = cfg.Transport.BotEventsEnabled
	default:
		return nil, &ConfigError{Kind: ErrInvalidTransportConfiguration, Fields: []string{fmt.Sprintf("transport.type: %q is not supported", cfg.Transport.Type)}}
	}
	if cfg.Async != nil && cfg.Async.Enabled {
		if s.mode != ModeCometD {
			return nil, ErrAsyncOnlyCometD
		}
		s.async = true
	}
	if cfg.RestoreTimeout > 0 {
		s.restoreTimeout = time.Duration(cfg.RestoreTimeout) * time.Millisecond
	}
	if cfg.OutboxLimit > 0 {
		s.outboxLimit = cfg.OutboxLimit
	}
	s.rejectWhileDown = cfg.SendWhileDisconnected == SendReject
	return s, nil
}

// configJSON accepts the configure payload in any of its shapes and returns the JSON object.
func configJSON(v any) (json.RawMessage, error) {
	var raw []byte
	switch c := v.(type) {
	case nil:
		return nil, ErrInvalidConfiguration
	case json.RawMessage:
		raw = c
	case []byte:
		raw = c
	case string:
		raw = []byte(c)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, &ConfigError{Kind: ErrInvalidConfiguration, Err: err}
		}
		raw = b
	}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' || !json.Valid(raw) {
		return nil, ErrInvalidConfiguration
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil || len(probe) == 0 {
		return nil, ErrInvalidConfiguration
	}
	return raw, nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("%s: must be %s, got %s", te.Field, te.Type.String(), te.Value)
	}
	return err.Error()
}

// transportConfigError maps a transport factory error to the configure rejection.
func transportConfigError(err error) error {
	if errors.Is(err, transports.ErrUnknownType) {
		return &ConfigError{Kind: ErrInvalidTransportConfiguration, Err: err}
	}
	return &ConfigError{Kind: ErrInvalidConfiguration, Err: err}
}
