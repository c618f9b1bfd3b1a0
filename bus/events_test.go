package bus

import (
	"encoding/json"
	"errors"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"
)

// collector gathers event names delivered to one plugin's callbacks.
type collector struct {
	mu     sync.Mutex
	events []Event
}

func (c *collector) add(e Event) { c.mu.Lock(); c.events = append(c.events, e); c.mu.Unlock() }
func (c *collector) names() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.events))
	for i, e := range c.events {
		out[i] = e.Name
	}
	return out
}

func TestPublishIsAsynchronousAndCarriesMetadata(t *testing.T) {
	b := newBus(t, Options{})
	pub := register(t, b, "WebChatService")
	sub := register(t, b, "Listener")
	inCallback := make(chan struct{})
	release := make(chan struct{})
	got := make(chan Event, 1)
	sub.Subscribe("WebChatService.started", func(e Event) {
		close(inCallback)
		<-release
		got <- e
	})
	// Publish returns while the callback is blocked: never re-entrant, never waits.
	if err := pub.Publish("started", nil); err != nil {
		t.Fatal(err)
	}
	<-inCallback
	close(release)
	e := recv(t, got)
	if e.Publisher != "WebChatService" || e.Name != "WebChatService.started" || e.Time.IsZero() {
		t.Fatalf("event %+v", e)
	}
	if !reflect.DeepEqual(e.Data, map[string]any{}) {
		t.Fatalf("nil data delivered as %#v, want {}", e.Data)
	}
	raw, _ := json.Marshal(e)
	var m map[string]any
	json.Unmarshal(raw, &m)
	if m["event"] != "WebChatService.started" || m["publisher"] != "WebChatService" || m["time"] == nil {
		t.Fatalf("event JSON %s", raw)
	}
}

func TestPatternSubscriptions(t *testing.T) {
	b := newBus(t, Options{})
	wcs := register(t, b, "WebChatService")
	app := register(t, b, "App")
	subs := map[string]*collector{}
	patterns := []string{"WebChatService.*", "WebChatService.>", "*.ready", "*", ">", "WebChatService.data.*", "App.ready", "*.*"}
	l := register(t, b, "L")
	for _, p := range patterns {
		c := &collector{}
		subs[p] = c
		if _, err := l.Subscribe(p, c.add); err != nil {
			t.Fatal(p, err)
		}
	}
	wcs.Publish("started", nil)
	wcs.Publish("data.sleeping", nil)
	wcs.Publish("ready", nil)
	app.Publish("ready", nil)
	drain(t, b)
	want := map[string][]string{
		"WebChatService.*":      {"WebChatService.started", "WebChatService.ready"},
		"WebChatService.>":      {"WebChatService.started", "WebChatService.data.sleeping", "WebChatService.ready"},
		"*.ready":               {"WebChatService.ready", "App.ready"},
		"*":                     {"WebChatService.started", "WebChatService.data.sleeping", "WebChatService.ready", "App.ready"},
		">":                     {"WebChatService.started", "WebChatService.data.sleeping", "WebChatService.ready", "App.ready"},
		"WebChatService.data.*": {"WebChatService.data.sleeping"},
		"App.ready":             {"App.ready"},
		"*.*":                   {"WebChatService.started", "WebChatService.ready", "App.ready"},
	}
	for p, w := range want {
		if got := subs[p].names(); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: got %v, want %v", p, got, w)
		}
	}
}

func TestEachMatchingSubscriptionGetsEventOnce(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	l := register(t, b, "L")
	c := &collector{}
	l.Subscribe("P.x", c.add)
	l.Subscribe("P.*", c.add)
	l.Subscribe("P.>", c.add)
	p.Publish("x", nil)
	drain(t, b)
	if n := len(c.names()); n != 3 {
		t.Fatalf("%d deliveries, want 3 (one per subscription)", n)
	}
}

