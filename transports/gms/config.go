package gms

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// Config is the part of the Widgets `webchat` configuration this transport
// reads (webchatservice.md §2.1–§2.3, gms-chat-v2.md §14.1). Its JSON names
// are the Widgets names, so a Widgets config loads as is; unknown keys (UI
// options, the purecloud section) are ignored. The zero value of every
// optional field means its documented default.
type Config struct {
	// Transport is `webchat.transport`; its type must be absent or "gms".
	Transport *TransportSection `json:"transport,omitempty"`

	// DataURL is the REST base http(s)://<host>/genesys/2/chat/<serviceName>
	// (one trailing "/" is stripped). ServerURL is an alternative name.
	// Required in REST mode, ignored in CometD mode.
	DataURL   string `json:"dataURL,omitempty"`
	ServerURL string `json:"serverURL,omitempty"`
	// EnableURLTrailingSlash (default true): Request Chat goes to dataURL + "/".
	EnableURLTrailingSlash *bool `json:"enableUrlTrailingSlash,omitempty"`
	// APIKey is sent as the header `apikey` (REST mode only, as Widgets).
	APIKey string `json:"apikey,omitempty"`
	// Endpoint is the Request Chat `endpoint` field.
	Endpoint string `json:"endpoint,omitempty"`
	// EnableCustomHeader attaches Authorization (below) to every request, the
	// CometD handshake and the WebSocket upgrade.
	EnableCustomHeader bool `json:"enableCustomHeader,omitempty"`
	// Authorization is the value of the custom Authorization header [ours:
	// Widgets takes it from App.updateAJAXHeader]. Never logged.
	Authorization string `json:"authorization,omitempty"`
	// BasicAuth turns on GMS Basic Authentication [ours]: the REST and
	// chat-ntf header, and `auth` in the CometD requestChat. Never logged.
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	// Headers are extra headers for every REST POST, long-poll POST and the
	// WebSocket upgrade [ours]. Never logged.
	Headers map[string]string `json:"headers,omitempty"`

	// UserData is the default attached data, merged under every startChat's.
	UserData map[string]any `json:"userData,omitempty"`
	// AjaxTimeout is the per-request timeout in ms (default 3000). In CometD
	// mode it also bounds the wait for an operation's answer notification.
	AjaxTimeout int `json:"ajaxTimeout,omitempty"`
	// FileUploadTimeout bounds an upload in ms (default 0 = none).
	FileUploadTimeout int `json:"fileUploadTimeout,omitempty"`

	// Polling (REST mode). Out-of-range values are clamped with a warning.
	// PollExceptionLimit (default 5): consecutive statusCode 1 answers
	// tolerated before EventServerOffline.
	PollExceptionLimit *int `json:"pollExceptionLimit,omitempty"`
	// PollRate (ms, 1000–30000, default 3000): base interval, restored on wake.
	PollRate int `json:"pollRate,omitempty"`
	// PollRateMin (ms, ≥ 250, default 500): interval right after the customer
	// sends a message or a file.
	PollRateMin int `json:"pollRateMin,omitempty"`
	// PollRateMax (ms, ≤ 30000, default 3000; alias pollIntervalIdle_ms):
	// ceiling of the dynamic back-off, and the interval while offline.
	PollRateMax        int `json:"pollRateMax,omitempty"`
	PollIntervalIdleMs int `json:"pollIntervalIdle_ms,omitempty"`
	// PollRateMult (> 1, default 1.2): back-off factor per poll.
	PollRateMult float64 `json:"pollRateMult,omitempty"`
	// PollRateSleep (ms, 1000–30000, default 30000): interval while sleeping.
	PollRateSleep int `json:"pollRateSleep,omitempty"`
	// DynamicPolling (default true): fast-then-back-off; false = constant pollRate.
	DynamicPolling *bool `json:"dynamicPolling,omitempty"`
	// SleepEnabled allows Sleep (slow polling; non-async REST only).
	SleepEnabled bool `json:"sleepEnabled,omitempty"`

	// OnlineAfter (default 2) consecutive statusCode 0 answers end an
	// offline period (1 = Widgets behaviour) [ours].
	OnlineAfter int `json:"onlineAfter,omitempty"`
	// DisconnectAfter (default 1 = Widgets) consecutive transport failures
	// (network, timeout, HTTP 5xx) raise EventDisconnected [ours].
	DisconnectAfter int `json:"disconnectAfter,omitempty"`
	// AutoCancelIdleTimer: after an IdleAlert, the customer's next typing
	// sends the cancel-idle-timer customNotice (as Widgets' wake does), so a
	// customer who is writing is not closed for inactivity even when Chat
	// Server does not count typing notices. Default false [ours].
	AutoCancelIdleTimer bool `json:"autoCancelIdleTimer,omitempty"`

	// CometD is the `cometD` section (CometD mode when Enabled).
	CometD CometDConfig `json:"cometD"`
	// Async is the `async` section (CometD mode only).
	Async AsyncConfig `json:"async"`
}

