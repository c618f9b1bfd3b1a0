package purecloud_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	simpc "github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud"
)

// A guest chat against the simulator: start, wait for the agent, talk, end.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sim := simpc.NewServer(simpc.Options{RoutingDelay: -1, AlertDelay: -1, AnswerDelay: -1, CloseGrace: -1,
		Script: &simpc.Script{Agent: &simpc.AgentProfile{Name: "Alex"}, AgentGreeting: "Hi, I'm Alex.", Echo: true, EchoPrefix: "echo: "},
	})
	defer sim.Close()

	// The Widgets `webchat` configuration, as JSON.
	cfg := json.RawMessage(`{"transport":{
		"type":"purecloud-v2-sockets", "dataURL":"` + sim.URL + `",
		"deploymentKey":"my-deployment", "orgGuid":"my-org",
		"interactionData":{"routing":{"targetType":"QUEUE","targetAddress":"Chat Queue"}}}}`)
	t, err := transports.New("purecloud-v2-sockets", cfg, transports.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	if _, err := t.Start(ctx, transports.StartRequest{Nickname: "Joan"}); err != nil {
		fmt.Println(err)
		return
	}
	for ev := range t.Events() {
		switch ev.Kind {
		case transports.EventMessages:
			for _, m := range ev.Messages {
				if m.Type == transports.TypeParticipantLeft {
					continue // after End, whether the agent's leave arrives before the end is the server's timing
				}
				fmt.Printf("%s from %s %s: %q\n", m.Type, m.From.Type, m.From.Name, m.Text)
				switch m.Text {
				case "Hi, I'm Alex.":
					_, _ = t.Send(ctx, transports.Outgoing{Text: "hello"})
				case "echo: hello":
					_ = t.End(ctx)
				}
			}
		case transports.EventEnded:
			fmt.Println("ended by", ev.Reason)
		}
	}
	// Output:
	// ParticipantJoined from Client Joan: ""
	// ParticipantJoined from Agent Alex: ""
	// Message from Agent Alex: "Hi, I'm Alex."
	// Message from Client Joan: "hello"
	// Message from Agent Alex: "echo: hello"
	// ended by client
}

// Configuration is the Widgets webchat section; a bad one names every bad field.
func ExampleParseConfig() {
	_, err := purecloud.ParseConfig(json.RawMessage(`{"transport":{"dataURL":"ftp://example.com","maxMessagePageSize":500}}`))
	fmt.Println(err)
	// Output: transports: invalid config: webchat.transport.dataURL: must be an http(s) URL such as https://api.mypurecloud.com; webchat.transport.maxMessagePageSize: must be 1-100, got 500
}

// Resume continues a saved session from its session data and cursor, and
// FetchHistory pages back through older messages.
func ExampleTransport_Resume() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sim := simpc.NewServer(simpc.Options{RoutingDelay: -1, AlertDelay: -1, AnswerDelay: -1,
		Script: &simpc.Script{Agent: &simpc.AgentProfile{Name: "Alex"}, AgentGreeting: "Hello!"}})
	defer sim.Close()
	cfg := purecloud.Config{Transport: purecloud.TransportConfig{DataURL: sim.URL, DeploymentKey: "d", OrgGUID: "o",
		InteractionData: purecloud.InteractionData{Routing: purecloud.Routing{TargetAddress: "Chat Queue"}}}}

	first, _ := purecloud.New(cfg, transports.Options{})
	_, _ = first.Start(ctx, transports.StartRequest{Nickname: "Joan"})
	greeted := func(ev transports.Event) bool {
		for _, m := range ev.Messages {
			if m.Text == "Hello!" {
				return true
			}
		}
		return false
	}
	for ev := range first.Events() {
		if greeted(ev) {
			break
		}
	}
	saved, cursor := first.SessionData(), first.Cursor() // what a restore store keeps
	_ = first.Close()                                    // detach; the chat goes on

	conv := sim.Conversations()[0]
	_, _ = conv.Say("Are you still there?", simpc.SayOptions{})

	second, _ := purecloud.New(cfg, transports.Options{})
	defer second.Close()
	if err := second.Resume(ctx, saved, cursor); err != nil {
		fmt.Println(err)
		return
	}
	for ev := range second.Events() {
		if ev.Kind == transports.EventMessages && len(ev.Messages) > 0 {
			fmt.Println("missed:", ev.Messages[0].Text)
			break
		}
	}
	page, err := second.FetchHistory(ctx)
	fmt.Println("history:", len(page.Messages) > 0, err)
	// Output:
	// missed: Are you still there?
	// history: true <nil>
}
