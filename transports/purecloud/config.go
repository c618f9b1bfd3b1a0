package purecloud

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// Config is the part of the Widgets `webchat` configuration this transport
// reads (webchatservice.md §2.1, §2.4; purecloud-guest-chat.md §11.1). Its
// JSON names are the Widgets names, so a Widgets config loads as is. The
// zero value of every optional field means its documented default.
type Config struct {
	Transport TransportConfig `json:"transport"`
	// UserData is merged into memberInfo.customFields (under startChat's userData).
	UserData map[string]any `json:"userData,omitempty"`
	// AjaxTimeout is the per-request timeout in ms; at least 12000 is enforced.
	AjaxTimeout int `json:"ajaxTimeout,omitempty"`
	// RestoreTimeout (ms, default 60000) bounds how long the transport keeps
	// trying to reconnect a lost socket before it gives up (EndedExpired).
	RestoreTimeout int `json:"restoreTimeout,omitempty"`
	// AgentTypingTimeout (ms, default 4000) is how long an incoming typing
	// indicator is shown when no new one or message follows. Negative = 3000
	// (the Widgets value) is not special; any positive value works.
	AgentTypingTimeout int `json:"agentTypingTimeout,omitempty"`
}

// TransportConfig is `webchat.transport`.
type TransportConfig struct {
	// Type must be "purecloud-v2-sockets" when set.
	Type string `json:"type,omitempty"`
	// DataURL is the API base, e.g. https://api.mypurecloud.com. Either
	// DataURL or Region is required.
	DataURL string `json:"dataURL,omitempty"`
	// Region is a PureCloudRegionHosts key (us_east_1, eu_west_1, …) [ours].
	Region string `json:"region,omitempty"`
	// DeploymentKey → deploymentId; startChat may override it.
	DeploymentKey string `json:"deploymentKey,omitempty"`
	// OrgGUID (alias organizationId) → organizationId; startChat may override it.
	OrgGUID        string `json:"orgGuid,omitempty"`
	OrganizationID string `json:"organizationId,omitempty"`
	// InteractionData holds routing, journey and userData.
	InteractionData InteractionData `json:"interactionData"`
	// MemberAuthToken is the signed-data JWT of an authenticated guest [ours].
	MemberAuthToken string `json:"memberAuthToken,omitempty"`
	// Pagination (default true) enables fetchHistory.
	Pagination *bool `json:"pagination,omitempty"`
	// MaxMessagePageSize (default 100, max 100) is the fetchHistory page size.
	MaxMessagePageSize int `json:"maxMessagePageSize,omitempty"`
	// SocketHeartbeatTrackerInterval (ms, default 14000) is the watchdog.
	SocketHeartbeatTrackerInterval int `json:"socketHeartbeatTrackerInterval,omitempty"`
	// SocketReconnectInterval (ms, default 1000) bounds the first reconnect
	// delay; later ones back off exponentially with full jitter up to 30 s.
	SocketReconnectInterval int `json:"socketReconnectInterval,omitempty"`
	// SocketConnectionCloseTime (ms) is accepted for compatibility; the
	// socket closes as soon as the chat ended.
	SocketConnectionCloseTime int `json:"socketConnectionCloseTime,omitempty"`
	// BotEventsEnabled reports WORKFLOW members' joins and leaves (as Bot).
	BotEventsEnabled bool `json:"botEventsEnabled,omitempty"`
	// SleepEnabled is accepted; it has no effect on a socket transport.
	SleepEnabled bool `json:"sleepEnabled,omitempty"`
	// ReorderWindow (ms, default 0 = off) holds live events this long and
	// releases them sorted by timestamp, repairing reordered delivery [ours].
	ReorderWindow int `json:"reorderWindow,omitempty"`
	// TransferConfirmDelay (ms, default 2000): after an agent leaves, our own
	// member is read this much later to tell a transfer from an end [ours].
	TransferConfirmDelay int `json:"transferConfirmDelay,omitempty"`
}

// InteractionData is `transport.interactionData`.
type InteractionData struct {
	Routing  Routing        `json:"routing"`
	Journey  *Journey       `json:"journey,omitempty"`
	UserData map[string]any `json:"userData,omitempty"`
}

