package gms_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	simgms "github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports"
	_ "github.com/cxbus/webchat/transports/gms" // registers "gms"
)

// A CometD chat against the GMS simulator: the transport is built from a
// Widgets webchat configuration through the registry, like WebChatService
// does, and the conversation is read from its event stream.
func Example() {
	sim := simgms.NewServer(simgms.Options{Script: &simgms.Script{
		Agent: "Ann", JoinDelay: -1, Greeting: "Hi, how can I help?", Echo: true, EchoPrefix: "echo: ", ReplyDelay: -1,
	}})
	defer sim.Close()

	webchat := fmt.Sprintf(`{"cometD":{"enabled":true,"cometURL":%q,
		"channel":"/service/chatV2/customer-support","apiURL":%q}}`, sim.CometDURL(), sim.NtfURL())
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	tr, err := transports.New(transports.TypeGMS, json.RawMessage(webchat), transports.Options{HTTPClient: hc})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer tr.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sd, err := tr.Start(ctx, transports.StartRequest{Nickname: "Joan"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("secureKey:", sd.Redacted().Get("secureKey"))
	for ev := range tr.Events() {
		switch ev.Kind {
		case transports.EventMessages:
			for _, m := range ev.Messages {
				fmt.Printf("%d %s %s %q\n", m.Index, m.Type, m.From.Name, m.Text)
				switch m.Text {
				case "Hi, how can I help?":
					if _, err := tr.Send(ctx, transports.Outgoing{Text: "hello"}); err != nil {
						fmt.Println(err)
					}
				case "echo: hello":
					if err := tr.End(ctx); err != nil {
						fmt.Println(err)
					}
				}
			}
		case transports.EventEnded:
			fmt.Println("ended:", ev.Reason)
		}
	}
	// Output:
	// secureKey: [redacted]
	// 1 ParticipantJoined Joan ""
	// 2 ParticipantJoined Ann ""
	// 3 Message Ann "Hi, how can I help?"
	// 4 Message Joan "hello"
	// 5 Message Ann "echo: hello"
	// ended: client
}

// The REST polling mode exposes Poller: WebChatService's poll, startPoll,
// stopPoll and resetPollExceptions map onto it. In CometD mode AsPoller
// fails with "This transport doesn't support polling.".
func Example_poller() {
	rest, _ := transports.New(transports.TypeGMS, json.RawMessage(`{"dataURL":"http://gms.example/genesys/2/chat/customer-support"}`), transports.Options{})
	defer rest.Close()
	cometd, _ := transports.New(transports.TypeGMS, json.RawMessage(`{"cometD":{"enabled":true,"cometURL":"http://gms.example/genesys/cometd"}}`), transports.Options{})
	defer cometd.Close()

	_, err := transports.AsPoller(rest)
	fmt.Println("rest:", err)
	_, err = transports.AsPoller(cometd)
	fmt.Println("cometd:", err)
	fmt.Printf("rest: %+v\n", rest.Capabilities().Published())
	// Output:
	// rest: <nil>
	// cometd: This transport doesn't support polling.
	// rest: map[async:false asyncClose:false fileUpload:true pagination:false]
}
