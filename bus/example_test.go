package bus_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/cxbus/webchat/bus"
)

type greetOptions struct {
	Name string `json:"name" validate:"required"`
}

// Register a plugin with a command, mark it ready, and call the command.
func Example_register() {
	b := bus.New(bus.Options{})
	defer b.Close(context.Background())

	greeter, _ := b.RegisterPlugin("Greeter")
	greeter.RegisterCommand("greet", func(ctx context.Context, c *bus.Call) (any, error) {
		o, err := bus.DecodeOptions[greetOptions](c.Options)
		if err != nil {
			return nil, err
		}
		return "hello " + o.Name + " (asked by " + c.Commander + ")", nil
	})
	greeter.Ready()

	v, err := b.Command(context.Background(), "Greeter.greet", greetOptions{Name: "Ada"})
	fmt.Println(v, err)
	// JSON callers pass maps or raw JSON; validation names the bad field.
	_, err = b.Command(context.Background(), "Greeter.greet", map[string]any{})
	fmt.Println(err)
	_, err = b.Command(context.Background(), "Greeter.wave", nil)
	fmt.Println(err)
	// Output:
	// hello Ada (asked by CXBus) <nil>
	// Invalid command options: name: required
	// Command does not exist: Greeter.wave
}

// Calls made before a plugin is ready are buffered and delivered when it calls Ready.
func Example_command() {
	b := bus.New(bus.Options{})
	defer b.Close(context.Background())

	svc, _ := b.RegisterPlugin("Svc")
	svc.RegisterCommand("add", func(ctx context.Context, c *bus.Call) (any, error) {
		o, _ := bus.DecodeOptions[struct{ A, B int }](c.Options)
		return o.A + o.B, nil
	})
	res := b.CommandAsync(context.Background(), "Svc.add", struct{ A, B int }{2, 3}).
		Then(func(v any) (any, error) { return v.(int) * 10, nil })

	svc.Ready() // flushes the buffered call
	v, err := res.Wait(context.Background())
	fmt.Println(v, err)
	// Output: 50 <nil>
}

// Subscribe by pattern; each subscription gets each matching event once, in publish order.
func Example_subscribe() {
	b := bus.New(bus.Options{})
	defer b.Close(context.Background())

	wcs, _ := b.RegisterPlugin("WebChatService")
	app, _ := b.RegisterPlugin("App")
	done := make(chan struct{})
	app.Subscribe("WebChatService.*", func(e bus.Event) {
		fmt.Println(e.Name, e.Data)
		if e.Name == "WebChatService.ended" {
			close(done)
		}
	})
	wcs.Publish("started", map[string]any{"id": 1})
	wcs.Publish("data.sleeping", true) // two tokens after the plugin: not matched by "*"
	wcs.Publish("ended", nil)
	<-done
	// Output:
	// WebChatService.started map[id:1]
	// WebChatService.ended map[]
}

// A before interceptor sees and may change every call's options, or cancel the call.
func Example_before() {
	b := bus.New(bus.Options{})
	defer b.Close(context.Background())

	wcs, _ := b.RegisterPlugin("WebChatService")
	wcs.RegisterCommand("sendMessage", func(ctx context.Context, c *bus.Call) (any, error) {
		return c.Options.(map[string]any)["message"], nil
	})
	wcs.Ready()

	censor, _ := b.RegisterPlugin("Censor")
	censor.Before("WebChatService.sendMessage", func(ctx context.Context, opts any) (any, error) {
		msg := opts.(map[string]any)["message"].(string)
		if strings.Contains(msg, "password") {
			return nil, nil // no object: cancel
		}
		return map[string]any{"message": strings.ToUpper(msg)}, nil
	})

	v, err := b.Command(context.Background(), "WebChatService.sendMessage", map[string]any{"message": "hi"})
	fmt.Println(v, err)
	_, err = b.Command(context.Background(), "WebChatService.sendMessage", map[string]any{"message": "my password"})
	fmt.Println(err)
	// Output:
	// HI <nil>
	// Command was cancelled by a 'before' function.
}

// Republish retains an event, so a plugin that subscribes later still learns about it.
func Example_republish() {
	b := bus.New(bus.Options{})
	defer b.Close(context.Background())

	wcs, _ := b.RegisterPlugin("WebChatService")
	wcs.Ready()
	wcs.Republish("ready", nil)

	late, _ := b.RegisterPlugin("LateComer")
	got := make(chan string)
	late.Subscribe("*.ready", func(e bus.Event) { got <- e.Name })
	fmt.Println(<-got)
	// Output: WebChatService.ready
}

// A handler doing I/O defers the call and settles it later from another goroutine.
func ExampleCall_Defer() {
	b := bus.New(bus.Options{})
	defer b.Close(context.Background())

	io, _ := b.RegisterPlugin("IO")
	io.RegisterCommand("fetch", func(ctx context.Context, c *bus.Call) (any, error) {
		d := c.Defer()
		go func() {
			// ... network I/O with ctx ...
			d.Resolve("payload")
		}()
		return nil, nil
	})
	io.Ready()
	v, err := b.Command(context.Background(), "IO.fetch", nil)
	fmt.Println(v, err)
	// Output: payload <nil>
}