// Routing is `interactionData.routing` → routingTarget.
type Routing struct {
	TargetType    string   `json:"targetType,omitempty"`
	TargetAddress string   `json:"targetAddress,omitempty"`
	Priority      *int64   `json:"priority,omitempty"`
	Skills        []string `json:"skills,omitempty"`
	Language      string   `json:"language,omitempty"`
}

// Journey is `interactionData.journey` → journeyContext.
type Journey struct {
	CustomerID       string  `json:"customerId,omitempty"`
	CustomerIDType   string  `json:"customerIdType,omitempty"`
	SessionID        string  `json:"sessionId,omitempty"`
	SessionType      string  `json:"sessionType,omitempty"`
	ActionID         string  `json:"actionId,omitempty"`
	ActionMapID      string  `json:"actionMapId,omitempty"`
	ActionMapVersion FlexInt `json:"actionMapVersion,omitempty"`
}

// FlexInt is an integer given as a JSON number or a numeric string; it keeps
// the text and is validated with the rest of the config.
type FlexInt string

// UnmarshalJSON accepts a number, a string or null.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = FlexInt(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	*f = FlexInt(b)
	return nil
}

// Defaults.
const (
	DefaultHeartbeatTimeout     = 14 * time.Second
	DefaultReconnectInitial     = time.Second
	DefaultReconnectMax         = 30 * time.Second
	DefaultRestoreTimeout       = 60 * time.Second
	DefaultAgentTypingTimeout   = 4 * time.Second
	DefaultTransferConfirmDelay = 2 * time.Second
	MinAjaxTimeout              = 12 * time.Second
	// TypingInterval is the minimum time between two typing POSTs.
	TypingInterval = 3 * time.Second
)

// settings is a validated Config.
type settings struct {
	cfg              Config
	baseURL          string
	pagination       bool
	pageSize         int
	heartbeat        time.Duration
	reconnectInitial time.Duration
	restoreWindow    time.Duration
	typingTimeout    time.Duration
	reorderWindow    time.Duration
	transferDelay    time.Duration
	ajaxTimeout      time.Duration
	botEvents        bool
}

func ms(v int) time.Duration { return time.Duration(v) * time.Millisecond }

