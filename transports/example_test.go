package transports_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cxbus/webchat/transports"
)

// echo is a toy in-memory transport used to show the contract.
type echo struct {
	ev chan transports.Event
	n  int
}

func (e *echo) Type() string                          { return "example-echo" }
func (e *echo) Capabilities() transports.Capabilities { return transports.Capabilities{} }
func (e *echo) Start(ctx context.Context, req transports.StartRequest) (transports.SessionData, error) {
	e.ev <- transports.Event{Kind: transports.EventConnected}
	return transports.SessionData{Transport: e.Type(), Values: map[string]string{"chatId": "c1", "secureKey": "s3cr3t"}, Secret: []string{"secureKey"}}, nil
}
func (e *echo) Resume(context.Context, transports.SessionData, transports.Cursor) error { return nil }
func (e *echo) Send(ctx context.Context, out transports.Outgoing) (transports.Sent, error) {
	e.n++
	id := fmt.Sprintf("c1:%d", e.n)
	e.ev <- transports.Event{Kind: transports.EventMessages, Cursor: transports.Cursor{ID: id},
		Messages: []transports.Message{{ID: id, Type: transports.TypeMessage, Text: "echo: " + out.Text,
			From: transports.From{ID: "agent-1", Type: transports.ParticipantAgent, Name: "Ann"}}}}
	return transports.Sent{ID: id}, nil
}
func (e *echo) Typing(context.Context, string, bool) error { return nil }
func (e *echo) End(context.Context) error {
	e.ev <- transports.Event{Kind: transports.EventEnded, Reason: transports.EndedByClient}
	close(e.ev)
	return nil
}
func (e *echo) Events() <-chan transports.Event     { return e.ev }
func (e *echo) SessionData() transports.SessionData { return transports.SessionData{} }
func (e *echo) Cursor() transports.Cursor           { return transports.Cursor{} }
func (e *echo) Close() error                        { return nil }

func init() {
	transports.MustRegister("example-echo", func(cfg json.RawMessage, opts transports.Options) (transports.Transport, error) {
		return &echo{ev: make(chan transports.Event, 16)}, nil
	})
}

// A caller creates a transport by type name, starts it, sends, and reads the
// ordered event stream until EventEnded.
func Example() {
	ctx := context.Background()
	t, err := transports.New("example-echo", json.RawMessage(`{}`), transports.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	sd, _ := t.Start(ctx, transports.StartRequest{Nickname: "Joan"})
	fmt.Println(sd) // secrets never print
	_, _ = t.Send(ctx, transports.Outgoing{Text: "hello"})
	_ = t.End(ctx)
	for ev := range t.Events() {
		switch ev.Kind {
		case transports.EventMessages:
			for _, m := range ev.Messages {
				fmt.Printf("%s %s from %s %s: %s\n", m.ID, m.Type, m.From.Type, m.From.Name, m.Text)
			}
		default:
			fmt.Println(ev)
		}
	}
	// Output:
	// SessionData{example-echo chatId=c1 secureKey=[redacted]}
	// connected
	// c1:1 Message from Agent Ann: echo: hello
	// ended(client)
}

// Unsupported optional operations fail with the exact Widgets strings.
func ExampleAsFiles() {
	t, _ := transports.New("example-echo", nil, transports.Options{})
	if _, err := transports.AsFiles(t); err != nil {
		fmt.Println(err)
	}
	if _, err := transports.AsPoller(t); errors.Is(err, transports.ErrPollingUnsupported) {
		fmt.Println(err)
	}
	fmt.Println(transports.FileOpError(transports.FileOpDownload))
	// Output:
	// This transport doesn't support file uploads.
	// This transport doesn't support polling.
	// This transport doesn't support file download.
}

func ExampleNew_unknownType() {
	_, err := transports.New("pureengage-v3-rest", nil, transports.Options{})
	fmt.Println(errors.Is(err, transports.ErrUnknownType), err)
	// Output: true transports: unknown transport type: "pureengage-v3-rest"
}

// Backoff bounds grow exponentially up to the cap; the delay is jittered
// uniformly below the bound.
func ExampleBackoff() {
	b := transports.Backoff{Rand: func() float64 { return 0.5 }}
	for n := 0; n < 7; n++ {
		fmt.Println(n, b.Bound(n), b.Delay(n))
	}
	// Output:
	// 0 1s 500ms
	// 1 2s 1s
	// 2 4s 2s
	// 3 8s 4s
	// 4 16s 8s
	// 5 30s 15s
	// 6 30s 15s
}

func ExampleSeen() {
	s := transports.NewSeen(2)
	for _, id := range []string{"m1", "m2", "m1", "m3", "m1"} {
		fmt.Print(s.Add(id), " ")
	}
	fmt.Println()
	// Output: true true false true true
}

func ExampleSessionData_Redacted() {
	sd := transports.SessionData{
		Transport: transports.TypePureCloud,
		Values:    map[string]string{"jwt": "eyJ...", "conversationId": "0e4a"},
		Secret:    []string{"jwt"},
	}
	fmt.Println(sd.Redacted().Values["jwt"], sd.Public())
	// Output: [redacted] map[conversationId:0e4a]
}

func ExampleParseRetryAfter() {
	d, ok := transports.ParseRetryAfter("3", time.Now())
	fmt.Println(d, ok)
	// Output: 3s true
}

func ExampleFakeClock() {
	c := transports.NewFakeClock(time.Time{})
	c.AfterFunc(14*time.Second, func() { fmt.Println("watchdog expired") })
	c.Advance(10 * time.Second)
	fmt.Println("10s passed")
	c.Advance(4 * time.Second)
	// Output:
	// 10s passed
	// watchdog expired
}
