package prefilter

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func mustParse(t testing.TB, s string) *Filter {
	t.Helper()
	f, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSetZeroValueAppliesStandard(t *testing.T) {
	var s Set
	if s.Len() != 0 || len(s.Patterns()) != 0 {
		t.Fatalf("zero Set has %d filters", s.Len())
	}
	if !s.Match("{start:123456789}") {
		t.Error("zero Set does not apply the standard co-browse filter")
	}
	if s.Match("hello") {
		t.Error("zero Set matches plain text")
	}
}

func TestSetAddDedupe(t *testing.T) {
	var s Set
	n := s.Add(mustParse(t, `/code/i`), mustParse(t, `/code/gi`), mustParse(t, `(?i)code`), nil, mustParse(t, `/x\d/`))
	if n != 2 {
		t.Errorf("Add returned %d, want 2", n)
	}
	if got := s.Add(mustParse(t, `/x\d/g`)); got != 0 {
		t.Errorf("Add of a duplicate returned %d", got)
	}
	want := []string{`/code/i`, `/x\d/`}
	if got := s.Patterns(); !reflect.DeepEqual(got, want) {
		t.Errorf("Patterns = %q, want %q", got, want)
	}
	if !s.Match("my CODE is") || !s.Match("x1") || s.Match("x") {
		t.Error("Match disagrees with the filters")
	}
	if fs := s.Filters(); len(fs) != 2 || fs[0].String() != `/code/i` {
		t.Errorf("Filters = %v", fs)
	}
	s.Clear()
	if s.Len() != 0 || s.Match("code") || !s.Match("{start:000000000}") {
		t.Error("Clear must drop custom filters and keep the standard one")
	}
}

func TestSetAddPatternsAllOrNothing(t *testing.T) {
	var s Set
	n, err := s.AddPatterns(`/ok/`, `/bad(?=x)/`, `/never/`)
	if n != 0 || !errors.Is(err, ErrUnsupported) {
		t.Fatalf("AddPatterns = %d, %v", n, err)
	}
	if s.Len() != 0 {
		t.Errorf("a failed AddPatterns added %d filters", s.Len())
	}
	if n, err := s.AddPatterns(`/ok/`, `(?i)go`); n != 2 || err != nil {
		t.Fatalf("AddPatterns = %d, %v", n, err)
	}
}

func TestSetJSONRoundTrip(t *testing.T) {
	var s Set
	if _, err := s.AddPatterns(`/\{code:\d+\}/i`, `(?i)secret`, `/a\/b/`, `(?:/x/)`); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(&s)
	if err != nil {
		t.Fatal(err)
	}
	want := `["/\\{code:\\d+\\}/i","(?i)secret","/a\\/b/","(?:/x/)"]`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var r Set
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Patterns(), s.Patterns()) {
		t.Errorf("round trip: %q != %q", r.Patterns(), s.Patterns())
	}
	// The {source, flags} object form of the contract, mixed with strings; duplicates dropped.
	obj := `[{"source":"abc","flags":"gi"},{"source":"(?i)abc","flags":"","syntax":"go"},"/abc/i","/z/"]`
	if err := json.Unmarshal([]byte(obj), &r); err != nil {
		t.Fatal(err)
	}
	if got := r.Patterns(); !reflect.DeepEqual(got, []string{"/abc/gi", "/z/"}) {
		t.Errorf("object form: %q", got)
	}
	fb, _ := json.Marshal(r.Filters())
	if string(fb) != `[{"source":"abc","flags":"gi"},{"source":"z","flags":""}]` {
		t.Errorf("Filters JSON = %s", fb)
	}
	for _, bad := range []string{`{}`, `[1]`, `["/a(?=b)/"]`, `[{"source":"a","flags":"i","syntax":"go"}]`, `[{"source":"a","syntax":"perl"}]`} {
		before := r.Patterns()
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
		if !reflect.DeepEqual(before, r.Patterns()) {
			t.Errorf("failed Unmarshal(%s) changed the set", bad)
		}
	}
	var f Filter
	if err := json.Unmarshal([]byte(`{"source":"x+","flags":"i"}`), &f); err != nil || f.String() != "/x+/i" {
		t.Errorf("Filter.UnmarshalJSON: %v %v", f.String(), err)
	}
}

func TestSetReplace(t *testing.T) {
	var s Set
	s.Add(mustParse(t, "/a/"))
	s.Replace(mustParse(t, "/b/"), mustParse(t, "/b/g"), mustParse(t, "/c/"))
	if got := s.Patterns(); !reflect.DeepEqual(got, []string{"/b/", "/c/"}) {
		t.Errorf("Replace: %q", got)
	}
	if s.String() != "prefilter.Set[/b/ /c/]" {
		t.Errorf("String = %q", s.String())
	}
}

