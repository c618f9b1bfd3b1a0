package wire_test

import (
	"fmt"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func ExampleParseEvent() {
	frame := []byte(`{"topicName":"v2.conversations.chats.c1.members","version":"2",
	  "eventBody":{"id":"e1","conversation":{"id":"c1"},"member":{"id":"m1","state":"CONNECTED"},
	  "timestamp":"2020-08-05T13:09:51.002Z"},"metadata":{"CorrelationId":"x","type":"member-change"}}`)
	ev, err := wire.ParseEvent(frame)
	if err != nil {
		panic(err)
	}
	fmt.Println(ev.Kind, ev.ConversationID, ev.MemberChange.Member.ID, ev.MemberChange.Member.State)

	hb, _ := wire.ParseEvent(wire.HeartbeatFrame)
	fmt.Println(hb.Kind)
	// Output:
	// member-change c1 m1 CONNECTED
	// heartbeat
}

func ExampleMemberMessagesPath() {
	fmt.Println(wire.MemberMessagesPath("c1", "m1"))
	fmt.Println(wire.MessagesTopic("c1"))
	// Output:
	// /api/v2/webchat/guest/conversations/c1/members/m1/messages
	// v2.conversations.chats.c1.messages
}
