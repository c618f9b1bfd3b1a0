package purecloud

import (
	"testing"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func TestHappyPathLifecycle(t *testing.T) {
	s := newTestServer(t, fastOpts())
	ch := createChat(t, s)
	conv, err := s.NextConversation(testCtx(t))
	if err != nil || conv.ID() != ch.conv() || conv.GuestID() != ch.me() {
		t.Fatalf("NextConversation: %v %v", conv, err)
	}
	st := ch.attach()
	me := ch.me()
	evs := st.expect(
		want{kind: wire.KindMemberChange, member: me, state: wire.StateConnected},
		want{kind: wire.KindMessage, member: me, bt: wire.BodyMemberJoin},
		want{kind: wire.KindMemberChange, state: wire.StateConnected}, // ACD
		want{kind: wire.KindMessage, bt: wire.BodyMemberJoin},
		want{kind: wire.KindMemberChange, state: wire.StateAlerting}, // agent
		want{kind: wire.KindMemberChange, state: wire.StateConnected},
		want{kind: wire.KindMessage, bt: wire.BodyMemberJoin},
		want{kind: wire.KindMemberChange, state: wire.StateDisconnected}, // ACD leaves
		want{kind: wire.KindMessage, bt: wire.BodyMemberLeave},
	)
	agent := evs[4].MemberChange.Member.ID
	if agent != conv.AgentID() {
		t.Fatalf("agent %s vs %s", agent, conv.AgentID())
	}
	sent := ch.send("hello")
	st.expect(want{kind: wire.KindMessage, member: me, body: "hello", bt: wire.BodyStandard})
	if _, err := conv.Say("hi there", SayOptions{Typing: true}); err != nil {
		t.Fatal(err)
	}
	st.expect(want{kind: wire.KindTyping, member: agent}, want{kind: wire.KindMessage, member: agent, body: "hi there"})
	if sent.SelfURI != wire.MessagePath(ch.conv(), sent.ID) || sent.Conversation.SelfURI != wire.ConversationSelfURI(ch.conv()) {
		t.Fatalf("selfUris: %+v", sent)
	}
	if err := conv.End(); err != nil {
		t.Fatal(err)
	}
	st.expect(
		want{kind: wire.KindMemberChange, member: agent, state: wire.StateDisconnected},
		want{kind: wire.KindMessage, member: agent, bt: wire.BodyMemberLeave},
		want{kind: wire.KindMessage, member: me, bt: wire.BodyMemberLeave},
		want{kind: wire.KindMemberChange, member: me, state: wire.StateDisconnected},
	)
	if code, text := st.closeCode(); code != 1001 || text != "The conversation is ended" {
		t.Fatalf("close %d %q", code, text)
	}
}
