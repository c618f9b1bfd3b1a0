package transports

// Seen is a bounded set of recently seen ids (message ids, event ids) used to
// drop duplicates. It remembers the last Cap ids in insertion order; older ids
// are forgotten first. The zero value is not usable; use NewSeen. Not safe for
// concurrent use (each transport owns one inside its event loop). Memory grows
// with use, so an idle session costs almost nothing.
type Seen struct {
	ring []string // grows up to max, then wraps
	max  int
	next int
	set  map[string]struct{}
}

// DefaultSeenCap is the capacity NewSeen uses for n ≤ 0.
const DefaultSeenCap = 4096

// NewSeen returns a set remembering the last n ids.
func NewSeen(n int) *Seen {
	if n <= 0 {
		n = DefaultSeenCap
	}
	return &Seen{max: n, set: make(map[string]struct{})}
}

// Add records id and reports whether it was new. The empty id is never recorded
// and always reported as new.
func (s *Seen) Add(id string) bool {
	if id == "" {
		return true
	}
	if _, dup := s.set[id]; dup {
		return false
	}
	s.set[id] = struct{}{}
	if len(s.ring) < s.max {
		s.ring = append(s.ring, id)
		return true
	}
	delete(s.set, s.ring[s.next])
	s.ring[s.next] = id
	s.next++
	if s.next == s.max {
		s.next = 0
	}
	return true
}

// Has reports whether id is remembered.
func (s *Seen) Has(id string) bool {
	_, ok := s.set[id]
	return ok
}

// Len returns the number of remembered ids.
func (s *Seen) Len() int { return len(s.set) }

// Cap returns the capacity.
func (s *Seen) Cap() int { return s.max }

// IndexTracker is the GMS transcript cursor (gms-chat-v2.md §7): it drops
// events whose index is not above the last processed one and computes the next
// transcriptPosition. Not safe for concurrent use.
type IndexTracker struct {
	last int64
	next int64
}

// NewIndexTracker restores a tracker from a cursor.
func NewIndexTracker(c Cursor) *IndexTracker { return &IndexTracker{last: c.Index, next: c.Next} }

// Accept reports whether an event with this index is new and, if so, records it.
func (t *IndexTracker) Accept(index int64) bool {
	if index <= t.last {
		return false
	}
	t.last = index
	return true
}

// SetNext records the server's nextPosition (ignored when ≤ 0).
func (t *IndexTracker) SetNext(next int64) {
	if next > 0 {
		t.next = next
	}
}

// Position returns the transcriptPosition to send: max(nextPosition, lastIndex+1).
func (t *IndexTracker) Position() int64 {
	if t.next > t.last+1 {
		return t.next
	}
	return t.last + 1
}

// LastIndex returns the highest index processed (0 = none).
func (t *IndexTracker) LastIndex() int64 { return t.last }

// Cursor returns the tracker's state as a Cursor.
func (t *IndexTracker) Cursor() Cursor { return Cursor{Index: t.last, Next: t.next} }
