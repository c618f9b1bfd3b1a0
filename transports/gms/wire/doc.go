// Package wire holds the GMS Chat API Version 2 wire types shared by the
// client (package transports/gms) and the simulator (package sim/gms), so the
// two cannot drift apart.
//
// It covers, per spec/gms-chat-v2.md:
//
//   - the Chat V2 response ([Response]: statusCode 0/1/2, chatEnded,
//     nextPosition, the session keys, transcript [Event]s of every type,
//     errors[] with codes, userData) and a validating decoder
//     ([DecodeResponse]) that reports what is wrong with a path such as
//     `messages[2].index`;
//   - the session keys and their refresh rules ([Keys.Apply], §2);
//   - the operations ([Operation]) with one request model ([Request]) that
//     builds and parses both the REST form (url-encoded or multipart) and the
//     CometD `data` object, plus URL helpers for the REST, chat-ntf and CometD
//     endpoints;
//   - the error codes ([CodeNicknameRequired], [CodeTooManyFiles], …) and the
//     file limits ([FileLimits]) with the pre-upload check that yields 201/202/203.
//
// Identifiers (chatId, userId, secureKey, alias, participantId, file-id) are
// always Go strings: the decoder accepts a JSON number or a JSON string for
// each. Integers (index, nextPosition, statusCode, utcTime, error codes) accept
// numeric strings too. Unknown keys are ignored.
//
// secureKey is a secret: [Keys] and [Request] redact it in their String
// methods, and no error produced by this package contains it.
package wire
