// Package bus is an in-process command/event bus with the semantics of Genesys Widgets' CXBus,
// the bus WebChatService and every Widgets plugin live on, minus its known defects.
//
// Everything on the bus is a plugin. A plugin registers commands (request → one result), publishes
// events (one → many, optionally retained for late subscribers), subscribes to events by exact
// name or pattern, intercepts other plugins' commands with before functions, and owns a small
// observable data store:
//
//	b := bus.New(bus.Options{})
//	p, _ := b.RegisterPlugin("Greeter")
//	p.RegisterCommand("greet", func(ctx context.Context, c *bus.Call) (any, error) {
//		o, err := bus.DecodeOptions[GreetOptions](c.Options)
//		if err != nil {
//			return nil, err
//		}
//		return "hello " + o.Name, nil
//	})
//	p.Ready()
//	v, err := b.Command(ctx, "Greeter.greet", GreetOptions{Name: "Ada"})
//
// # Execution model
//
// Delivery is asynchronous: Command, Publish, Republish, Subscribe and Set return before any
// handler, interceptor or callback they trigger runs. Each plugin has a FIFO mailbox; its command
// handlers, subscription callbacks and Then/Catch callbacks run one at a time in arrival order, so
// plugin state needs no locks. A mailbox runs on a goroutine only while it has work, so an idle
// plugin costs no goroutine. Mailboxes are unbounded by default (nothing is lost); Stats reports
// their depth, a warning is raised at Options.MailboxWarn, and an optional Options.MailboxLimit
// refuses work visibly (rejected calls, CXBus.error events), never silently.
//
// A handler doing I/O calls Call.Defer and settles the call later from any goroutine; it must
// never block waiting for a command to its own plugin (its mailbox is busy running it).
//
// # Commands
//
// A call to a registered plugin that has not called Ready is buffered and delivered, in call order,
// when it does (a plugin may call its own commands before). Unlike CXBus, every call settles: an
// unknown command rejects with "Command does not exist: <Plugin.command>", an unregistered plugin
// with "Plugin is not registered: <Plugin>" (unless a Loader starts it), a call past its deadline
// (the caller's context, or Options.CommandTimeout, default 60 s) with "Command timed out: …".
// Private commands are enforced by the bus. Every rejection is an error matching a sentinel with
// errors.Is (ErrCommandNotFound, ErrAccessDenied, …) and keeps the exact Widgets-style text.
//
// # Events
//
// Event names are Plugin.event. Subscriptions take exact names or '.'-token patterns: "*" matches
// one token, ">" one or more trailing tokens ("WebChatService.*", "*.ready", "WebChatService.>";
// a bare "*" matches everything). Subscribe returns a handle whose Unsubscribe removes exactly that
// subscription. Republish retains the event for late subscribers; readiness events (*.ready) use it.
//
// The bus publishes CXBus.error (ErrorEvent) for recovered panics, slow consumers and mailbox
// warnings. See docs/bus.md for the full contract and the differences from CXBus.
package bus
