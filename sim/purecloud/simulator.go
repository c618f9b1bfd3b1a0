package purecloud

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// ErrClosed is returned by operations on a closed Simulator.
var ErrClosed = errors.New("purecloud: simulator closed")

// Simulator is a Genesys Cloud guest chat v2 server. It is an http.Handler
// serving the 11 guest operations under /api/v2/webchat/guest/, the event
// stream under /v1/token/{jwt} and the control API under /_sim/. Mount it
// on any server, or use NewServer/Start. Close it to stop every timer and
// socket. All methods are safe for concurrent use.
type Simulator struct {
	opts  Options
	set   settings
	clock Clock
	log   zerolog.Logger
	key   *rsa.PrivateKey
	kid   string
	up    websocket.Upgrader

	randMu sync.Mutex
	rnd    io.Reader
	frand  *mrand.Rand

	mu       sync.Mutex
	closed   bool
	convs    map[string]*Conversation
	order    []*Conversation
	nextIdx  int // NextConversation cursor
	created  chan struct{}
	tokens   map[string]*wire.JWTClaims
	pending  map[*trackedTimer]struct{} // scheduled, not yet fired or stopped
	faults   faultSet
	refuseTo time.Time // global reconnect refusal
	swept    time.Time // last sweep of expired conversations

	wg   sync.WaitGroup // timer callbacks, socket goroutines, script hooks
	done chan struct{}
}

// New returns a Simulator configured by opts, or an error naming each bad
// option.
func New(opts Options) (*Simulator, error) {
	set, err := opts.settings()
	if err != nil {
		return nil, err
	}
	s := &Simulator{
		opts:    opts,
		set:     set,
		clock:   opts.Clock,
		log:     opts.Logger,
		key:     opts.SigningKey,
		rnd:     opts.Rand,
		frand:   mrand.New(mrand.NewPCG(opts.FaultSeed, opts.FaultSeed^0x9e3779b97f4a7c15)),
		convs:   make(map[string]*Conversation),
		created: make(chan struct{}),
		tokens:  make(map[string]*wire.JWTClaims),
		pending: make(map[*trackedTimer]struct{}),
		done:    make(chan struct{}),
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.rnd == nil {
		s.rnd = rand.Reader
	}
	if s.key == nil {
		if s.key, err = processKey(); err != nil {
			return nil, err
		}
	}
	s.kid = s.newID()
	s.up = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		CheckOrigin:      func(*http.Request) bool { return true },
	}
	return s, nil
}

// Clock returns the simulator's clock.
func (s *Simulator) Clock() Clock { return s.clock }

// Close ends every socket and stops every timer; REST calls then answer 503.
// It waits for the simulator's goroutines and is idempotent.
func (s *Simulator) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.done)
	convs := append([]*Conversation(nil), s.order...)
	timers := make([]*trackedTimer, 0, len(s.pending))
	for t := range s.pending {
		timers = append(timers, t)
	}
	s.mu.Unlock()
	for _, c := range convs {
		c.shutdown()
	}
	for _, t := range timers {
		t.Stop()
	}
	s.wg.Wait()
	return nil
}

func (s *Simulator) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// goTracked runs f in a goroutine owned by the simulator (Close waits for it).
// It returns false, without running f, once the simulator is closed.
func (s *Simulator) goTracked(f func()) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		f()
	}()
	return true
}

// afterFunc schedules f on the clock, tracked so Close waits for a running
// callback; f is skipped once the simulator is closed.
func (s *Simulator) afterFunc(d time.Duration, f func()) Timer {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return stoppedTimer{}
	}
	s.wg.Add(1)
	tt := &trackedTimer{s: s}
	s.pending[tt] = struct{}{}
	s.mu.Unlock()
	tt.mu.Lock() // Stop waits until tt.t is set
	defer tt.mu.Unlock()
	tt.t = s.clock.AfterFunc(d, func() {
		if !tt.fire() {
			return
		}
		defer s.wg.Done()
		if s.isClosed() {
			return
		}
		f()
	})
	return tt
}