func TestRetainedEvents(t *testing.T) {
	b := newBus(t, Options{})
	wcs := register(t, b, "WebChatService")
	wcs.Republish("ready", map[string]any{"v": 1})
	wcs.Republish("ready", map[string]any{"v": 2}) // replaces
	wcs.Publish("ready", map[string]any{"v": 3})   // plain publish leaves the retained value
	drain(t, b)
	late := register(t, b, "Late")
	got := make(chan Event, 10)
	before := time.Now()
	late.Subscribe("*.ready", func(e Event) { got <- e })
	e := recv(t, got)
	if !reflect.DeepEqual(e.Data, map[string]any{"v": 2}) || e.Time.Before(before) {
		t.Fatalf("retained replay %+v", e)
	}
	wcs.Publish("ready", map[string]any{"v": 4})
	if e := recv(t, got); !reflect.DeepEqual(e.Data, map[string]any{"v": 4}) {
		t.Fatalf("live after replay: %+v", e)
	}
	if r := b.Retained(); !reflect.DeepEqual(r, []RetainedInfo{{Event: "WebChatService.ready", Publisher: "WebChatService"}}) {
		t.Fatalf("retained %+v", r)
	}
	// Unsubscribing every subscriber keeps the retained value (CXBus quirk not copied).
	s, _ := late.Subscribe("WebChatService.ready", func(Event) {})
	s.Unsubscribe()
	late.Unsubscribe("*.ready")
	if len(b.Retained()) != 1 {
		t.Fatal("retained value dropped with last subscriber")
	}
	wcs.ClearRetained("ready")
	if len(b.Retained()) != 0 {
		t.Fatal("ClearRetained kept the value")
	}
}

func TestUnsubscribeHandleRemovesExactlyOne(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	l := register(t, b, "L")
	a, bb := &collector{}, &collector{}
	sa, _ := l.Subscribe("P.x", a.add)
	l.Subscribe("P.x", bb.add)
	sa.Unsubscribe()
	sa.Unsubscribe() // idempotent
	p.Publish("x", nil)
	drain(t, b)
	if len(a.names()) != 0 || len(bb.names()) != 1 {
		t.Fatalf("a=%v b=%v", a.names(), bb.names())
	}
	// The compatibility form removes all of this plugin's subscriptions to that name.
	other := register(t, b, "Other")
	oc := &collector{}
	other.Subscribe("P.x", oc.add)
	l.Subscribe("P.x", bb.add)
	l.Unsubscribe("P.x")
	p.Publish("x", nil)
	drain(t, b)
	if len(bb.names()) != 1 || len(oc.names()) != 1 {
		t.Fatalf("after Unsubscribe(name): l=%d other=%d", len(bb.names()), len(oc.names()))
	}
}

func TestUnsubscribeDiscardsQueuedEvents(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	l := register(t, b, "L")
	block := make(chan struct{})
	entered := make(chan struct{})
	l.Subscribe("P.block", func(Event) { close(entered); <-block })
	c := &collector{}
	s, _ := l.Subscribe("P.x", c.add)
	p.Publish("block", nil)
	<-entered
	for range 5 {
		p.Publish("x", nil)
	}
	s.Unsubscribe()
	close(block)
	drain(t, b)
	if n := len(c.names()); n != 0 {
		t.Fatalf("%d queued events delivered after Unsubscribe", n)
	}
}

func TestOrderPerSubscriptionAndSlowConsumerIsolation(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	slow := register(t, b, "Slow")
	fast := register(t, b, "Fast")
	release := make(chan struct{})
	var slowGot []int
	slow.Subscribe("P.n", func(e Event) {
		if e.Data.(int) == 0 {
			<-release // the slow consumer blocks on its first event
		}
		slowGot = append(slowGot, e.Data.(int))
	})
	fastDone := make(chan []int)
	var fastGot []int
	fast.Subscribe("P.n", func(e Event) {
		fastGot = append(fastGot, e.Data.(int))
		if len(fastGot) == 1000 {
			fastDone <- fastGot
		}
	})
	for i := range 1000 {
		if err := p.Publish("n", i); err != nil { // never blocks on Slow
			t.Fatal(err)
		}
	}
	got := recv(t, fastDone) // Fast got everything while Slow is still blocked
	for i, v := range got {
		if v != i {
			t.Fatalf("fast order broken at %d: %d", i, v)
		}
	}
	if d := b.Stats()["Slow"].MailboxDepth; d < 900 {
		t.Fatalf("slow mailbox depth %d; expected the backlog to be queued", d)
	}
	close(release)
	drain(t, b)
	if len(slowGot) != 1000 {
		t.Fatalf("slow got %d events, want 1000 (nothing lost)", len(slowGot))
	}
	for i, v := range slowGot {
		if v != i {
			t.Fatalf("slow order broken at %d: %d", i, v)
		}
	}
}

func TestSubscriberPanicIsReported(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	l := register(t, b, "L")
	errs := make(chan ErrorEvent, 2)
	b.Subscribe("CXBus.error", func(e Event) { errs <- e.Data.(ErrorEvent) })
	after := make(chan struct{})
	l.Subscribe("P.x", func(Event) { panic("subscriber bug") })
	l.Subscribe("P.y", func(Event) { close(after) })
	p.Publish("x", nil)
	p.Publish("y", nil)
	e := recv(t, errs)
	if e.Kind != "panic" || e.Plugin != "L" || e.Name != "P.x" {
		t.Fatalf("report %+v", e)
	}
	recv(t, after) // the plugin keeps running
}

