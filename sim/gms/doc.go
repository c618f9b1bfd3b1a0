// Package gms is a GMS (Genesys Mobile Services) Chat API Version 2
// simulator: the reference target of the gms transport's tests and a test
// double for users (spec/gms-chat-v2.md §15).
//
// It serves, on one http.Handler:
//
//   - REST under /genesys/2/chat/{service}: requestChat (with or without the
//     trailing "/"), refresh, send, startTyping, stopTyping, readReceipt,
//     pushUrl, updateNickname, customNotice, updateData, disconnect, and the
//     file API (file/limits, file, file/{id}/download, file/{id}/delete),
//     form-encoded or multipart;
//   - CometD at /genesys/cometd (WebSocket and long-polling, package bayeux)
//     with the operations published on /service/chatV2/{service} and the
//     answers and unsolicited notifications delivered on the same channel to
//     the publishing session only;
//   - the CometD clients' file API at /genesys/2/chat-ntf;
//   - a JSON control API under /_sim/ (agent side and faults; loopback only by
//     default).
//
// Every answer is a Chat V2 response (package transports/gms/wire): statusCode,
// chatEnded, nextPosition (= highest index + 1) and the session keys, which
// may change during a session (MoveChatServer).
//
// The agent side is driven from Go (Chat.JoinAgent, Agent.Send, Chat.End, …),
// by a Script (greeting, echo, scripted replies with delays), or over HTTP.
// Faults: Chat Server offline (statusCode 1), key/alias rotation, dropped or
// forgotten CometD sessions, HTTP 5xx, slow answers, dropped or duplicated
// notifications, a restart with state kept.
//
// Time comes from an injectable Clock (a *transports.FakeClock in tests), so
// idle control, flex-disconnect-timeout and scripted delays run without
// sleeping. Secure keys, credentials and api keys are never logged.
//
// The behaviour and the simulator's own choices are documented in
// docs/simulators/gms.md.
package gms
