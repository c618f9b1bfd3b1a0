package prefilter

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestParseTranslation(t *testing.T) {
	tests := []struct {
		in, expr, str string // str: the serial form (String)
		syn           Syntax
	}{
		{in: `/abc/`, expr: `abc`, str: `/abc/`},
		{in: `/abc/i`, expr: `(?i)abc`, str: `/abc/i`},
		{in: `/abc/gimsuy`, expr: `(?ims)abc`, str: `/abc/gimsuy`},
		{in: `/a.c/`, expr: `a` + jsDot + `c`, str: `/a.c/`},
		{in: `/a.c/s`, expr: `(?s)a.c`, str: `/a.c/s`},
		{in: `/a\/b/`, expr: `a/b`, str: `/a\/b/`},
		{in: `/[/]/`, expr: `[/]`, str: `/[/]/`},
		{in: `/[^]/`, expr: `[\x00-\x{10FFFF}]`, str: `/[^]/`},
		{in: `/x[]/`, expr: `x[^\x00-\x{10FFFF}]`, str: `/x[]/`},
		{in: `/\s/`, expr: `[` + jsSpace + `]`, str: `/\s/`},
		{in: `/\S/`, expr: `[^` + jsSpace + `]`, str: `/\S/`},
		{in: `/[\s\d]/`, expr: `[` + jsSpace + `\d]`, str: `/[\s\d]/`},
		{in: `/\d\w\b\B\t\n\r\f\v/`, expr: `\d\w\b\B\t\n\r\f\v`},
		{in: `/[\b]/`, expr: `[\x08]`},
		{in: `/\0/`, expr: `\0`},
		{in: `/[\12]/`, expr: `[\x{A}]`},
		{in: `/\x41\xZ/`, expr: `\x41xZ`},
		{in: `/\u0041/`, expr: `\x{41}`},
		{in: `/\uD83D\uDE00/`, expr: `\x{1F600}`},
		{in: `/\u{1F600}/u`, expr: `\x{1F600}`},
		{in: `/\u{1F600}/`, expr: `u\{1F600\}`}, // without u: "u" then a literal {1F600}
		{in: `/\cJ\c1/`, expr: `\x{A}\\c1`},
		{in: `/\a\e\z\A\Q\E\C/`, expr: `aezAQEC`}, // identity escapes, not Go's \a \z \A \Q…\E
		{in: `/\p{L}/`, expr: `p\{L\}`},
		{in: `/\p{L}\P{Lu}/u`, expr: `\p{L}\P{Lu}`},
		{in: `/\p{Letter}\p{Script=Greek}\p{sc=Latin}\p{gc=Nd}/u`, expr: `\p{L}\p{Greek}\p{Latin}\p{Nd}`},
		{in: `/(?<year>\d{4})-(?:\d\d)/`, expr: `(?<year>\d{4})-(?:\d\d)`},
		{in: `/a*?b+?c??d{2,3}?/`, expr: `a*?b+?c??d{2,3}?`},
		{in: `/a{,3}b{x}c}d]/`, expr: `a\{,3\}b\{x\}c\}d\]`},
		{in: `/[[:alpha:]]/`, expr: `[\[:alpha:]\]`},
		{in: `/[\d-z]/`, expr: `[\d\-z]`},
		{in: `/[a-\d]/`, expr: `[a\-\d]`},
		{in: `/\{start:[0-9]{9}\}/`, expr: StandardPattern},
		{in: `/\é\-\_/`, expr: `é\-\_`},
		// Go patterns
		{in: `(?i)hello\s+world`, expr: `(?i)hello\s+world`, str: `(?i)hello\s+world`, syn: Go},
		{in: `\pL+`, expr: `\pL+`, syn: Go},
		{in: `/path/to/x.txt`, expr: `/path/to/x.txt`, str: `/path/to/x.txt`, syn: Go},
		{in: `a/b/`, expr: `a/b/`, syn: Go},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if f.Expr() != tt.expr {
				t.Errorf("Expr = %q, want %q", f.Expr(), tt.expr)
			}
			if f.Syntax() != tt.syn {
				t.Errorf("Syntax = %q, want %q", f.Syntax(), tt.syn)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if f.String() != str {
				t.Errorf("String = %q, want %q", f.String(), str)
			}
			g, err := Parse(f.String())
			if err != nil || !g.Equal(f) {
				t.Errorf("Parse(String()) = %v, %v; want an equal filter", g, err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in          string
		msg         string // exact Error()
		unsupported bool
	}{
		{`/foo(?=bar)/`, `prefilter: look-ahead is not supported (RE2): /foo(?=bar)/`, true},
		{`/foo(?!bar)/`, `prefilter: look-ahead is not supported (RE2): /foo(?!bar)/`, true},
		{`/(?<=\$)\d+/`, `prefilter: look-behind is not supported (RE2): /(?<=\$)\d+/`, true},
		{`/(?<!a)b/i`, `prefilter: look-behind is not supported (RE2): /(?<!a)b/i`, true},
		{`/(a)\1/`, `prefilter: back-references are not supported (RE2): /(a)\1/`, true},
		{`/(?<q>["'])x\k<q>/`, `prefilter: back-references are not supported (RE2): /(?<q>["'])x\k<q>/`, true},
		{`/(?>ab|a)c/`, `prefilter: atomic groups are not supported (RE2): /(?>ab|a)c/`, true},
		{`/a++b/`, `prefilter: possessive quantifiers are not supported (RE2): /a++b/`, true},
		{`/a{2,}+/`, `prefilter: possessive quantifiers are not supported (RE2): /a{2,}+/`, true},
		{`/\p{Emoji}/u`, `prefilter: Unicode property \p{Emoji} is not supported (RE2): /\p{Emoji}/u`, true},
		{`/\p{Script_Extensions=Greek}/u`, `prefilter: Unicode property \p{Script_Extensions=Greek} is not supported (RE2): /\p{Script_Extensions=Greek}/u`, true},
		{`/x/q`, `prefilter: unknown flag "q" (supported: i, m, s; ignored: g, y, u): /x/q`, false},
		{`/x/d`, `prefilter: unknown flag "d" (supported: i, m, s; ignored: g, y, u): /x/d`, false},
		{`/x/ii`, `prefilter: flag "i" given twice: /x/ii`, false},
		{`/(?:)/`, ``, false}, // valid: matches everything, but not empty source
		{`//`, `prefilter: empty pattern (it would hide every message): //`, false},
		{``, `prefilter: empty pattern (it would hide every message): `, false},
		{`/[a/`, ``, false}, // not a literal (no closing slash outside the class): Go pattern "/[a/"
		{`/(a/`, "prefilter: missing closing ): `(a`: /(a/", false},
		{`/a{1001}/`, "prefilter: invalid repeat count: `{1001}`: /a{1001}/", false},
		// Go patterns get the same reasons.
		{`foo(?=bar)`, `prefilter: look-ahead is not supported (RE2): foo(?=bar)`, true},
		{`(?<=a)b`, `prefilter: look-behind is not supported (RE2): (?<=a)b`, true},
		{`(a)\1`, `prefilter: back-references are not supported (RE2): (a)\1`, true},
		{`(?>a)`, `prefilter: atomic groups are not supported (RE2): (?>a)`, true},
		{`a*+`, `prefilter: possessive quantifiers are not supported (RE2): a*+`, true},
		{`(?(1)a|b)`, `prefilter: conditional groups are not supported (RE2): (?(1)a|b)`, true},
		{`(?R)`, `prefilter: recursion and subroutine calls are not supported (RE2): (?R)`, true},
		{`a**`, "prefilter: invalid nested repetition operator: `**`: a**", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := Parse(tt.in)
			if tt.msg == "" {
				if tt.in == `/[a/` {
					if err == nil || !strings.Contains(err.Error(), "missing closing ]") {
						t.Fatalf("err = %v, want missing closing ]", err)
					}
				} else if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want %q", tt.in, tt.msg)
			}
			if err.Error() != tt.msg {
				t.Errorf("error\n got %s\nwant %s", err, tt.msg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(err, ErrInvalid) = false")
			}
			if errors.Is(err, ErrUnsupported) != tt.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", !tt.unsupported, tt.unsupported)
			}
			var pe *Error
			if !errors.As(err, &pe) || pe.Pattern != tt.in {
				t.Errorf("errors.As: %+v", pe)
			}
		})
	}
}

func TestParseJSAndLiteral(t *testing.T) {
	f, err := ParseJS("a/b", "i")
	if err != nil {
		t.Fatal(err)
	}
	if f.Source() != `a\/b` || f.Flags() != "i" || f.String() != `/a\/b/i` || !f.MatchString("xA/By") {
		t.Errorf("ParseJS: source %q flags %q string %q", f.Source(), f.Flags(), f.String())
	}
	f, err = ParseJS("line\nbreak", "")
	if err != nil || f.String() != `/line\nbreak/` || !f.MatchString("line\nbreak") {
		t.Errorf("ParseJS newline: %v %v", f, err)
	}
	if _, err := ParseLiteral("abc"); err == nil || !strings.Contains(err.Error(), "not a JavaScript regular expression literal") {
		t.Errorf("ParseLiteral(abc) = %v", err)
	}
	// A Go pattern that reads like a literal keeps its meaning through String.
	g, err := ParseGo("/a/i")
	if err != nil || g.String() != "(?:/a/i)" || !g.MatchString("x/a/i") || g.MatchString("A") {
		t.Fatalf("ParseGo(/a/i): %v %v", g, err)
	}
	h, err := Parse(g.String())
	if err != nil || h.Syntax() != Go || !h.MatchString("/a/i") {
		t.Errorf("round trip of Go literal-like pattern: %v %v", h, err)
	}
	re := regexp.MustCompile(`(?i)secret-\d+`)
	r, err := FromRegexp(re)
	if err != nil || r.Syntax() != Go || !r.MatchString("SECRET-12") {
		t.Errorf("FromRegexp: %v %v", r, err)
	}
	if _, err := FromRegexp(nil); !errors.Is(err, ErrInvalid) {
		t.Errorf("FromRegexp(nil) = %v", err)
	}
}

func TestMatchSemantics(t *testing.T) {
	tests := []struct {
		pattern, text string
		want          bool
	}{
		{StandardPattern, "{start:123456789}", true},
		{StandardPattern, "please {start:123456789} now", true},
		{StandardPattern, "{start:12345678}", false},
		{StandardPattern, "{START:123456789}", false},
		{`/hello/i`, "HeLLo there", true},
		{`/^a.c$/`, "a\nc", false},
		{`/^a.c$/`, "a\rc", false}, // JavaScript's . excludes \r too
		{`/^a.c$/`, "a\u2028c", false},
		{`/^a.c$/s`, "a\nc", true},
		{`/^b$/`, "a\nb", false},
		{`/^b$/m`, "a\nb", true},
		{`/\s/`, "a\u00a0b", true}, // JavaScript's \s includes NBSP
		{`/\s/`, "a\u3000b", true},
		{`/\s/`, "a\vb", true},
		{`/^\S+$/`, "a\u00a0b", false},
		{`/[^]/`, "\n", true},
		{`/x[]/`, "x", false},
		{`/\bcat\b/`, "a cat!", true},
		{`/\bcat\b/`, "concatenate", false},
		{`/\u00e9/`, "caf\u00e9", true},
		{`/\uD83D\uDE00/`, "smile 😀", true},
		{`/\p{Lu}/u`, "abcÉ", true},
		{`/\p{Lu}/u`, "abcé", false},
		{`/\p{L}/`, "p{L}", true}, // no u flag: \p is "p"
		{`/a\/b/`, "a/b", true},
		{`/[\b]/`, "\b", true},
		{`/\cJ/`, "\n", true},
	}
	for _, tt := range tests {
		f, err := Parse(tt.pattern)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.pattern, err)
		}
		if got := f.MatchString(tt.text); got != tt.want {
			t.Errorf("%s.MatchString(%q) = %v, want %v", tt.pattern, tt.text, got, tt.want)
		}
		var s Set
		s.Add(f)
		if got := s.Match(tt.text); got != tt.want {
			t.Errorf("Set{%s}.Match(%q) = %v, want %v", tt.pattern, tt.text, got, tt.want)
		}
	}
}