// ParseConfig decodes and validates a `webchat` JSON section.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c Config
	if err := transports.DecodeConfig(raw, &c); err != nil {
		return Config{}, err
	}
	if _, err := c.settings(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// settings validates c; the error wraps transports.ErrInvalidConfig and names every bad field.
func (c Config) settings() (settings, error) {
	var errs []string
	bad := func(field, format string, a ...any) {
		errs = append(errs, "webchat."+field+": "+fmt.Sprintf(format, a...))
	}
	t := c.Transport
	s := settings{cfg: c, botEvents: t.BotEventsEnabled}
	if t.Type != "" && t.Type != transports.TypePureCloud {
		bad("transport.type", "%q is not %q", t.Type, transports.TypePureCloud)
	}
	switch {
	case t.DataURL != "":
		u, err := url.Parse(strings.TrimSpace(t.DataURL))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("transport.dataURL", "must be an http(s) URL such as https://api.mypurecloud.com")
		} else {
			s.baseURL = strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/")
		}
	case t.Region != "":
		dom, ok := wire.Regions[t.Region]
		if !ok {
			bad("transport.region", "unknown region %q", t.Region)
		} else {
			s.baseURL = "https://api." + dom
		}
	default:
		bad("transport.dataURL", "required (or transport.region)")
	}
	if tt := t.InteractionData.Routing.TargetType; tt != "" && !wire.TargetType(tt).IsQueue() {
		bad("transport.interactionData.routing.targetType", "must be QUEUE, got %q", tt)
	}
	if p := t.InteractionData.Routing.Priority; p != nil && (*p < 0 || *p > 10) {
		bad("transport.interactionData.routing.priority", "must be 0-10, got %d", *p)
	}
	if j := t.InteractionData.Journey; j != nil && j.ActionMapVersion != "" {
		if _, err := strconv.Atoi(string(j.ActionMapVersion)); err != nil {
			bad("transport.interactionData.journey.actionMapVersion", "must be an integer")
		}
	}
	s.pagination = t.Pagination == nil || *t.Pagination
	s.pageSize = t.MaxMessagePageSize
	switch {
	case s.pageSize == 0:
		s.pageSize = wire.MaxResults
	case s.pageSize < 0 || s.pageSize > wire.MaxResults:
		bad("transport.maxMessagePageSize", "must be 1-%d, got %d", wire.MaxResults, s.pageSize)
	}
	durs := []struct {
		field string
		v     int
		def   time.Duration
		out   *time.Duration
	}{
		{"transport.socketHeartbeatTrackerInterval", t.SocketHeartbeatTrackerInterval, DefaultHeartbeatTimeout, &s.heartbeat},
		{"transport.socketReconnectInterval", t.SocketReconnectInterval, DefaultReconnectInitial, &s.reconnectInitial},
		{"transport.reorderWindow", t.ReorderWindow, 0, &s.reorderWindow},
		{"transport.transferConfirmDelay", t.TransferConfirmDelay, DefaultTransferConfirmDelay, &s.transferDelay},
		{"restoreTimeout", c.RestoreTimeout, DefaultRestoreTimeout, &s.restoreWindow},
		{"agentTypingTimeout", c.AgentTypingTimeout, DefaultAgentTypingTimeout, &s.typingTimeout},
		{"ajaxTimeout", c.AjaxTimeout, MinAjaxTimeout, &s.ajaxTimeout},
	}
	for _, d := range durs {
		switch {
		case d.v < 0:
			bad(d.field, "must not be negative, got %d", d.v)
		case d.v == 0:
			*d.out = d.def
		default:
			*d.out = ms(d.v)
		}
	}
	if s.ajaxTimeout < MinAjaxTimeout {
		s.ajaxTimeout = MinAjaxTimeout // Widgets enforces at least 12 s
	}
	if s.reconnectInitial > DefaultReconnectMax {
		s.reconnectInitial = DefaultReconnectMax
	}
	if len(errs) > 0 {
		return settings{}, fmt.Errorf("%w: %s", transports.ErrInvalidConfig, strings.Join(errs, "; "))
	}
	return s, nil
}