type stoppedTimer struct{}

func (stoppedTimer) Stop() bool { return false }

// trackedTimer balances the WaitGroup exactly once, whichever of Stop and
// the callback wins.
type trackedTimer struct {
	s    *Simulator
	mu   sync.Mutex
	t    Timer
	gone bool
}

func (t *trackedTimer) fire() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gone {
		return false
	}
	t.gone = true
	t.forget()
	return true
}

func (t *trackedTimer) forget() {
	t.s.mu.Lock()
	delete(t.s.pending, t)
	t.s.mu.Unlock()
}

func (t *trackedTimer) Stop() bool {
	t.mu.Lock()
	if t.gone {
		t.mu.Unlock()
		return false
	}
	t.gone = true
	inner := t.t
	t.mu.Unlock()
	t.forget()
	inner.Stop()
	t.s.wg.Done()
	return true
}

// newID returns a lower-case UUID v4 from the configured randomness.
func (s *Simulator) newID() string {
	var b [16]byte
	s.randMu.Lock()
	_, err := io.ReadFull(s.rnd, b[:])
	s.randMu.Unlock()
	if err != nil {
		// A failing custom Rand must not stop the simulator: fall back.
		_, _ = rand.Read(b[:])
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// chance reports true with probability p from the seeded fault source.
func (s *Simulator) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	s.randMu.Lock()
	defer s.randMu.Unlock()
	return s.frand.Float64() < p
}

// issueJWT signs a guest token for conversation c.
func (s *Simulator) issueJWT(convID, deploymentID, memberID, orgID string) (string, *wire.JWTClaims, error) {
	now := s.clock.Now()
	cl := &wire.JWTClaims{
		Data: wire.JWTData{Conv: convID, Did: deploymentID, Sub: memberID},
		Iat:  now.Unix(),
		Exp:  now.Add(s.set.jwtTTL).Unix(),
		Iss:  wire.JWTIssuer,
		Org:  orgID,
	}
	in, err := wire.EncodeJWTSigningInput(&wire.JWTHeader{Alg: wire.JWTAlgorithm, Kid: s.kid, Typ: "JWT"}, cl)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256([]byte(in))
	sig, err := rsa.SignPKCS1v15(nil, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", nil, fmt.Errorf("purecloud: sign JWT: %w", err)
	}
	tok := in + "." + b64(sig)
	s.mu.Lock()
	s.tokens[tok] = cl
	s.mu.Unlock()
	return tok, cl, nil
}

// Token verification errors (never containing the token).
var (
	errTokenMalformed = errors.New("purecloud: token malformed")
	errTokenSignature = errors.New("purecloud: token signature invalid")
	errTokenExpired   = errors.New("purecloud: token expired")
)

// verifyJWT checks a guest token: RS256 with this simulator's key and kid,
// the webchat issuer, and exp against the clock.
func (s *Simulator) verifyJWT(tok string) (*wire.JWTClaims, error) {
	s.mu.Lock()
	cl, known := s.tokens[tok]
	s.mu.Unlock()
	if !known {
		h, c, in, sig, err := wire.ParseJWT(tok)
		if err != nil {
			return nil, errTokenMalformed
		}
		if h.Alg != wire.JWTAlgorithm || h.Kid != s.kid || c.Iss != wire.JWTIssuer {
			return nil, errTokenSignature
		}
		sum := sha256.Sum256([]byte(in))
		if rsa.VerifyPKCS1v15(&s.key.PublicKey, crypto.SHA256, sum[:], sig) != nil {
			return nil, errTokenSignature
		}
		cl = c
	}
	if !s.clock.Now().Before(time.Unix(cl.Exp, 0)) {
		return nil, errTokenExpired
	}
	if c := s.conversation(cl.Data.Conv); c != nil && c.tokenRevoked(cl) {
		return nil, errTokenExpired
	}
	return cl, nil
}

func (s *Simulator) conversation(id string) *Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.convs[id]
}

