package prefilter

import (
	"regexp"
	"strings"
	"unsafe"
)

// matcher evaluates many filters in one call. Before any regexp runs, one pass over the text
// (and one over its ASCII lower-case form, for case-insensitive literals) finds which of all
// required literals occur, using a bitmap of their first two bytes; class runs are measured
// once per distinct class. Only filters whose necessary condition holds run their regexp;
// filters without one always run.
type matcher struct {
	cs, fs  litIndex // case-sensitive and folded (lower-case ASCII) literals
	runs    [][4]uint64
	gated   []gated
	always  []*regexp.Regexp
	nLits   int // cs.n() + fs.n(); folded ids follow case-sensitive ones
	anyFold bool
}

type gated struct {
	lits []int32 // literal ids, or
	run  int32   // index into runs, -1 when lits are used
	runN int
	re   *regexp.Regexp
}

// litIndex finds which of a set of distinct literals occur in a text.
type litIndex struct {
	lits  []string
	ids   map[string]int32
	one   [256]int32 // 1-byte literal id + 1 per byte (0: none)
	bi    []uint64   // bitmap of the first two bytes of longer literals (65536 bits)
	heads map[uint16][]int32
	base  int32 // id of lits[0] in the matcher
}

func (x *litIndex) n() int { return len(x.lits) }

func (x *litIndex) add(s string) int32 {
	if id, ok := x.ids[s]; ok {
		return id
	}
	if x.ids == nil {
		x.ids = map[string]int32{}
		x.heads = map[uint16][]int32{}
		x.bi = make([]uint64, 1024)
	}
	id := int32(len(x.lits))
	x.lits = append(x.lits, s)
	x.ids[s] = id
	if len(s) == 1 {
		x.one[s[0]] = id + 1
	} else {
		h := uint16(s[0])<<8 | uint16(s[1])
		x.bi[h>>6] |= 1 << (h & 63)
		x.heads[h] = append(x.heads[h], id)
	}
	return id
}

// scan sets found[base+id] for every literal that occurs in text.
func (x *litIndex) scan(text string, found []uint64) {
	if len(x.lits) == 0 {
		return
	}
	for i := 0; i < len(text); i++ {
		if id := x.one[text[i]]; id != 0 {
			setBit(found, x.base+id-1)
		}
		if i+1 >= len(text) {
			break
		}
		h := uint16(text[i])<<8 | uint16(text[i+1])
		if x.bi[h>>6]&(1<<(h&63)) == 0 {
			continue
		}
		for _, id := range x.heads[h] {
			if strings.HasPrefix(text[i:], x.lits[id]) {
				setBit(found, x.base+id)
			}
		}
	}
}

func setBit(b []uint64, i int32)      { b[i>>6] |= 1 << (i & 63) }
func hasBit(b []uint64, i int32) bool { return b[i>>6]&(1<<(i&63)) != 0 }

func newMatcher(filters []*Filter) *matcher {
	m := &matcher{}
	type pending struct {
		lits []needLit
		g    gated
	}
	var ps []pending
	for _, f := range filters {
		switch {
		case !f.hasLit:
			m.always = append(m.always, f.re)
		case f.need.run != nil:
			g := gated{run: -1, runN: f.need.run.n, re: f.re}
			for i, set := range m.runs {
				if set == f.need.run.set {
					g.run = int32(i)
				}
			}
			if g.run < 0 {
				g.run = int32(len(m.runs))
				m.runs = append(m.runs, f.need.run.set)
			}
			m.gated = append(m.gated, g)
		default:
			for _, l := range f.need.lits {
				if l.fold {
					m.fs.add(l.s)
				} else {
					m.cs.add(l.s)
				}
			}
			ps = append(ps, pending{lits: f.need.lits, g: gated{run: -1, re: f.re}})
		}
	}
	m.fs.base = int32(m.cs.n())
	m.nLits = m.cs.n() + m.fs.n()
	m.anyFold = m.fs.n() > 0
	for _, p := range ps {
		for _, l := range p.lits {
			if l.fold {
				p.g.lits = append(p.g.lits, m.fs.base+m.fs.ids[l.s])
			} else {
				p.g.lits = append(p.g.lits, m.cs.ids[l.s])
			}
		}
		m.gated = append(m.gated, p.g)
	}
	return m
}

const (
	// stackLits and stackRuns size the per-call state kept on the stack; larger sets allocate.
	stackLits = 512
	stackRuns = 32
	// matchBufSize is the text length up to which the lower-case copy lives on the stack.
	matchBufSize = 512
)

func (m *matcher) match(text string) bool {
	var foundArr [stackLits / 64]uint64
	found := foundArr[:]
	if m.nLits > stackLits {
		found = make([]uint64, (m.nLits+63)/64)
	}
	m.cs.scan(text, found)
	if m.anyFold {
		var buf [matchBufSize]byte
		b, ascii := asciiLower(text, buf[:0])
		if ascii {
			// b is not modified while the string view is used and does not outlive the call.
			m.fs.scan(unsafe.String(unsafe.SliceData(b), len(b)), found)
		} else {
			// Unicode case folding cannot be checked bytewise: treat folded literals as present.
			for i := m.fs.base; i < int32(m.nLits); i++ {
				setBit(found, i)
			}
		}
	}
	var runArr [stackRuns]int
	runs := runArr[:]
	if len(m.runs) > stackRuns {
		runs = make([]int, len(m.runs))
	}
	for i := range runs[:len(m.runs)] {
		runs[i] = -1
	}
	for i := range m.gated {
		g := &m.gated[i]
		if g.run >= 0 {
			if runs[g.run] < 0 {
				runs[g.run] = longestRun(&m.runs[g.run], text)
			}
			if runs[g.run] < g.runN {
				continue
			}
		} else if !anyBit(found, g.lits) {
			continue
		}
		if g.re.MatchString(text) {
			return true
		}
	}
	for _, re := range m.always {
		if re.MatchString(text) {
			return true
		}
	}
	return false
}

func anyBit(found []uint64, ids []int32) bool {
	for _, id := range ids {
		if hasBit(found, id) {
			return true
		}
	}
	return false
}
