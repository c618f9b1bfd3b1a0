// Package prefilter holds the regular expressions WebChatService uses to hide messages:
// a received message whose text matches the standard co-browse filter or a custom filter is
// left out of messageReceived and the transcript (it still moves the cursor and participant
// state; see the WebChatService contract §3.9 and §6.1).
//
// # Filters
//
// A [Filter] is written either as a JavaScript regular expression literal, "/source/flags",
// the form Widgets users know (addPrefilter({filters: /[a-zA-Z]/})), or as a Go (RE2) pattern.
// [Parse] tells them apart: a string that starts with '/', ends its body with an unescaped '/'
// outside a character class and continues with ASCII letters only is a literal; anything else
// is a Go pattern. [ParseJS] takes the {source, flags} pair the contract stores, [ParseGo]
// and [FromRegexp] take Go patterns, and [ParseValue] takes the "filters" option of
// addPrefilter as it arrives on the bus (a string, a regexp, a {source, flags} object, JSON, or
// a list of those).
//
// Matching uses Go's regexp package only: RE2 runs in time linear in the text, so an agent- or
// customer-controlled message can never trigger a backtracking blow-up. Constructs RE2 lacks
// are rejected with an error that says so, never approximated:
//
//	prefilter: look-ahead is not supported (RE2): /foo(?=bar)/
//	prefilter: look-behind is not supported (RE2): /(?<=\$)\d+/
//	prefilter: back-references are not supported (RE2): /(a)\1/        (also \k<name>)
//	prefilter: atomic groups are not supported (RE2): /(?>ab|a)c/
//	prefilter: possessive quantifiers are not supported (RE2): /a++b/
//	prefilter: Unicode property \p{Emoji} is not supported (RE2): /\p{Emoji}/u
//
// Every parse error is an [*Error] matching [ErrInvalid]; the unsupported ones also match
// [ErrUnsupported]. Other errors name the problem ("unknown flag "x"", "missing closing )").
// An empty pattern is rejected: it would hide every message.
//
// # JavaScript to RE2 translation
//
// Flags: i → (?i), m → (?m), s → (?s); g, y and u are accepted and ignored for matching (u
// also enables \u{…} and \p{…}, as in JavaScript); any other flag, or a repeated one, is an
// error naming it. The body is translated where JavaScript and RE2 differ and RE2 has an
// equivalent:
//
//	JavaScript            RE2                              why
//	.                     [^\n\r\x{2028}\x{2029}]          JS '.' also excludes \r, U+2028, U+2029 (with s: '.')
//	\s  \S                [\t\n\v\f\r \x{A0}…\x{FEFF}]     JS \s includes \v and Unicode spaces; \S its complement
//	[^]                   [\x00-\x{10FFFF}]                any character (RE2 reads "[^]" as an unclosed class)
//	[]                    [^\x00-\x{10FFFF}]               matches nothing
//	\/                    /                                escaped delimiter
//	[\b]                  [\x08]                           backspace inside a class
//	\uHHHH, \uD83D\uDE00  \x{HHHH}, \x{1F600}              surrogate pairs are joined
//	\u{H…} (u flag)       \x{H…}
//	\cJ                   \x{A}                            control characters
//	[\12] (in a class)    [\x{A}]                          legacy octal escape
//	\p{Letter} (u flag)   \p{L}                            long General_Category names → short
//	\p{Script=Greek}      \p{Greek}                        also sc=, gc=, General_Category=
//	\a \e \z \A \Q \E …   a e z A Q E …                    identity escapes (RE2 gives \a \z \A \Q meaning)
//	[[:alpha:]]           [\[:alpha:]\]                    '[' is literal inside a JS class
//	[\d-z]                [\d\-z]                          '-' next to a class escape is literal
//	{ } ] (not a quantifier) \{ \} \]                      literal braces and brackets
//
// Unchanged: \d \w \b \B (ASCII in both), \t \n \r \f \v \0 \xHH, groups (?:…) and named
// groups (?<name>…), greedy and lazy quantifiers, anchors. Go patterns are compiled as given.
//
// Remaining differences, documented rather than translated: with the m flag, ^ and $ match
// only at \n (JavaScript also at \r, U+2028, U+2029); the i flag uses Unicode simple case
// folding (JavaScript without u uses toUpperCase, so /ſ/i does not match "s" there but does
// here); \S inside a class is RE2's \S; JavaScript without u counts UTF-16 code units, so
// /^.{2}$/ matches one astral character such as 😀 in JavaScript but not here; patterns are
// limited to RE2's repeat count of 1000. A cross-check runs the translation against Node.js's
// own RegExp (TestJavaScriptEngineAgrees).
//
// # Sets
//
// A [Set] holds the session's custom filters and always applies [Standard], the contract's
// co-browse filter `\{start:[0-9]{9}\}`. Its zero value is ready to use; it is safe for
// concurrent use, and Match never waits for writers. Identical filters (same Go expression:
// /a/gi, /a/i and (?i)a) are stored once. [Set.Patterns] and the JSON form (an array of
// strings such as "/token=\\w+/i") are what a restore snapshot stores; [Set.AddPatterns] and
// [Set.UnmarshalJSON] read them back. [Filter] marshals to the contract's {source, flags}
// object, which addPrefilter resolves with.
//
// # Speed
//
// Set.Match does not run every regexp. When a set is built, each filter is analysed for a
// cheap necessary condition: a handful of literals one of which every match contains (ASCII
// case-insensitive literals included), or a run of n characters of one class ("[0-9a-f]{32}").
// One pass over the text, with a bitmap of the first two bytes of all literals, finds which
// literals occur; class runs are measured once per distinct class; only the filters whose
// condition holds run their regexp. With 100 realistic filters and a 200-character message
// that none matches, Match takes about 2 µs (one precompiled regexp alone: about 55 ns; the
// 100 regexps one after the other: about 190 µs; one alternation of all: about 350 µs); see
// bench_test.go.
package prefilter
