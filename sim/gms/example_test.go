package gms_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cxbus/webchat/sim/gms"
	"github.com/cxbus/webchat/transports/gms/wire"
)

// A REST client starts a chat, the agent side (driven from Go) answers, and
// the client's refresh returns the transcript from its position.
func Example() {
	sim := gms.NewServer(gms.Options{Script: &gms.Script{}}) // no automatic agent
	defer sim.Close()

	post := func(op wire.Operation, k wire.Keys, r wire.Request) *wire.Response {
		r.Operation = op
		r.SetKeys(k)
		u, _ := wire.RESTURL(sim.ChatURL("customer-support"), op, k.ChatID, "", true)
		form, _ := r.Form()
		res, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
		if err != nil {
			panic(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		resp, err := wire.DecodeResponse(body)
		if err != nil {
			panic(err)
		}
		return resp
	}

	var keys wire.Keys
	keys.Apply(post(wire.OpRequestChat, keys, wire.Request{Nickname: "Joan"}))

	chat := sim.Chat(keys.ChatID)
	agent, _ := chat.JoinAgent("Ann")
	agent.Send("Hello Joan!")

	r := post(wire.OpRefresh, keys, wire.Request{TranscriptPosition: 2})
	for _, e := range r.Messages {
		fmt.Printf("%d %s %s %q\n", e.Index, e.Type, e.From.Nickname, e.Text)
	}
	fmt.Println("nextPosition", r.NextPosition)
	// Output:
	// 2 ParticipantJoined Ann ""
	// 3 Message Ann "Hello Joan!"
	// nextPosition 4
}

// A scripted agent joins, greets and echoes; the test waits on the chat
// instead of sleeping.
func ExampleScript() {
	sim := gms.NewServer(gms.Options{Script: &gms.Script{
		Agent: "Ann", JoinDelay: -1, Greeting: "Hi, how can I help?",
		Replies: []gms.Reply{{Match: "price", Text: "It is free.", Delay: -1}},
	}})
	defer sim.Close()

	form := url.Values{"nickname": {"Joan"}}
	res, err := http.PostForm(sim.ChatURL("customer-support"), form)
	if err != nil {
		panic(err)
	}
	res.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	chat, _ := sim.WaitChat(ctx, "")
	greeting, _ := chat.WaitEvent(ctx, wire.EventMessage, nil)
	fmt.Println(greeting.From.Nickname+":", greeting.Text)
	// Output: Ann: Hi, how can I help?
}

// Faults are switched on from Go (or POST /_sim/faults).
func ExampleServer_ChatServerOffline() {
	sim := gms.NewServer(gms.Options{Script: &gms.Script{}})
	defer sim.Close()
	sim.ChatServerOffline(1)

	res, _ := http.PostForm(sim.ChatURL("customer-support"), url.Values{"nickname": {"Joan"}})
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(string(body))
	// Output: {"statusCode":1,"chatEnded":false,"messages":[]}
}
