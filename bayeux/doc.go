// Package bayeux implements Bayeux 1.0, the protocol of CometD: a client with
// WebSocket and long-polling transports, and a server (an http.Handler) that hosts
// /service/** request/response channels and broadcast channels.
//
// # Client
//
// NewClient returns a Client for a server URL. Handshake negotiates a session
// (WebSocket first, long-polling when WebSocket is unavailable) and starts the connect
// loop, which keeps exactly one /meta/connect outstanding and follows the server's
// advice: "retry" connects again after the advised interval, "handshake" negotiates a
// new session, "none" stops. Failures back off (1 s more per attempt, up to 60 s). A
// reply saying the session is unknown makes the client handshake again whatever the
// error text (CometD 2/3 "402::Unknown client", CometD 4+ "402::session_unknown", Faye
// "401:<id>:Unknown client"); after such a re-handshake subscriptions are sent again
// and an EventReestablished state event is emitted, so the application can resume its
// own state.
//
// Each client has its own cookie jar: Bayeux servers such as CometD and GMS bind a
// session to the BAYEUX_BROWSER cookie set on the handshake.
//
// Listeners receive messages by channel (exact names, "/a/*" and "/a/**" patterns,
// meta channels included) whether or not the client subscribed: a /service/** channel
// needs no subscription. Publish waits for the server's acknowledgement; Request
// publishes on a /service/** channel and waits for the reply delivered on it.
//
// # Server
//
// NewServer returns a Server. HandleService registers request/response handlers for
// /service/** channels; a handler answers with ServerSession.Deliver, which reaches
// that session only. Broadcast channels work through subscribe and Server.Publish.
// Connects are held up to ServerOptions.Timeout; sessions without a connect for
// Interval+MaxInterval expire; requests with an unknown clientId get
// ServerOptions.UnknownSessionError with handshake advice. Fault-injection methods
// (ForgetSession, DropConnections, SetRefuseWebSocket, FailRequests, SetReplyDelay,
// SetDuplicateDeliveries) serve simulators and tests.
//
// The wire contract the package follows, with the quirks of real servers, is written
// down in docs/bayeux.md.
package bayeux