// TransportSection is `webchat.transport` as far as this transport reads it.
type TransportSection struct {
	Type string `json:"type,omitempty"`
}

// BasicAuth are GMS Basic Authentication credentials.
type BasicAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// String never prints the password.
func (b BasicAuth) String() string { return b.Username + ":[redacted]" }

// GoString is String.
func (b BasicAuth) GoString() string { return b.String() }

// CometDConfig is `webchat.cometD`.
type CometDConfig struct {
	Enabled bool `json:"enabled,omitempty"`
	// CometURL is the Bayeux endpoint, e.g. http://<gms>/genesys/cometd.
	CometURL string `json:"cometURL,omitempty"`
	// Channel is /service/chatV2/<serviceName> (default
	// "/service/chatV2/customer-support").
	Channel string `json:"channel,omitempty"`
	// APIURL is the file API …/genesys/2/chat-ntf; without it file transfer
	// is unavailable in CometD mode.
	APIURL string `json:"apiURL,omitempty"`
	// WebsocketEnabled (default true): WebSocket first, long-polling fallback;
	// false: long-polling only.
	WebsocketEnabled *bool `json:"websocketEnabled,omitempty"`
	// LogLevel is accepted for compatibility (the Logger option decides).
	LogLevel string `json:"logLevel,omitempty"`
	// NotificationRetry is how long, in ms, a requestNotifications sent after a
	// reconnect waits for its answer before it is sent again (default 3000, as
	// Widgets) [ours].
	NotificationRetry int `json:"notificationRetry,omitempty"`
	// ServerTimeoutAfter is how many unanswered requestNotifications in a row
	// raise chatServerTimeout (default 30, as Widgets: 90 s at the default
	// retry) [ours].
	ServerTimeoutAfter int `json:"serverTimeoutAfter,omitempty"`
}

// AsyncConfig is `webchat.async`.
type AsyncConfig struct {
	Enabled bool `json:"enabled,omitempty"`
	// MaxMessagePageSize is the fetchHistory page size (default 20).
	MaxMessagePageSize int `json:"maxMessagePageSize,omitempty"`
}

// Defaults (gms-chat-v2.md §14.1, webchatservice.md §2.1).
const (
	DefaultAjaxTimeout        = 3 * time.Second
	DefaultPollExceptionLimit = 5
	DefaultPollRate           = 3 * time.Second
	DefaultPollRateMin        = 500 * time.Millisecond
	DefaultPollRateMax        = 3 * time.Second
	DefaultPollRateMult       = 1.2
	DefaultPollRateSleep      = 30 * time.Second
	DefaultOnlineAfter        = 2
	DefaultDisconnectAfter    = 1
	DefaultChannel            = "/service/chatV2/customer-support"
	DefaultPageSize           = 20
	// MaxPollInterval caps every poll interval: Chat Server drops a REST
	// client silent for 45 s (flex-disconnect-timeout).
	MaxPollInterval = 30 * time.Second
	// NotificationRetry is how long a CometD requestNotifications waits for
	// its answer before it is published again (Widgets: 3 s).
	NotificationRetry = 3 * time.Second
	// ServerTimeoutAfter unanswered requestNotifications raise
	// EventServerTimeout (Widgets: 30).
	ServerTimeoutAfter = 30
	// HandshakeAttempts is the cap of consecutive failed handshakes while a
	// CometD chat starts (Widgets: 5).
	HandshakeAttempts = 5
)

// Mode is how the transport talks to GMS.
type Mode string

// Modes.
const (
	ModeREST   Mode = "rest"
	ModeCometD Mode = "cometd"
)

// settings is a validated Config.
type settings struct {
	cfg           Config
	mode          Mode
	restBase      string // REST base without trailing "/"
	trailingSlash bool
	cometURL      string
	channel       string
	service       string
	apiURL        string
	websocket     bool
	header        http.Header // extra headers for every request (secrets: never logged)
	apikey        string
	basic         *wire.Auth

	ajaxTimeout   time.Duration
	uploadTimeout time.Duration
	pollLimit     int
	pollRate      time.Duration
	pollMin       time.Duration
	pollMax       time.Duration
	pollMult      float64
	pollSleep     time.Duration
	dynamic       bool
	sleepEnabled  bool
	onlineAfter   int
	discAfter     int
	async         bool
	pageSize      int

	notifyRetry  time.Duration // CometD requestNotifications retry
	timeoutAfter int           // unanswered requestNotifications before EventServerTimeout

	// Tuning that is not configuration (tests shorten it).
	bayeuxBackoff    time.Duration // bayeux.Options.BackoffIncrement
	handshakeCap     int           // consecutive failed handshakes per attempt
	rehandshakeDelay time.Duration // first delay before a new Bayeux client after a terminal failure
	sendBackoff      transports.Backoff
}

func ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }

// ParseConfig decodes and validates a Widgets `webchat` JSON section. The
// error wraps transports.ErrInvalidConfig and names each bad field.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if err := transports.DecodeConfig(raw, &c); err != nil {
		return Config{}, err
	}
	if _, err := c.settings(zerolog.Nop()); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Mode reports the mode the configuration selects.
func (c Config) Mode() Mode {
	if c.CometD.Enabled {
		return ModeCometD
	}
	return ModeREST
}

// settings validates c; out-of-range poll values are clamped with a warning
// on log. The error wraps transports.ErrInvalidConfig and names every bad field.
func (c Config) settings(log zerolog.Logger) (settings, error) {
	var errs []string
	bad := func(field, format string, a ...any) {
		errs = append(errs, "webchat."+field+": "+fmt.Sprintf(format, a...))
	}
	warn := func(field string, got, used any) {
		log.Warn().Str("option", "webchat."+field).Interface("got", got).Interface("used", used).Msg("gms: option out of range, clamped")
	}
	s := settings{
		cfg: c, mode: c.Mode(), trailingSlash: c.EnableURLTrailingSlash == nil || *c.EnableURLTrailingSlash,
		websocket: c.CometD.WebsocketEnabled == nil || *c.CometD.WebsocketEnabled,
		dynamic:   c.DynamicPolling == nil || *c.DynamicPolling, sleepEnabled: c.SleepEnabled,
		async: c.Async.Enabled, apikey: c.APIKey, header: http.Header{},
		notifyRetry: NotificationRetry, timeoutAfter: ServerTimeoutAfter, handshakeCap: HandshakeAttempts,
		rehandshakeDelay: time.Second,
		sendBackoff:      transports.Backoff{Initial: 250 * time.Millisecond, Max: 5 * time.Second},
	}
	if c.Transport != nil && c.Transport.Type != "" && c.Transport.Type != transports.TypeGMS {
		bad("transport.type", "%q is not %q", c.Transport.Type, transports.TypeGMS)
	}
	checkURL := func(field, v string, schemes ...string) (string, bool) {
		u, err := url.Parse(strings.TrimSpace(v))
		ok := err == nil && u.Host != ""
		if ok {
			ok = false
			for _, sc := range schemes {
				ok = ok || u.Scheme == sc
			}
		}
		if !ok {
			bad(field, "must be an absolute %s URL", strings.Join(schemes, "/"))
			return "", false
		}
		return u.String(), true
	}
	switch s.mode {
	case ModeREST:
		base := c.DataURL
		field := "dataURL"
		if base == "" {
			base, field = c.ServerURL, "serverURL"
		}
		if base == "" {
			bad("dataURL", "required in REST mode (cometD.enabled is false)")
		} else if u, ok := checkURL(field, base, "http", "https"); ok {
			s.restBase = strings.TrimSuffix(u, "/")
		}
		if c.Async.Enabled {
			bad("async.enabled", "Invalid configuration. WebChatService supports Async chat only in CometD mode.")
		}
	case ModeCometD:
		if c.CometD.CometURL == "" {
			bad("cometD.cometURL", "required when cometD.enabled is true")
		} else if u, ok := checkURL("cometD.cometURL", c.CometD.CometURL, "http", "https", "ws", "wss"); ok {
			s.cometURL = u
		}
		s.channel = c.CometD.Channel
		if s.channel == "" {
			s.channel = DefaultChannel
		}
		if svc, ok := wire.ServiceFromChannel(s.channel); ok {
			s.service = svc
		} else {
			bad("cometD.channel", "must be %s<serviceName>, got %q", wire.ServiceChannelPrefix, s.channel)
		}
		if c.CometD.APIURL != "" {
			if u, ok := checkURL("cometD.apiURL", c.CometD.APIURL, "http", "https"); ok {
				s.apiURL = u
			}
		}
	}
	switch n := c.CometD.NotificationRetry; {
	case n < 0:
		bad("cometD.notificationRetry", "must be a positive number of ms, got %d", n)
	case n > 0:
		s.notifyRetry = ms(n)
	}
	switch n := c.CometD.ServerTimeoutAfter; {
	case n < 0:
		bad("cometD.serverTimeoutAfter", "must be a positive count, got %d", n)
	case n > 0:
		s.timeoutAfter = n
	}
	for k, v := range c.Headers {
		if k == "" || strings.ContainsAny(k, " \t\r\n:") || strings.ContainsAny(v, "\r\n") {
			bad("headers", "invalid header %q", k)
			continue
		}
		s.header.Set(k, v)
	}
	if c.EnableCustomHeader && c.Authorization != "" {
		if strings.ContainsAny(c.Authorization, "\r\n") {
			bad("authorization", "must not contain line breaks")
		} else {
			s.header.Set("Authorization", c.Authorization)
		}
	}
	if b := c.BasicAuth; b != nil {
		if b.Username == "" || strings.Contains(b.Username, ":") {
			bad("basicAuth.username", "required and must not contain ':'")
		} else {
			s.basic = &wire.Auth{Username: b.Username, Password: b.Password}
			if s.header.Get("Authorization") == "" {
				s.header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(b.Username+":"+b.Password)))
			}
		}
	}

	dur := func(field string, v int, def time.Duration) time.Duration {
		switch {
		case v < 0:
			bad(field, "must not be negative, got %d", v)
			return def
		case v == 0:
			return def
		}
		return ms(v)
	}
	clamp := func(field string, d, lo, hi time.Duration) time.Duration {
		switch {
		case lo > 0 && d < lo:
			warn(field, d.Milliseconds(), lo.Milliseconds())
			return lo
		case hi > 0 && d > hi:
			warn(field, d.Milliseconds(), hi.Milliseconds())
			return hi
		}
		return d
	}
	s.ajaxTimeout = dur("ajaxTimeout", c.AjaxTimeout, DefaultAjaxTimeout)
	s.uploadTimeout = dur("fileUploadTimeout", c.FileUploadTimeout, 0)
	s.pollRate = clamp("pollRate", dur("pollRate", c.PollRate, DefaultPollRate), time.Second, MaxPollInterval)
	s.pollMin = clamp("pollRateMin", dur("pollRateMin", c.PollRateMin, DefaultPollRateMin), 250*time.Millisecond, MaxPollInterval)
	maxField, maxV := "pollRateMax", c.PollRateMax
	if maxV == 0 && c.PollIntervalIdleMs != 0 {
		maxField, maxV = "pollIntervalIdle_ms", c.PollIntervalIdleMs
	}
	s.pollMax = clamp(maxField, dur(maxField, maxV, DefaultPollRateMax), s.pollMin, MaxPollInterval)
	s.pollSleep = clamp("pollRateSleep", dur("pollRateSleep", c.PollRateSleep, DefaultPollRateSleep), time.Second, MaxPollInterval)
	s.pollMult = c.PollRateMult
	switch {
	case s.pollMult == 0:
		s.pollMult = DefaultPollRateMult
	case s.pollMult < 0:
		bad("pollRateMult", "must be greater than 1, got %v", c.PollRateMult)
	case s.pollMult <= 1:
		warn("pollRateMult", s.pollMult, DefaultPollRateMult)
		s.pollMult = DefaultPollRateMult
	}
	s.pollLimit = DefaultPollExceptionLimit
	if c.PollExceptionLimit != nil {
		if *c.PollExceptionLimit < 0 {
			bad("pollExceptionLimit", "must not be negative, got %d", *c.PollExceptionLimit)
		} else {
			s.pollLimit = *c.PollExceptionLimit
		}
	}
	count := func(field string, v, def int) int {
		switch {
		case v < 0:
			bad(field, "must not be negative, got %d", v)
			return def
		case v == 0:
			return def
		}
		return v
	}
	s.onlineAfter = count("onlineAfter", c.OnlineAfter, DefaultOnlineAfter)
	s.discAfter = count("disconnectAfter", c.DisconnectAfter, DefaultDisconnectAfter)
	s.pageSize = count("async.maxMessagePageSize", c.Async.MaxMessagePageSize, DefaultPageSize)
	for k, v := range c.UserData {
		if _, err := flatValue(v); err != nil {
			bad("userData."+k, "%v", err)
		}
	}
	if len(errs) > 0 {
		return settings{}, fmt.Errorf("%w: %s", transports.ErrInvalidConfig, strings.Join(errs, "; "))
	}
	if s.mode == ModeCometD {
		s.pollLimit = 0 // CometD: the first statusCode 1 answer means offline (§4.6)
		s.onlineAfter = 1
	}
	return s, nil
}

// flatValue turns a userData value into the string GMS carries: strings as
// they are, anything else as JSON (gms-chat-v2.md §3.1).
func flatValue(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil:
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cannot be encoded: %v", err)
	}
	return string(b), nil
}

// flatten merges maps (later ones win) into GMS string userData.
func flatten(maps ...map[string]any) map[string]string {
	var out map[string]string
	for _, m := range maps {
		for k, v := range m {
			s, err := flatValue(v)
			if err != nil {
				continue
			}
			if out == nil {
				out = make(map[string]string)
			}
			out[k] = s
		}
	}
	return out
}
