package prefilter

import (
	"encoding/json"
	"regexp"
	"testing"
)

// FuzzParse feeds arbitrary text to the JavaScript-literal / Go pattern parser. It must never
// panic; an accepted pattern always compiles, its serial form parses back to an equal filter,
// and its JSON form round-trips.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`/abc/i`, `/a\/b/gimsuy`, `/[^]/`, `/x[]/`, `/\s\S\d\w\b\B/`, `/[\b\s\d-z]/`, `/\cJ\c1/`,
		`/\uD83D\uDE00\u{1F600}/u`, `/\p{Script=Greek}\P{Lu}/u`, `/(?<n>a)\k<n>/`, `/(?=a)/`, `/(?<!a)/`,
		`/a++/`, `/a{2}+/`, `/[\12]\0/`, `/\x4/`, `/{/`, `/a{,2}}/`, `/[[:alpha:]]/`, `/x/q`, `/x/ii`,
		`//`, `/`, `\`, `/\/`, `/[/]/`, `/a/b/`, `(?i)go`, `(?:/x/)`, `a*+`, `\pL`, `/\u{110000}/u`,
		`/\uD800/`, `/[\u{10FFFF}]/u`, "/\xff/", `/\p{/u`, `/(?<a>x)(?<a>y)/`, StandardPattern,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := Parse(s)
		if err != nil {
			if flt != nil {
				t.Fatalf("Parse(%q) returned a filter and an error", s)
			}
			return
		}
		if _, err := regexp.Compile(flt.Expr()); err != nil {
			t.Fatalf("accepted %q but its expression %q does not compile: %v", s, flt.Expr(), err)
		}
		g, err := Parse(flt.String())
		if err != nil {
			t.Fatalf("serial form %q of %q does not parse: %v", flt.String(), s, err)
		}
		if !g.Equal(flt) && flt.Syntax() == JavaScript {
			t.Fatalf("serial form of %q parses to %q, want %q", s, g.Expr(), flt.Expr())
		}
		if flt.Syntax() == JavaScript {
			h, err := ParseJS(flt.Source(), flt.Flags())
			if err != nil || !h.Equal(flt) {
				t.Fatalf("ParseJS(Source, Flags) of %q: %v", s, err)
			}
		}
		b, err := json.Marshal(flt)
		if err != nil {
			t.Fatal(err)
		}
		var back Filter
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("JSON %s of %q does not decode: %v", b, s, err)
		}
		if back.expr != flt.expr {
			t.Fatalf("JSON round trip of %q: %q != %q", s, back.expr, flt.expr)
		}
	})
}

// FuzzMatch checks Set.Match, with its literal and class-run gating, against plain regexp
// matching.
func FuzzMatch(f *testing.F) {
	f.Add(`/abc/i`, "xABCx")
	f.Add(`(?i)k{3}`, "\u212Akk")
	f.Add(`[0-9a-f]{8}`, "deadbeef")
	f.Add(`(?:foo|bar)\d`, "bar1")
	f.Add(`\x{FFFD}`, "\xff")
	f.Add(`/s+/i`, "ſ")
	f.Fuzz(func(t *testing.T, pattern, text string) {
		flt, err := Parse(pattern)
		if err != nil {
			return
		}
		var s Set
		s.Add(flt)
		want := flt.MatchString(text) || Standard.MatchString(text)
		if got := s.Match(text); got != want {
			t.Fatalf("Set{%q}.Match(%q) = %v, regexp says %v", pattern, text, got, want)
		}
	})
}
