package prefilter

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Set is a set of custom prefilters plus the [Standard] filter. The zero value is an empty
// set ready to use. A Set is safe for concurrent use: Match never blocks on writers (it reads
// an immutable snapshot); writers are serialized. A Set must not be copied after first use.
type Set struct {
	mu    sync.Mutex // serializes writers
	state atomic.Pointer[setState]
}

// setState is an immutable snapshot of a Set.
type setState struct {
	filters []*Filter           // custom filters in the order they were added
	keys    map[string]struct{} // Go expressions, for de-duplication
	m       *matcher            // Standard + filters
}

var emptyState = newState(nil)

func newState(filters []*Filter) *setState {
	st := &setState{filters: filters, keys: make(map[string]struct{}, len(filters))}
	all := make([]*Filter, 0, len(filters)+1)
	all = append(all, Standard)
	for _, f := range filters {
		st.keys[f.expr] = struct{}{}
		if f.expr != Standard.expr {
			all = append(all, f)
		}
	}
	st.m = newMatcher(all)
	return st
}

func (s *Set) load() *setState {
	if st := s.state.Load(); st != nil {
		return st
	}
	return emptyState
}

// Match reports whether text matches the standard filter or any custom filter, i.e. whether a
// message with this text is hidden from messageReceived and the transcript.
func (s *Set) Match(text string) bool {
	return s.load().m.match(text)
}

// Add adds filters that are not yet in the set (equal Go expressions are stored once; the
// standard filter may be added, it is then listed like a custom one). It returns how many
// were new.
func (s *Set) Add(filters ...*Filter) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.load()
	next := append([]*Filter(nil), cur.filters...)
	seen := make(map[string]struct{}, len(cur.keys)+len(filters))
	for k := range cur.keys {
		seen[k] = struct{}{}
	}
	added := 0
	for _, f := range filters {
		if f == nil {
			continue
		}
		if _, dup := seen[f.expr]; dup {
			continue
		}
		seen[f.expr] = struct{}{}
		next = append(next, f)
		added++
	}
	if added > 0 {
		s.state.Store(newState(next))
	}
	return added
}

// AddPatterns parses every pattern with [Parse] and adds them all, or none when one is
// invalid (the error names the first bad pattern).
func (s *Set) AddPatterns(patterns ...string) (int, error) {
	fs := make([]*Filter, 0, len(patterns))
	for _, p := range patterns {
		f, err := Parse(p)
		if err != nil {
			return 0, err
		}
		fs = append(fs, f)
	}
	return s.Add(fs...), nil
}

// Filters returns the custom filters in the order they were added.
func (s *Set) Filters() []*Filter {
	return append([]*Filter(nil), s.load().filters...)
}

// Patterns returns the serial form ([Filter.String]) of every custom filter, in order. It is
// what a restore snapshot stores; [Set.AddPatterns] reads it back.
func (s *Set) Patterns() []string {
	fs := s.load().filters
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.String()
	}
	return out
}

// Len returns the number of custom filters.
func (s *Set) Len() int { return len(s.load().filters) }

// Clear removes every custom filter (the standard filter stays), as at the end of a chat.
func (s *Set) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.Store(nil)
}

// Replace sets the custom filters to exactly filters (de-duplicated, in order), as on
// restore.
func (s *Set) Replace(filters ...*Filter) {
	st := newState(dedupe(filters))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.Store(st)
}

// dedupe drops nil filters and later filters equal to an earlier one.
func dedupe(filters []*Filter) []*Filter {
	out := make([]*Filter, 0, len(filters))
	seen := make(map[string]struct{}, len(filters))
	for _, f := range filters {
		if f == nil {
			continue
		}
		if _, dup := seen[f.expr]; !dup {
			seen[f.expr] = struct{}{}
			out = append(out, f)
		}
	}
	return out
}

// MarshalJSON encodes the custom filters as a JSON array of their serial forms
// (["/\\{code:\\d+\\}/i", "(?i)secret"]).
func (s *Set) MarshalJSON() ([]byte, error) {
	return json.Marshal(s.Patterns())
}

// UnmarshalJSON replaces the custom filters with those of a JSON array whose items are
// strings in [Parse] form or {source, flags[, syntax]} objects. Nothing changes on error.
func (s *Set) UnmarshalJSON(b []byte) error {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return &Error{Pattern: abbrev(b), Reason: "a set must be a JSON array", Err: err}
	}
	fs := make([]*Filter, 0, len(items))
	for i, it := range items {
		f, err := decodeFilter(it)
		if err != nil {
			return fmt.Errorf("%w (item %d)", err, i)
		}
		fs = append(fs, f)
	}
	s.Replace(fs...)
	return nil
}

// String lists the custom filters, for debugging.
func (s *Set) String() string {
	return "prefilter.Set[" + strings.Join(s.Patterns(), " ") + "]"
}
