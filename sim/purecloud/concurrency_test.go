package purecloud

import (
	"fmt"
	"sync"
	"testing"

	"github.com/cxbus/webchat/transports/purecloud/wire"
)

// TestManyConversationsConcurrently runs independent chats in parallel;
// each sees exactly its own events, in order, under -race.
func TestManyConversationsConcurrently(t *testing.T) {
	o := fastOpts()
	o.Script = &Script{Agent: &AgentProfile{Name: "Echo"}, Echo: true}
	s := newTestServer(t, o)
	const chats, msgs = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for i := 0; i < chats; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- runChat(t, s, i, msgs)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(s.Conversations()); n != chats {
		t.Fatalf("conversations %d", n)
	}
	for _, c := range s.Conversations() {
		if ended, why := c.Ended(); !ended || why != EndByGuest {
			t.Fatalf("%s not ended by guest: %v %v", c.ID(), ended, why)
		}
		if got := len(c.GuestMessages()); got != msgs {
			t.Fatalf("%s stored %d guest messages", c.ID(), got)
		}
	}
}

// runChat must not call t.Fatal (it runs off the test goroutine).
func runChat(t *testing.T, s *Server, i, msgs int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("chat %d: %v", i, r)
		}
	}()
	a := createChat(t, s)
	st := a.attach()
	conv := s.Conversation(a.conv())
	if err := conv.Wait(testCtx(t), func(c *Conversation) bool { return c.AgentState() == wire.StateConnected }); err != nil {
		return err
	}
	agent := conv.AgentID()
	for j := 0; j < msgs; j++ {
		a.send(fmt.Sprintf("c%d m%d", i, j))
	}
	mine, echoes := 0, 0
	for mine < msgs || echoes < msgs {
		ev := st.next()
		if ev.Kind != wire.KindMessage || ev.Message.BodyType != wire.BodyStandard {
			continue
		}
		if ev.ConversationID != a.conv() {
			return fmt.Errorf("chat %d got an event of %s", i, ev.ConversationID)
		}
		switch ev.Message.Sender.ID {
		case a.me():
			if want := fmt.Sprintf("c%d m%d", i, mine); ev.Message.Body != want {
				return fmt.Errorf("chat %d: got %q want %q", i, ev.Message.Body, want)
			}
			mine++
		case agent:
			echoes++
		}
	}
	if r := do(t, "DELETE", a.url(wire.MemberPath(a.conv(), a.me())), a.info.JWT, nil); r.status != 204 {
		return fmt.Errorf("chat %d: delete %d", i, r.status)
	}
	return nil
}
