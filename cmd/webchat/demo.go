package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/cxbus/webchat/bus"
	simpc "github.com/cxbus/webchat/sim/purecloud"
	_ "github.com/cxbus/webchat/transports/purecloud" // registers "purecloud-v2-sockets"
	"github.com/cxbus/webchat/webchatservice"
)

func init() {
	commands["demo"] = command{
		Summary: "run a scripted chat against an in-process Genesys Cloud simulator and print the bus events",
		Run:     demoCommand,
	}
}

// demoConfig are the demo's knobs (the flags of "webchat demo").
type demoConfig struct {
	AgentName  string        // the scripted agent's display name
	Greeting   string        // said by the agent once it joins ("" for none)
	Customer   string        // the customer's nickname
	ReplyDelay time.Duration // pause before each scripted answer
	Echo       bool          // the agent echoes messages it has no scripted answer for
	Typing     bool          // the agent shows a typing indicator before answering
	JSON       bool          // print raw events as JSON lines
	Timeout    time.Duration // bound on the whole demo
	Logger     zerolog.Logger
}

func defaultDemoConfig() demoConfig {
	return demoConfig{
		AgentName:  "Alex",
		Greeting:   "Hi, I'm Alex. How can I help you today?",
		Customer:   "Ada",
		ReplyDelay: 300 * time.Millisecond,
		Echo:       true,
		Typing:     true,
		Timeout:    30 * time.Second,
		Logger:     zerolog.Nop(),
	}
}

func demoCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg := defaultDemoConfig()
	greetingSet := false
	fs := newFlagSet("demo", "Starts the Genesys Cloud guest chat simulator on 127.0.0.1 with a scripted agent, opens a\n"+
		"WebChatService session against it, runs a short chat (start, agent joins, messages both\n"+
		"ways, typing, a filtered message, end) and prints every WebChatService event as it happens.", stderr)
	fs.StringVar(&cfg.AgentName, "agent-name", cfg.AgentName, "display name of the scripted agent")
	fs.Func("greeting", "what the agent says on joining (default \"Hi, I'm <agent-name>. How can I help you today?\"; \"\" for none)", func(s string) error {
		cfg.Greeting, greetingSet = s, true
		return nil
	})
	fs.StringVar(&cfg.Customer, "customer", cfg.Customer, "the customer's nickname")
	fs.DurationVar(&cfg.ReplyDelay, "reply-delay", cfg.ReplyDelay, "pause before each agent answer")
	fs.BoolVar(&cfg.Echo, "echo", cfg.Echo, "the agent echoes messages it has no scripted answer for")
	fs.BoolVar(&cfg.Typing, "typing", cfg.Typing, "the agent shows a typing indicator before answering")
	fs.BoolVar(&cfg.JSON, "json", cfg.JSON, "print the raw events as JSON lines (Widgets event form) instead of text")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "give up after this long")
	debug := fs.Bool("debug", false, "write debug logs of the service, transport and simulator to stderr (secrets are never logged)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !greetingSet {
		cfg.Greeting = fmt.Sprintf("Hi, I'm %s. How can I help you today?", cfg.AgentName)
	}
	if *debug {
		cfg.Logger = zerolog.New(zerolog.ConsoleWriter{Out: stderr, TimeFormat: "15:04:05.000"}).Level(zerolog.DebugLevel).With().Timestamp().Logger()
	}
	return runDemo(ctx, cfg, stdout)
}

// The customer's side of the scripted chat, and the agent's scripted answers to it.
const (
	demoQuestion     = "Hi! I have a question about my order 1234."
	demoOrderAnswer  = "Let me look that up... order 1234 ships tomorrow."
	demoCode         = "{code:493817}"
	demoCodeFilter   = `/^\{code:\d+\}$/`
	demoCodeAnswer   = "Thanks, your verification code is confirmed."
	demoThanks       = "Great, thank you!"
	demoEchoPrefix   = "You said: "
	demoTypingPrefix = "Hi! I have a question"
)