// buildCreate maps the config and a startChat request to the create request
// (purecloud-guest-chat.md §11.1).
func (s *settings) buildCreate(req transports.StartRequest) (*wire.CreateWebChatConversationRequest, error) {
	t := s.cfg.Transport
	idata := t.InteractionData
	if len(bytes.TrimSpace(req.InteractionData)) > 0 && !bytes.Equal(bytes.TrimSpace(req.InteractionData), []byte("null")) {
		merged, err := mergeInteractionData(idata, req.InteractionData)
		if err != nil {
			return nil, err
		}
		idata = merged
	}
	org := firstNonEmpty(req.OrgGUID, t.OrgGUID, t.OrganizationID)
	dep := firstNonEmpty(req.DeploymentKey, t.DeploymentKey)
	var missing []string
	if org == "" {
		missing = append(missing, "webchat.transport.orgGuid: required")
	}
	if dep == "" {
		missing = append(missing, "webchat.transport.deploymentKey: required")
	}
	if idata.Routing.TargetAddress == "" {
		missing = append(missing, "webchat.transport.interactionData.routing.targetAddress: required")
	}
	if tt := idata.Routing.TargetType; tt != "" && !wire.TargetType(tt).IsQueue() {
		missing = append(missing, fmt.Sprintf("webchat.transport.interactionData.routing.targetType: must be QUEUE, got %q", tt))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", transports.ErrInvalidConfig, strings.Join(missing, "; "))
	}
	rt := &wire.WebChatRoutingTarget{
		TargetType:    wire.TargetTypeQueue,
		TargetAddress: idata.Routing.TargetAddress,
		Skills:        idata.Routing.Skills,
		Language:      idata.Routing.Language,
	}
	if idata.Routing.Priority != nil {
		rt.Priority = *idata.Routing.Priority
	}

	// customFields: config userData < interactionData.userData < startChat userData < form fields.
	cf := map[string]string{}
	for _, src := range []map[string]any{s.cfg.UserData, idata.UserData, req.UserData} {
		for k, v := range src {
			if k == "phone" {
				k = "phoneNumber"
			}
			cf[k] = stringify(v)
		}
	}
	form := map[string]string{}
	for k, v := range req.Form {
		form[strings.ToLower(k)] = v
	}
	first := firstNonEmpty(req.FirstName, form["firstname"])
	last := firstNonEmpty(req.LastName, form["lastname"])
	email := firstNonEmpty(req.Email, form["email"])
	subject := firstNonEmpty(req.Subject, form["subject"])
	nick := firstNonEmpty(req.Nickname, form["nickname"])
	phone := firstNonEmpty(form["phonenumber"], form["phone"], cf["phoneNumber"])
	for k, v := range map[string]string{"firstName": first, "lastName": last, "email": email, "subject": subject, "phoneNumber": phone} {
		if v != "" {
			cf[k] = v
		}
	}
	mi := &wire.GuestMemberInfo{
		DisplayName: displayName(nick, first, last),
		FirstName:   first, LastName: last, Email: email, PhoneNumber: phone,
	}
	if len(cf) > 0 {
		mi.CustomFields = cf
	}
	cr := &wire.CreateWebChatConversationRequest{
		OrganizationID:  org,
		DeploymentID:    dep,
		RoutingTarget:   rt,
		MemberInfo:      mi,
		MemberAuthToken: t.MemberAuthToken,
	}
	if j := idata.Journey; j != nil && j.CustomerID != "" {
		jc := &wire.JourneyContext{Customer: &wire.JourneyCustomer{ID: j.CustomerID, IDType: firstNonEmpty(j.CustomerIDType, "cookie")}}
		if j.SessionID != "" {
			jc.CustomerSession = &wire.JourneyCustomerSession{ID: j.SessionID, Type: firstNonEmpty(j.SessionType, "web")}
		}
		if j.ActionID != "" && j.ActionMapID != "" {
			v, _ := strconv.Atoi(string(j.ActionMapVersion))
			jc.TriggeringAction = &wire.JourneyAction{ID: j.ActionID, ActionMap: &wire.JourneyActionMap{ID: j.ActionMapID, Version: v}}
		}
		cr.JourneyContext = jc
	}
	return cr, nil
}

// displayName: nickname, else "first last", else first, else last, else "Customer".
func displayName(nick, first, last string) string {
	switch {
	case strings.TrimSpace(nick) != "":
		return nick
	case first != "" && last != "":
		return first + " " + last
	case first != "":
		return first
	case last != "":
		return last
	}
	return "Customer"
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// stringify renders an attached-data value as a customFields string.
func stringify(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	case bool:
		return strconv.FormatBool(t)
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// mergeInteractionData deep-merges the startChat interactionData JSON over base.
func mergeInteractionData(base InteractionData, over json.RawMessage) (InteractionData, error) {
	bb, err := json.Marshal(base)
	if err != nil {
		return base, err
	}
	var a, b map[string]any
	if err := json.Unmarshal(bb, &a); err != nil {
		return base, err
	}
	if err := json.Unmarshal(over, &b); err != nil {
		return base, fmt.Errorf("%w: startChat interactionData: %v", transports.ErrInvalidConfig, err)
	}
	merged, err := json.Marshal(deepMerge(a, b))
	if err != nil {
		return base, err
	}
	var out InteractionData
	if err := json.Unmarshal(merged, &out); err != nil {
		return base, fmt.Errorf("%w: startChat interactionData: %v", transports.ErrInvalidConfig, err)
	}
	return out, nil
}

func deepMerge(a, b map[string]any) map[string]any {
	if a == nil {
		a = map[string]any{}
	}
	for k, bv := range b {
		if bm, ok := bv.(map[string]any); ok {
			if am, ok := a[k].(map[string]any); ok {
				a[k] = deepMerge(am, bm)
				continue
			}
		}
		a[k] = bv
	}
	return a
}

var errNoSession = errors.New("purecloud: session data lacks conversationId, memberId or jwt")
