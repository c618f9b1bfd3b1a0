// Package wire holds the JSON wire types of the Genesys Cloud guest chat API v2
// ("ACD Web Chat v2", the API behind the Widgets transport purecloud-v2-sockets).
//
// The types are shared by the client (transports/purecloud) and the simulator
// (sim/purecloud) so the two cannot drift apart. Field names, enums and paths
// follow the guest swagger exactly; see docs and shared/spec/purecloud-guest-chat.md.
//
// The package has four parts:
//
//   - REST models (§4 of the spec): CreateWebChatConversationRequest,
//     WebChatMessage, WebChatMemberInfo, ErrorBody, the entity lists, …
//   - paths and query names of the 11 guest operations (paths.go);
//   - the event stream: Envelope, topics, metadata types and event bodies,
//     plus ParseEvent, a tolerant decoder for untrusted frames (events.go);
//   - the JWT claim layout and an unverified decoder (jwt.go).
//
// Date-times travel as ISO-8601 UTC with milliseconds and "Z"
// (2020-08-05T13:09:49.546Z); the Time type writes exactly that and reads any
// RFC 3339 value.
package wire
