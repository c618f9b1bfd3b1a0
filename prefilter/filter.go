package prefilter

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Syntax tells how a filter's source is written.
type Syntax string

const (
	// JavaScript is a RegExp body with flags, as in /source/flags. It is the zero value.
	JavaScript Syntax = ""
	// Go is Go regexp (RE2) syntax, compiled as is.
	Go Syntax = "go"
)

// StandardPattern is the standard co-browse filter of the WebChatService contract (§6.1): it
// hides the co-browse start token "{start:<9 digits>}" that the WebChat UI sends as a message.
const StandardPattern = `\{start:[0-9]{9}\}`

// Standard is the compiled standard co-browse filter. Every [Set] applies it.
var Standard = mustParseJS(StandardPattern, "")

// Filter is one compiled prefilter. It is immutable and safe for concurrent use.
type Filter struct {
	source string
	flags  string
	syntax Syntax
	expr   string // the Go expression that is compiled
	re     *regexp.Regexp
	need   need
	hasLit bool
}

// Parse parses a filter written either as a JavaScript literal "/source/flags" or as a Go
// pattern. A string is a JavaScript literal when it starts with '/', its body ends with an
// unescaped '/' outside a character class and only ASCII letters follow; anything else is a Go
// pattern. Use [ParseGo] for a Go pattern that looks like a literal.
func Parse(s string) (*Filter, error) {
	if src, flags, ok := splitLiteral(s); ok {
		return parseJS(s, src, flags)
	}
	return ParseGo(s)
}

// ParseLiteral parses a JavaScript regular expression literal "/source/flags".
func ParseLiteral(lit string) (*Filter, error) {
	src, flags, ok := splitLiteral(lit)
	if !ok {
		return nil, invalid(lit, "not a JavaScript regular expression literal /source/flags")
	}
	return parseJS(lit, src, flags)
}

// ParseJS parses a JavaScript RegExp given as its source and flags, the {source, flags}
// form the WebChatService contract stores.
func ParseJS(source, flags string) (*Filter, error) {
	return parseJS("/"+literalSource(source)+"/"+flags, source, flags)
}

func parseJS(pattern, src, flags string) (*Filter, error) {
	if src == "" {
		return nil, invalid(pattern, "empty pattern (it would hide every message)")
	}
	f, ferr := parseFlags(pattern, flags)
	if ferr != nil {
		return nil, ferr
	}
	expr, terr := translateJS(pattern, src, f)
	if terr != nil {
		return nil, terr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, compileError(pattern, err)
	}
	return newFilter(literalSource(src), flags, JavaScript, expr, re), nil
}

// ParseGo parses a Go (RE2) pattern.
func ParseGo(pattern string) (*Filter, error) {
	if pattern == "" {
		return nil, invalid(pattern, "empty pattern (it would hide every message)")
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, compileError(pattern, err)
	}
	return newFilter(pattern, "", Go, pattern, re), nil
}

// FromRegexp makes a filter of a compiled Go regexp. It returns an error only for an empty
// expression.
func FromRegexp(re *regexp.Regexp) (*Filter, error) {
	if re == nil {
		return nil, invalid("<nil>", "nil regexp")
	}
	return ParseGo(re.String())
}

func mustParseJS(source, flags string) *Filter {
	f, err := ParseJS(source, flags)
	if err != nil {
		panic(err)
	}
	return f
}

func newFilter(source, flags string, syn Syntax, expr string, re *regexp.Regexp) *Filter {
	f := &Filter{source: source, flags: flags, syntax: syn, expr: expr, re: re}
	f.need, f.hasLit = requiredLiterals(expr)
	return f
}

// Source returns the pattern without delimiters and flags (JavaScript: like RegExp.source,
// with '/' escaped).
func (f *Filter) Source() string { return f.source }

// Flags returns the JavaScript flags as given ("" for Go patterns).
func (f *Filter) Flags() string { return f.flags }

// Syntax returns how the source is written.
func (f *Filter) Syntax() Syntax { return f.syntax }

// Expr returns the Go expression that is compiled.
func (f *Filter) Expr() string { return f.expr }

// Regexp returns the compiled regexp. It is safe for concurrent use; do not change its
// longest-match setting.
func (f *Filter) Regexp() *regexp.Regexp { return f.re }

// MatchString reports whether text contains a match of the filter.
func (f *Filter) MatchString(text string) bool { return f.re.MatchString(text) }

// String returns the serial form that [Parse] reads back to an equal filter: "/source/flags"
// for JavaScript filters, the pattern for Go filters (wrapped in "(?:…)" if it would read as
// a JavaScript literal).
func (f *Filter) String() string {
	if f.syntax == JavaScript {
		return "/" + f.source + "/" + f.flags
	}
	if _, _, ok := splitLiteral(f.source); ok {
		return "(?:" + f.source + ")"
	}
	return f.source
}

// Equal reports whether two filters compile to the same Go expression (so /a/gi equals /a/i
// and (?i)a).
func (f *Filter) Equal(o *Filter) bool { return f != nil && o != nil && f.expr == o.expr }

// filterJSON is the JSON form: {"source": "…", "flags": "…"} (+ "syntax": "go").
type filterJSON struct {
	Source string `json:"source"`
	Flags  string `json:"flags"`
	Syntax Syntax `json:"syntax,omitempty"`
}

// MarshalJSON encodes the filter as {"source","flags"}, the WebChatService contract's form,
// with "syntax":"go" added for Go patterns.
func (f *Filter) MarshalJSON() ([]byte, error) {
	return json.Marshal(filterJSON{Source: f.source, Flags: f.flags, Syntax: f.syntax})
}

// UnmarshalJSON decodes either the object form or a string in [Parse] form.
func (f *Filter) UnmarshalJSON(b []byte) error {
	g, err := decodeFilter(b)
	if err != nil {
		return err
	}
	*f = *g
	return nil
}

func decodeFilter(b []byte) (*Filter, error) {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		return Parse(s)
	}
	var j filterJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, &Error{Pattern: abbrev(b), Reason: "a filter must be a string or {source, flags}", Err: err}
	}
	switch j.Syntax {
	case JavaScript:
		return ParseJS(j.Source, j.Flags)
	case Go:
		if j.Flags != "" {
			return nil, invalid(j.Source, "flags are not allowed with Go syntax (use (?i) etc.)")
		}
		return ParseGo(j.Source)
	default:
		return nil, invalid(j.Source, fmt.Sprintf("unknown syntax %q (want \"\" or \"go\")", strings.ToValidUTF8(string(j.Syntax), "?")))
	}
}
