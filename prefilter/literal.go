package prefilter

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// need is a cheap necessary condition for a match: either a set of alternative literals
// (every match contains at least one of them) or a run of at least n consecutive characters
// of one class (every match of "[0-9a-f]{32}" contains 32 hex digits in a row). It lets Match
// skip a regexp after one pass over the text.
type need struct {
	lits []needLit
	run  *classRun
}

type needLit struct {
	s    string
	fold bool // ASCII case-insensitive; s is lower case
}

// classRun requires n consecutive bytes of set. Bytes ≥ 0x80 count as members when the
// class holds any non-ASCII rune, so a run of n runes is always a run of ≥ n bytes.
type classRun struct {
	set [4]uint64
	n   int
}

const (
	// maxNeedLits bounds the alternatives kept for one regexp.
	maxNeedLits = 16
	// minRun is the shortest class run worth a pass over the text.
	minRun = 3
)

func newClassRun(ranges []rune, n int) *classRun {
	cr := &classRun{n: n}
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for c := lo; c <= hi && c < utf8.RuneSelf; c++ {
			cr.set[c>>6] |= 1 << (c & 63)
		}
		if hi >= utf8.RuneSelf {
			cr.set[2], cr.set[3] = ^uint64(0), ^uint64(0)
		}
	}
	return cr
}

// longestRun returns the length of the longest run of set members in text.
func longestRun(set *[4]uint64, text string) int {
	run, best := 0, 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if set[c>>6]&(1<<(c&63)) != 0 {
			run++
			if run > best {
				best = run
			}
		} else {
			run = 0
		}
	}
	return best
}

// requiredLiterals analyses a Go expression. ok is false when nothing cheap is required.
func requiredLiterals(expr string) (need, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return need{}, false
	}
	return analyse(re) // not simplified: Simplify expands x{n} into n copies
}

func analyse(re *syntax.Regexp) (need, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if s == "" || strings.ContainsRune(s, utf8.RuneError) {
			// U+FFFD also matches invalid UTF-8 bytes, which a byte comparison would miss.
			return need{}, false
		}
		if re.Flags&syntax.FoldCase != 0 {
			for i := 0; i < len(s); i++ {
				if s[i] >= utf8.RuneSelf {
					return need{}, false // non-ASCII folding: run the regexp
				}
			}
			return need{lits: []needLit{{s: strings.ToLower(s), fold: true}}}, true
		}
		return need{lits: []needLit{{s: s}}}, true
	case syntax.OpCapture, syntax.OpPlus:
		return analyse(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= minRun && re.Sub[0].Op == syntax.OpCharClass {
			return need{run: newClassRun(re.Sub[0].Rune, re.Min)}, true
		}
		if re.Min >= 1 {
			return analyse(re.Sub[0])
		}
	case syntax.OpConcat:
		var best need
		found := false
		for _, sub := range re.Sub {
			n, ok := analyse(sub)
			if ok && (!found || n.better(best)) {
				best, found = n, true
			}
		}
		return best, found
	case syntax.OpAlternate:
		var all need
		for _, sub := range re.Sub {
			n, ok := analyse(sub)
			if !ok || n.run != nil || len(all.lits)+len(n.lits) > maxNeedLits {
				return need{}, false
			}
			all.lits = append(all.lits, n.lits...)
		}
		return all, len(all.lits) > 0
	}
	return need{}, false
}

// better prefers literals to class runs, longer class runs, then the set whose shortest
// literal is longer, then the smaller set.
func (n need) better(o need) bool {
	if (n.run == nil) != (o.run == nil) {
		return n.run == nil
	}
	if n.run != nil {
		return n.run.n > o.run.n
	}
	a, b := n.minLen(), o.minLen()
	if a != b {
		return a > b
	}
	return len(n.lits) < len(o.lits)
}

func (n need) minLen() int {
	m := -1
	for _, l := range n.lits {
		if m < 0 || len(l.s) < m {
			m = len(l.s)
		}
	}
	return m
}

// asciiLower appends the lower-case form of an ASCII text to buf[:0] and returns true, or
// returns false when text holds a non-ASCII byte.
func asciiLower(text string, buf []byte) ([]byte, bool) {
	buf = buf[:0]
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf {
			return buf, false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf, true
}
