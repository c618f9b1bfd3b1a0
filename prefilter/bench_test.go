package prefilter

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// benchMessage is a 200-character customer message that no benchmark filter matches, so every
// filter has to be considered (the worst case for Match).
const benchMessage = "Hello, I would like to ask about my order number 12345 that was shipped last " +
	"week but has not arrived yet. Could you please check the status and tell me when it arrives? I have been " +
	"waiting a lot now."

// benchFilters returns 100 realistic custom filters: tokens and codes for the agent desktop,
// most with literal text, ten without any required literal.
func benchFilters(tb testing.TB) []*Filter {
	var pats []string
	for i := range 40 {
		pats = append(pats, fmt.Sprintf(`/^#cmd-%02d:\s*\w+$/i`, i))
	}
	for i := range 20 {
		pats = append(pats, fmt.Sprintf(`/\[\[token%d:[A-Za-z0-9_-]{16,64}\]\]/`, i))
	}
	for i := range 20 {
		pats = append(pats, fmt.Sprintf(`/(?:promo|coupon)%d[-_ ]?[A-Z0-9]{8}/i`, i))
	}
	for i := range 10 {
		pats = append(pats, fmt.Sprintf(`/survey_url=https?:\/\/\S+&id=%d/`, i))
	}
	for i := range 5 {
		pats = append(pats, fmt.Sprintf(`/^[0-9]{%d}$/`, 10+i))
	}
	for i := range 5 {
		pats = append(pats, fmt.Sprintf(`/\b[0-9a-f]{%d}\b/`, 32+i))
	}
	fs := make([]*Filter, 0, len(pats))
	for _, p := range pats {
		f, err := Parse(p)
		if err != nil {
			tb.Fatal(err)
		}
		fs = append(fs, f)
	}
	if len(fs) != 100 || len(benchMessage) != 200 {
		tb.Fatalf("setup: %d filters, %d chars", len(fs), len(benchMessage))
	}
	return fs
}

// BenchmarkSetMatch100 is the contract figure: 100 filters (plus the standard one) against a
// 200-character message. Target ≤ 10 µs/op.
func BenchmarkSetMatch100(b *testing.B) {
	var s Set
	s.Add(benchFilters(b)...)
	b.ReportAllocs()
	for b.Loop() {
		if s.Match(benchMessage) {
			b.Fatal("unexpected match")
		}
	}
}

// BenchmarkBaselineOneRegexp is the baseline: one precompiled regexp (the standard filter)
// against the same message.
func BenchmarkBaselineOneRegexp(b *testing.B) {
	re := regexp.MustCompile(StandardPattern)
	b.ReportAllocs()
	for b.Loop() {
		if re.MatchString(benchMessage) {
			b.Fatal("unexpected match")
		}
	}
}

// BenchmarkNaiveLoop100 runs the same 100 regexps one after the other without literal gating.
func BenchmarkNaiveLoop100(b *testing.B) {
	fs := benchFilters(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, f := range fs {
			if f.re.MatchString(benchMessage) {
				b.Fatal("unexpected match")
			}
		}
	}
}

// BenchmarkAlternation100 combines the 100 expressions into one alternation.
func BenchmarkAlternation100(b *testing.B) {
	fs := benchFilters(b)
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = "(?:" + f.expr + ")"
	}
	re := regexp.MustCompile(strings.Join(parts, "|"))
	b.ReportAllocs()
	for b.Loop() {
		if re.MatchString(benchMessage) {
			b.Fatal("unexpected match")
		}
	}
}
