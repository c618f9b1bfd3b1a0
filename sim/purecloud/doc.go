// Package purecloud is a simulator of the Genesys Cloud guest chat API v2
// (ACD Web Chat v2, the API of the Widgets transport purecloud-v2-sockets).
//
// Genesys no longer runs this API, so the simulator is the reference target
// of our client and a test double for applications. It speaks the real
// wire protocol over real sockets: the 11 REST operations under
// /api/v2/webchat/guest/conversations with their exact JSON, statuses,
// ErrorBody and inin-correlation-id; RS256 guest JWTs with the real claim
// layout; and the WebSocket event stream at /v1/token/{jwt} with the real
// envelope, topics, metadata types and heartbeats. Genesys's own JS SDK
// (purecloud-guest-chat-client) runs against it in interop/purecloud.
//
// Use it like httptest:
//
//	sim := purecloud.NewServer(purecloud.Options{})
//	defer sim.Close()
//	// point the client's API base at sim.URL, start a chat, then:
//	conv, _ := sim.NextConversation(ctx)
//	conv.Say("Hello, how can I help?", purecloud.SayOptions{})
//
// A Simulator (New) is also a plain http.Handler for mounting elsewhere.
//
// Conversations run a Script after the guest's first socket attach (routing
// never starts before): by default a WORKFLOW member joins and leaves, an
// ACD member holds the chat and an agent rings, then answers. The agent
// side is driven from Go (Conversation.Say, Typing, Transfer, LeaveAgent,
// End, …) or over the loopback control API under /_sim/. Faults are
// injected from Go (InjectHTTP, DropSockets, StallSockets, RefuseReconnects,
// DuplicateNext, ReorderNext, ExpireToken, …) or over the control API.
// Every timer runs on Options.Clock; a VirtualClock makes tests
// deterministic. docs/simulator.md is the user guide.
package purecloud
