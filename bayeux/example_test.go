package bayeux_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	"github.com/cxbus/webchat/bayeux"
)

// A server hosting a /service channel, and a client making a request/response call on
// it over WebSocket (the default; long-polling when WebSocket is unavailable).
func Example() {
	srv := bayeux.NewServer(bayeux.ServerOptions{})
	defer srv.Close()
	srv.HandleService("/service/greeter", func(ctx context.Context, s *bayeux.ServerSession, m *bayeux.Message) error {
		var req struct{ Name string }
		if err := m.DataAs(&req); err != nil {
			return err
		}
		return s.Deliver(m.Channel, map[string]string{"greeting": "hello " + req.Name})
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, err := bayeux.NewClient(hs.URL+"/cometd", bayeux.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Handshake(ctx); err != nil {
		log.Fatal(err)
	}
	reply, err := c.Request(ctx, "/service/greeter", map[string]string{"name": "bob"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Transport(), string(reply.Data))
	if err := c.Disconnect(ctx); err != nil {
		log.Fatal(err)
	}
	// Output: websocket {"greeting":"hello bob"}
}

// GMS style: a listener on the service channel (no subscription needed) receives every
// notification; operations are published on the same channel and acknowledged.
func ExampleClient_AddListener() {
	srv := bayeux.NewServer(bayeux.ServerOptions{})
	defer srv.Close()
	srv.HandleService("/service/chatV2/*", func(ctx context.Context, s *bayeux.ServerSession, m *bayeux.Message) error {
		return s.Deliver(m.Channel, map[string]any{"statusCode": 0, "nextPosition": 2})
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, err := bayeux.NewClient(hs.URL+"/genesys/cometd", bayeux.Options{Transports: []string{bayeux.TransportLongPolling}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	notifications := make(chan string, 1)
	remove, err := c.AddListener("/service/chatV2/customer-support", func(m *bayeux.Message) {
		notifications <- string(m.Data)
	})
	if err != nil {
		log.Fatal(err)
	}
	defer remove()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Handshake(ctx); err != nil {
		log.Fatal(err)
	}
	ack, err := c.Publish(ctx, "/service/chatV2/customer-support", map[string]string{"operation": "requestChat", "nickname": "bob"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("acknowledged:", ack.Successful)
	fmt.Println("notification:", <-notifications)
	// Output:
	// acknowledged: true
	// notification: {"nextPosition":2,"statusCode":0}
}

// Broadcast channels: subscribe with a pattern, and receive what the server (or any
// client) publishes.
func ExampleClient_Subscribe() {
	srv := bayeux.NewServer(bayeux.ServerOptions{})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, err := bayeux.NewClient(hs.URL+"/cometd", bayeux.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Handshake(ctx); err != nil {
		log.Fatal(err)
	}
	got := make(chan *bayeux.Message, 1)
	sub, err := c.Subscribe(ctx, "/news/*", func(m *bayeux.Message) { got <- m })
	if err != nil {
		log.Fatal(err)
	}
	if _, err := srv.Publish("/news/weather", "sunny"); err != nil {
		log.Fatal(err)
	}
	m := <-got
	fmt.Println(m.Channel, string(m.Data))
	_ = sub.Unsubscribe(ctx)
	// Output: /news/weather "sunny"
}

// State events tell the application when the session was re-established (a new
// handshake after the server lost the session) so it can resume its own state.
func ExampleClient_State() {
	srv := bayeux.NewServer(bayeux.ServerOptions{})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	c, err := bayeux.NewClient(hs.URL+"/cometd", bayeux.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	states := c.State()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Handshake(ctx); err != nil {
		log.Fatal(err)
	}
	forgot := false
	for ev := range states {
		switch ev.Kind {
		case bayeux.EventHandshake:
			fmt.Println("handshake")
		case bayeux.EventConnected:
			if !forgot {
				forgot = true
				srv.ForgetSession(c.ClientID()) // fault injection: the server loses the session
			}
		case bayeux.EventReestablished:
			fmt.Println("re-established: resume the application state here")
			return
		}
	}
	// Output:
	// handshake
	// handshake
	// re-established: resume the application state here
}