func TestSubscribeAndPublishErrors(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "P")
	for _, name := range []string{"", "P", "P..x", "P.>.x", "P.x.", ".x", "a b.x", "W*.x"} {
		if _, err := p.Subscribe(name, func(Event) {}); !errors.Is(err, ErrInvalidName) {
			t.Errorf("subscribe %q: %v", name, err)
		}
	}
	if _, err := p.Subscribe("P.x", nil); !errors.Is(err, ErrNilFunc) {
		t.Error(err)
	}
	for _, name := range []string{"", "a..b", "*", "a.>", ".a", "a."} {
		if err := p.Publish(name, nil); !errors.Is(err, ErrInvalidName) {
			t.Errorf("publish %q: %v", name, err)
		}
	}
	if err := p.Publish("no.subscribers.here", nil); err != nil {
		t.Fatal(err)
	}
}

func TestSubscribersIntrospection(t *testing.T) {
	b := newBus(t, Options{})
	p := register(t, b, "WebChatService")
	register(t, b, "A").Subscribe("WebChatService.started", func(Event) {})
	register(t, b, "B").Subscribe("WebChatService.started", func(Event) {})
	b.Plugin("B").Subscribe("*.ready", func(Event) {})
	b.Plugin("A").Subscribe("Other.x", func(Event) {})
	got := p.Subscribers()
	want := map[string][]string{"WebChatService.started": {"A", "B"}, "*.ready": {"B"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("subscribers %v", got)
	}
}

func TestDataStore(t *testing.T) {
	b := newBus(t, Options{})
	wcs := register(t, b, "WebChatService")
	other := register(t, b, "Other")
	c := &collector{}
	other.Subscribe("WebChatService.>", c.add)

	changed, err := wcs.Set("sessionActive", true)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	wcs.Set("sessionActive", true)                                        // no change: no events
	wcs.Set("mode", "sockets")                                            // string
	wcs.Set("userData", map[string]any{"a": 1})                           // object: no step-3 event
	wcs.Set("userData", map[string]any{"a": float64(1)})                  // JSON-equal: no change
	wcs.Set("count", 2)                                                   // number
	if _, err := wcs.Set("bad.key", 1); !errors.Is(err, ErrInvalidName) { // keys are one token
		t.Fatal(err)
	}
	drain(t, b)
	want := []string{
		"WebChatService.data", "WebChatService.data.sessionActive", "WebChatService.data.sessionActive:true",
		"WebChatService.data", "WebChatService.data.mode", "WebChatService.data.mode:'sockets'",
		"WebChatService.data", "WebChatService.data.userData",
		"WebChatService.data", "WebChatService.data.count", "WebChatService.data.count:2",
	}
	if got := c.names(); !reflect.DeepEqual(got, want) {
		t.Fatalf("data events\n got %v\nwant %v", got, want)
	}
	c.mu.Lock()
	whole := c.events[6].Data.(map[string]any)
	change := c.events[1].Data.(DataChange)
	c.mu.Unlock()
	keys := make([]string, 0)
	for k := range whole {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"mode", "sessionActive", "userData"}) {
		t.Fatalf("whole map keys %v", keys)
	}
	if change.Last != nil || change.Value != true || change.Time == 0 {
		t.Fatalf("change %+v", change)
	}
	if v, ok := other.Get("WebChatService.mode"); !ok || v != "sockets" {
		t.Fatal(v, ok)
	}
	if _, ok := other.Get("mode"); ok {
		t.Fatal("read another plugin's key as own")
	}
	if _, ok := other.Get("Ghost.mode"); ok {
		t.Fatal("unknown plugin")
	}
	if d := wcs.Data(); d["count"] != 2 {
		t.Fatalf("data %v", d)
	}
}

func TestScalarSuffix(t *testing.T) {
	cases := []struct {
		v    any
		want string
		ok   bool
	}{
		{"x y", "'x y'", true}, {1.5, "1.5", true}, {float64(3), "3", true}, {int64(-2), "-2", true},
		{uint8(7), "7", true}, {false, "false", true}, {nil, "null", true},
		{json.Number("12"), "12", true}, {[]int{1}, "", false}, {map[string]any{}, "", false},
	}
	for _, c := range cases {
		got, ok := scalarSuffix(c.v)
		if got != c.want || ok != c.ok {
			t.Errorf("%#v: %q %v", c.v, got, ok)
		}
	}
}