func TestSetConcurrent(t *testing.T) {
	var s Set
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if _, err := s.AddPatterns(fmt.Sprintf(`/w%d-%d\b/`, w, i)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for range 200 {
				s.Match("{start:123456789} w1-3 text")
				_ = s.Patterns()
			}
		}()
	}
	wg.Wait()
	if s.Len() != 200 {
		t.Errorf("Len = %d, want 200", s.Len())
	}
	if !s.Match("this is w3-49") || s.Match("w3-50") {
		t.Error("Match after concurrent adds is wrong")
	}
}

// TestMatcherAgreesWithRegexp checks the literal and class-run gating against plain regexp
// matching on random patterns and texts, including case folding, non-ASCII and invalid UTF-8.
func TestMatcherAgreesWithRegexp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "b", "ab", "K", "k", "s", "é", "\uFFFD", "{x}", ":", "[0-9]", "[a-c]{3}", "[k]{3}",
		"\\d{4}", "(?:ab|cd)", "(?:ab|)", "x?", "y*", "z+", "\\b", "^", "$", ".", "[^a]{3}", "(ab)+", "(?i:ab)", "é{3}"}
	texts := []string{"", "ab", "AB", "xyz", "1234", "12 34", "aBc", "K", "\u212A", "ſ", "é", "ÉÉÉ", "\xff", "\xff\xfe",
		"{x}", "cd", "kkk", "\u212A\u212Ak", "ab\nab", "zzzz", "abcabc", "sss", "ſſs"}
	for i := range 3000 {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		expr := b.String()
		if rng.IntN(3) == 0 {
			expr = "(?i)" + expr
		}
		f, err := ParseGo(expr)
		if err != nil {
			continue
		}
		var s Set
		s.Add(f)
		for j := range 4 {
			text := texts[rng.IntN(len(texts))] + texts[rng.IntN(len(texts))]
			if j == 0 {
				text = strings.Repeat(text, 3)
			}
			want := f.MatchString(text) || Standard.MatchString(text)
			if got := s.Match(text); got != want {
				t.Fatalf("case %d: Set{%q}.Match(%q) = %v, regexp says %v (need %+v)", i, expr, text, got, want, f.need)
			}
		}
	}
}

// TestMatcherLargeSets covers sets beyond the stack-sized bitmaps.
func TestMatcherLargeSets(t *testing.T) {
	var s Set
	var pats []string
	for i := range 600 {
		pats = append(pats, fmt.Sprintf(`/tok%03d\b/i`, i), fmt.Sprintf(`/[a-z]{%d}/`, 40+i%40))
	}
	if _, err := s.AddPatterns(pats...); err != nil {
		t.Fatal(err)
	}
	if !s.Match("x TOK599") || !s.Match("tok000 ") || s.Match("tok600") || s.Match("tok0000") {
		t.Error("large literal set")
	}
	if !s.Match(strings.Repeat("q", 45)) || s.Match(strings.Repeat("q", 39)) {
		t.Error("large class-run set")
	}
	if !s.Match("é TOK599") {
		t.Error("non-ASCII text with folded literals")
	}
}

func TestParseValue(t *testing.T) {
	re := regexp.MustCompile(`(?i)re\d`)
	good := []struct {
		name string
		v    any
		want []string
	}{
		{"string", `/a/i`, []string{"/a/i"}},
		{"go string", `b+`, []string{"b+"}},
		{"regexp", re, []string{`(?i)re\d`}},
		{"filter", mustParse(t, "/c/"), []string{"/c/"}},
		{"object", map[string]any{"source": "d", "flags": "g"}, []string{"/d/g"}},
		{"strings", []string{"/e/", "f"}, []string{"/e/", "f"}},
		{"mixed", []any{"/g/", re, map[string]any{"source": "h", "flags": ""}}, []string{"/g/", `(?i)re\d`, "/h/"}},
		{"regexps", []*regexp.Regexp{re}, []string{`(?i)re\d`}},
		{"json string", json.RawMessage(`"/i/m"`), []string{"/i/m"}},
		{"json array", json.RawMessage(`["/j/", {"source":"k","flags":"i"}]`), []string{"/j/", "/k/i"}},
	}
	for _, tt := range good {
		fs, err := ParseValue(tt.v)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var got []string
		for _, f := range fs {
			got = append(got, f.String())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	bad := []any{nil, "", []string{}, []any{}, 42, []int{1}, []any{"/ok/", 3}, []any{[]any{"/x/"}},
		"/a(?=b)/", json.RawMessage(`[]`), json.RawMessage(`[["/x/"]]`), json.RawMessage(`7`),
		map[string]any{"source": 1}, (*Filter)(nil), (*regexp.Regexp)(nil)}
	for _, v := range bad {
		if _, err := ParseValue(v); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseValue(%#v) = %v, want ErrInvalid", v, err)
		}
	}
}
