package purecloud_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/cxbus/webchat/sim/purecloud"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// startChat creates a guest chat over REST, as any client would.
func startChat(baseURL string) (*wire.CreateWebChatConversationResponse, error) {
	body, _ := json.Marshal(wire.CreateWebChatConversationRequest{
		OrganizationID: "my-org",
		DeploymentID:   "my-deployment",
		RoutingTarget:  &wire.WebChatRoutingTarget{TargetType: wire.TargetTypeQueue, TargetAddress: "Support"},
		MemberInfo:     &wire.GuestMemberInfo{DisplayName: "Ada"},
	})
	res, err := http.Post(baseURL+wire.ConversationsPath, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out wire.CreateWebChatConversationResponse
	return &out, json.NewDecoder(res.Body).Decode(&out)
}

// Start a simulator, start a chat against it, and read the event stream
// until the scripted agent greets the guest.
func ExampleNewServer() {
	sim := purecloud.NewServer(purecloud.Options{
		RoutingDelay: -1, AlertDelay: -1, AnswerDelay: -1, // route at once
		Script: &purecloud.Script{Agent: &purecloud.AgentProfile{Name: "Grace"}, AgentGreeting: "Hi Ada!"},
	})
	defer sim.Close()

	chat, err := startChat(sim.URL)
	if err != nil {
		panic(err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(chat.EventStreamURI, nil)
	if err != nil {
		panic(err)
	}
	defer conn.Close()
	for {
		_, frame, err := conn.ReadMessage()
		if err != nil {
			panic(err)
		}
		ev, _ := wire.ParseEvent(frame)
		switch ev.Kind {
		case wire.KindMemberChange:
			who := "agent"
			if ev.MemberChange.Member.ID == chat.Member.ID {
				who = "guest"
			}
			fmt.Println("member-change", who, ev.MemberChange.Member.State)
		case wire.KindMessage:
			fmt.Printf("message %s %q\n", ev.Message.BodyType, ev.Message.Body)
			if ev.Message.Body == "Hi Ada!" {
				return
			}
		}
	}
	// Output:
	// member-change guest CONNECTED
	// message member-join ""
	// member-change agent ALERTING
	// member-change agent CONNECTED
	// message member-join ""
	// message standard "Hi Ada!"
}

// Drive the agent from Go: wait for the conversation your app started,
// then have the agent type, talk, transfer and end the chat.
func ExampleConversation_Say() {
	sim := purecloud.NewServer(purecloud.Options{Script: &purecloud.Script{}}) // nobody routed
	defer sim.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, err := startChat(sim.URL); err != nil { // your app under test does this
		panic(err)
	}
	conv, err := sim.NextConversation(ctx)
	if err != nil {
		panic(err)
	}
	agent, _ := conv.JoinAgent(purecloud.AgentProfile{Name: "Grace"}, purecloud.JoinOptions{})
	msg, _ := conv.Say("How can I help?", purecloud.SayOptions{Typing: true})
	fmt.Println(msg.Sender.ID == agent, msg.Body)
	next, _ := conv.Transfer(purecloud.AgentProfile{Name: "Linus"}, purecloud.JoinOptions{})
	fmt.Println(next != agent, conv.AgentState())
	_ = conv.End()
	ended, why := conv.Ended()
	fmt.Println(ended, why)
	// Output:
	// true How can I help?
	// true CONNECTED
	// true agent
}

// Inject a 429 on the next message POST; the response carries Retry-After
// and the swagger message.
func ExampleSimulator_InjectHTTP() {
	sim := purecloud.NewServer(purecloud.Options{})
	defer sim.Close()
	sim.InjectHTTP(purecloud.HTTPFault{Op: purecloud.OpCreateConversation, Status: 429, RetryAfter: 3})

	body := `{"organizationId":"o","deploymentId":"d","routingTarget":{"targetType":"QUEUE","targetAddress":"q"},"memberInfo":{"displayName":"G"}}`
	res, err := http.Post(sim.URL+wire.ConversationsPath, "application/json", bytes.NewBufferString(body))
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var e wire.ErrorBody
	_ = json.NewDecoder(res.Body).Decode(&e)
	fmt.Println(res.StatusCode, res.Header.Get("Retry-After"), e.Code)
	fmt.Println(e.Message)
	// Output:
	// 429 3 too.many.requests
	// Rate limit exceeded the maximum. Retry the request in [3] seconds
}

// A VirtualClock makes timers deterministic: here the 15-minute idle
// timeout ends a chat without waiting.
func ExampleNewVirtualClock() {
	clock := purecloud.NewVirtualClock(time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC))
	sim := purecloud.NewServer(purecloud.Options{Clock: clock})
	defer sim.Close()
	if _, err := startChat(sim.URL); err != nil {
		panic(err)
	}
	conv := sim.Conversations()[0]
	clock.Advance(purecloud.DefaultIdleTimeout)
	fmt.Println(conv.Ended())
	// Output: true idle
}