// runDemo runs the demo chat and prints its events to out. It returns nil when the chat went
// as scripted, else an error saying which step failed.
func runDemo(ctx context.Context, cfg demoConfig, out io.Writer) (err error) {
	if cfg.Timeout <= 0 {
		return fmt.Errorf("timeout must be positive, got %v", cfg.Timeout)
	}
	if cfg.ReplyDelay < 0 {
		return fmt.Errorf("reply-delay must not be negative, got %v", cfg.ReplyDelay)
	}
	if strings.TrimSpace(cfg.AgentName) == "" {
		return errors.New("agent-name must not be empty")
	}
	if strings.TrimSpace(cfg.Customer) == "" {
		return errors.New("customer must not be empty")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	pr := newEventPrinter(out, cfg.JSON, nil)
	defer func() {
		if err == nil {
			err = pr.Err()
		}
	}()

	sim, err := simpc.Start("127.0.0.1:0", demoSimOptions(cfg))
	if err != nil {
		return fmt.Errorf("starting the simulator: %w", err)
	}
	defer sim.Close()
	pr.Note("Genesys Cloud simulator listening on %s (agent %q)", sim.URL, cfg.AgentName)

	rec := newRecorder()
	host, err := webchatservice.NewHost(webchatservice.HostOptions{
		Config: demoWebchatConfig(sim.URL),
		Logger: cfg.Logger,
		// Print every WebChatService event of every session, from before the service exists.
		Extensions: []webchatservice.Extension{watchEvents(func(e bus.Event) {
			pr.Event(e) // print first, so that notes about later steps come after it
			rec.add(e)
		})},
	})
	if err != nil {
		return fmt.Errorf("configuring the host: %w", err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if serr := host.Shutdown(sctx); serr != nil && err == nil {
			err = fmt.Errorf("shutting down: %w", serr)
		}
	}()
	sess, err := host.Open(ctx, webchatservice.OpenOptions{})
	if err != nil {
		return fmt.Errorf("opening a session: %w", err)
	}
	if err := demoChat(ctx, cfg, sim, sess.Client, rec, pr); err != nil {
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			return fmt.Errorf("timed out after %v: %w", cfg.Timeout, err)
		case errors.Is(err, context.Canceled):
			return fmt.Errorf("interrupted: %w", err)
		}
		return err
	}
	pr.Note("demo finished: %d events", rec.Len())
	return nil
}

// watchEvents is an extension that registers a plugin "DemoPrinter" on every new session and
// hands it each WebChatService event (not the data-store events).
func watchEvents(fn func(bus.Event)) webchatservice.Extension {
	return func(s *webchatservice.Session) error {
		p, err := s.Bus.RegisterPlugin("DemoPrinter")
		if err != nil {
			return err
		}
		_, err = p.Subscribe(webchatservice.PluginName+".*", func(e bus.Event) {
			if slices.Contains(webchatservice.Events, strings.TrimPrefix(e.Name, webchatservice.PluginName+".")) {
				fn(e)
			}
		})
		if err != nil {
			return err
		}
		return p.Ready()
	}
}

// demoChat is the customer's side of the chat, step by step; each step waits for the events it
// causes before the next.
func demoChat(ctx context.Context, cfg demoConfig, sim *simpc.Server, c *webchatservice.Client, rec *recorder, pr *eventPrinter) error {
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
	wait := func(from int, name string, match func(bus.Event) bool) error {
		_, err := rec.Wait(ctx, from, name, match)
		return err
	}

	// Like any Widgets plugin, wait for WebChatService.ready (retained) before using the service.
	if err := wait(0, webchatservice.EventReady, nil); err != nil {
		return step("service ready", err)
	}
	mark := rec.Len()
	pr.Note("startChat as %s", cfg.Customer)
	if _, err := c.StartChat(ctx, webchatservice.StartChatOptions{
		Nickname: cfg.Customer, FirstName: cfg.Customer, LastName: "Example", Email: "customer@example.com",
		Subject: "Order question",
	}); err != nil {
		return step("startChat", err)
	}
	conv, err := sim.NextConversation(ctx)
	if err != nil {
		return step("finding the conversation in the simulator", err)
	}
	if err := wait(mark, webchatservice.EventAgentConnected, nil); err != nil {
		return step("agent joining", err)
	}
	if cfg.Greeting != "" {
		if err := wait(mark, webchatservice.EventMessageReceived, messageFrom("Agent", cfg.Greeting)); err != nil {
			return step("agent greeting", err)
		}
	}

	mark = rec.Len()
	pr.Note("sendTyping %q", demoTypingPrefix)
	if err := c.SendTyping(ctx, demoTypingPrefix); err != nil {
		return step("sendTyping", err)
	}
	if err := wait(mark, webchatservice.EventClientTypingStarted, nil); err != nil {
		return step("customer typing", err)
	}
	pr.Note("sendMessage %q", demoQuestion)
	if _, err := c.SendMessage(ctx, demoQuestion); err != nil {
		return step("sendMessage", err)
	}
	if err := wait(mark, webchatservice.EventMessageReceived, messageFrom("Agent", demoOrderAnswer)); err != nil {
		return step("agent answer", err)
	}

	// A filtered message: the agent gets it, the customer's own transcript hides it.
	mark = rec.Len()
	pr.Note("sendFilteredMessage %q with filter %s", demoCode, demoCodeFilter)
	if _, err := c.SendFilteredMessage(ctx, demoCode, demoCodeFilter); err != nil {
		return step("sendFilteredMessage", err)
	}
	if err := wait(mark, webchatservice.EventMessageReceived, messageFrom("Agent", demoCodeAnswer)); err != nil {
		return step("agent answer to the filtered message", err)
	}
	if err := checkFiltered(ctx, c, conv, rec); err != nil {
		return err
	}
	pr.Note("check: %s reached the agent and is hidden from the customer's events and transcript", demoCode)

	if cfg.Echo {
		mark = rec.Len()
		pr.Note("sendMessage %q", demoThanks)
		if _, err := c.SendMessage(ctx, demoThanks); err != nil {
			return step("sendMessage", err)
		}
		if err := wait(mark, webchatservice.EventMessageReceived, messageFrom("Agent", demoEchoPrefix+demoThanks)); err != nil {
			return step("agent echo", err)
		}
	}

	mark = rec.Len()
	pr.Note("endChat")
	if err := c.EndChat(ctx); err != nil {
		return step("endChat", err)
	}
	if err := wait(mark, webchatservice.EventEnded, nil); err != nil {
		return step("end of chat", err)
	}
	return nil
}

// checkFiltered verifies the filtered message: the simulator's agent side received it, and no
// messageReceived event nor the transcript shows it.
func checkFiltered(ctx context.Context, c *webchatservice.Client, conv *simpc.Conversation, rec *recorder) error {
	if !slices.Contains(conv.GuestMessages(), demoCode) {
		return fmt.Errorf("the filtered message %s did not reach the agent", demoCode)
	}
	if shown := messageFrom("Client", demoCode); rec.anyMatch(webchatservice.EventMessageReceived, shown) {
		return fmt.Errorf("the filtered message %s was published in messageReceived", demoCode)
	}
	tr, err := c.Transcript(ctx)
	if err != nil {
		return fmt.Errorf("getTranscript: %w", err)
	}
	for _, m := range tr.Messages {
		if strings.Contains(m.Text, demoCode) {
			return fmt.Errorf("the filtered message %s is in the transcript", demoCode)
		}
	}
	return nil
}

// demoSimOptions is the simulator with a quick scripted agent.
func demoSimOptions(cfg demoConfig) simpc.Options {
	return simpc.Options{
		RoutingDelay: 100 * time.Millisecond,
		AlertDelay:   100 * time.Millisecond,
		AnswerDelay:  200 * time.Millisecond,
		CloseGrace:   100 * time.Millisecond,
		Script: &simpc.Script{
			Agent:         &simpc.AgentProfile{Name: cfg.AgentName},
			AgentGreeting: cfg.Greeting,
			Replies: []simpc.Reply{
				{Match: "{code:", Text: demoCodeAnswer, Delay: cfg.ReplyDelay, Typing: cfg.Typing},
				{Match: "order", Text: demoOrderAnswer, Delay: cfg.ReplyDelay, Typing: cfg.Typing},
			},
			Echo:        cfg.Echo,
			EchoPrefix:  demoEchoPrefix,
			ReplyDelay:  cfg.ReplyDelay,
			ReplyTyping: cfg.Typing,
		},
		Logger: cfg.Logger.With().Str("component", "sim").Logger(),
	}
}

// demoWebchatConfig is a Widgets `_genesys.widgets.webchat` object pointing at the simulator.
func demoWebchatConfig(simURL string) map[string]any {
	return map[string]any{
		"transport": map[string]any{
			"type":          "purecloud-v2-sockets",
			"dataURL":       simURL,
			"deploymentKey": "demo-deployment",
			"orgGuid":       "demo-org",
			"interactionData": map[string]any{
				"routing": map[string]any{"targetType": "QUEUE", "targetAddress": "Demo Queue"},
			},
		},
		"userData": map[string]any{"source": "webchat demo"},
	}
}
