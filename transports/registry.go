package transports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"sync"

	"github.com/rs/zerolog"
)

// Factory builds a transport from its configuration.
//
// cfg is the JSON of the Widgets `webchat` configuration section (the whole
// object: purecloud reads `transport`, `userData` and `ajaxTimeout` from it; GMS
// reads `dataURL`, `cometD`, `async`, the poll options …). Unknown keys are
// ignored. A bad config yields an error wrapping ErrInvalidConfig that names
// each bad field.
type Factory func(cfg json.RawMessage, opts Options) (Transport, error)

// Options are the runtime dependencies of a transport. The zero value works.
type Options struct {
	// Logger receives the transport's logs (zerolog.Nop() when zero). Secrets
	// are never logged.
	Logger zerolog.Logger
	// HTTPClient is used for REST calls (a client with the configured timeout
	// when nil). Its Timeout, when set, overrides the configured ajaxTimeout.
	HTTPClient *http.Client
	// DialContext dials raw connections for WebSockets (net.Dialer when nil).
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// Clock drives every timer (SystemClock when nil).
	Clock Clock
	// Rand returns a uniform value in [0,1) for jitter (math/rand/v2 when nil).
	Rand func() float64
}

// WithDefaults returns o with its nil fields filled in.
func (o Options) WithDefaults() Options {
	if o.Clock == nil {
		o.Clock = SystemClock()
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.DialContext == nil {
		o.DialContext = (&net.Dialer{}).DialContext
	}
	return o
}

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a transport available by type name. It returns
// ErrDuplicateType if the name is taken and an error for an empty name or a
// nil factory. Transports call it from init (use MustRegister there).
func Register(name string, f Factory) error {
	if name == "" {
		return fmt.Errorf("transports: register: empty type name")
	}
	if f == nil {
		return fmt.Errorf("transports: register %q: nil factory", name)
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicateType, name)
	}
	registry[name] = f
	return nil
}

// MustRegister is Register that panics on error (for init functions).
func MustRegister(name string, f Factory) {
	if err := Register(name, f); err != nil {
		panic(err)
	}
}

// New creates a transport of the named type. An unregistered name gives an
// error wrapping ErrUnknownType (WebChatService maps it to "Invalid transport
// configuration"). The factory's errors are returned as they are.
func New(name string, cfg json.RawMessage, opts Options) (Transport, error) {
	regMu.RLock()
	f, ok := registry[name]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, name)
	}
	if len(cfg) == 0 {
		cfg = json.RawMessage("{}")
	}
	return f(cfg, opts)
}

// Registered returns the registered type names, sorted.
func Registered() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// unregister removes a type (tests only).
func unregister(name string) {
	regMu.Lock()
	delete(registry, name)
	regMu.Unlock()
}

// DecodeConfig decodes a Widgets `webchat` JSON section into v (a transport's Config); empty
// input means {}. The error wraps ErrInvalidConfig and names the field whose JSON type is
// wrong ("webchat.pollRate: must be a int, got a JSON string"). Transports validate the
// values themselves.
func DecodeConfig(raw json.RawMessage, v any) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return fmt.Errorf("%w: webchat.%s: must be a %s, got a JSON %s", ErrInvalidConfig, ute.Field, ute.Type, ute.Value)
		}
		return fmt.Errorf("%w: webchat: %v", ErrInvalidConfig, err)
	}
	return nil
}