// Conversation returns the conversation with id, or nil.
func (s *Simulator) Conversation(id string) *Conversation { return s.conversation(id) }

// Conversations returns every conversation in creation order.
func (s *Simulator) Conversations() []*Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*Conversation(nil), s.order...)
}

// NextConversation returns the oldest conversation not yet returned by
// NextConversation, waiting for one to be created. It is the usual way for
// a test to get hold of the conversation its client just started.
func (s *Simulator) NextConversation(ctx context.Context) (*Conversation, error) {
	for {
		s.mu.Lock()
		if s.nextIdx < len(s.order) {
			c := s.order[s.nextIdx]
			s.nextIdx++
			s.mu.Unlock()
			return c, nil
		}
		ch, closed := s.created, s.closed
		s.mu.Unlock()
		if closed {
			return nil, ErrClosed
		}
		select {
		case <-ch:
		case <-s.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// sweepInterval bounds how often create looks for conversations to forget.
const sweepInterval = time.Minute

// sweep forgets conversations whose token has expired (JWTTTL after
// creation, so no REST call or attach can reach them any more) and that
// have no socket attached, so a long-running simulator does not grow
// without bound. Their timers are stopped.
func (s *Simulator) sweep() {
	now := s.clock.Now()
	s.mu.Lock()
	if now.Sub(s.swept) < sweepInterval {
		s.mu.Unlock()
		return
	}
	s.swept = now
	snapshot := append([]*Conversation(nil), s.order...)
	s.mu.Unlock()
	gone := map[*Conversation]bool{}
	for _, c := range snapshot {
		if now.Before(c.created.Add(s.set.jwtTTL)) || c.Attached() > 0 {
			continue
		}
		c.shutdown()
		gone[c] = true
	}
	if len(gone) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.order[:0]
	for i, c := range s.order {
		if !gone[c] {
			kept = append(kept, c)
			continue
		}
		if i < s.nextIdx {
			s.nextIdx--
		}
		delete(s.convs, c.id)
		delete(s.tokens, c.token)
	}
	clear(s.order[len(kept):])
	s.order = kept
}

func (s *Simulator) register(c *Conversation) error {
	s.sweep()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.convs[c.id] = c
	s.order = append(s.order, c)
	close(s.created)
	s.created = make(chan struct{})
	return nil
}

// ServeHTTP routes the guest API, the event stream and the control API.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, wire.EventStreamPathPrefix):
		s.serveStream(w, r, strings.TrimPrefix(p, wire.EventStreamPathPrefix))
	case p == controlPrefix || strings.HasPrefix(p, controlPrefix+"/"):
		s.serveControl(w, r)
	default:
		if r.Header.Get("Origin") != "" && s.cors(w, r) {
			return
		}
		s.serveREST(w, r)
	}
}

// cors answers browser guests as api.{domain} does: any origin may call the
// guest API with a Bearer token; preflights get 204. It reports whether
// the request was a preflight (and is answered).
func (s *Simulator) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", wire.HeaderCorrelationID+", "+wire.HeaderRetryAfter)
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	h.Set(wire.HeaderCorrelationID, newCorrelation(s))
	w.WriteHeader(http.StatusNoContent)
	return true
}

var (
	processKeyOnce sync.Once
	processKeyVal  *rsa.PrivateKey
	processKeyErr  error
)

// processKey is the signing key of simulators without Options.SigningKey: one 2048-bit key per
// process, generated on first use (generation takes a noticeable fraction of a second, and
// tests start many simulators). Each simulator still has its own key id and token registry.
func processKey() (*rsa.PrivateKey, error) {
	processKeyOnce.Do(func() {
		processKeyVal, processKeyErr = rsa.GenerateKey(rand.Reader, 2048)
		if processKeyErr != nil {
			processKeyErr = fmt.Errorf("purecloud: generate signing key: %w", processKeyErr)
		}
	})
	return processKeyVal, processKeyErr
}
