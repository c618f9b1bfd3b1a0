package wire

import (
	"bytes"
	"fmt"
	"time"
)

// TimeLayout is the date-time format the guest API emits: UTC with
// milliseconds and a literal Z.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// Time is a date-time on the wire. It marshals as TimeLayout (in UTC) and
// unmarshals any RFC 3339 value. JSON null leaves it zero.
type Time struct {
	time.Time
}

// NewTime returns t as a wire Time.
func NewTime(t time.Time) Time { return Time{Time: t} }

// TimePtr returns a pointer to t as a wire Time, for optional fields.
func TimePtr(t time.Time) *Time { return &Time{Time: t} }

// String formats t as TimeLayout in UTC.
func (t Time) String() string { return t.UTC().Format(TimeLayout) }

// MarshalJSON writes t as a quoted TimeLayout string in UTC.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// MarshalText writes t as TimeLayout in UTC.
func (t Time) MarshalText() ([]byte, error) {
	return t.UTC().AppendFormat(nil, TimeLayout), nil
}

// UnmarshalJSON reads a quoted RFC 3339 date-time; null leaves t unchanged.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("wire: date-time is not a JSON string: %.40q", b)
	}
	return t.UnmarshalText(b[1 : len(b)-1])
}

// UnmarshalText reads an RFC 3339 date-time.
func (t *Time) UnmarshalText(b []byte) error {
	v, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return fmt.Errorf("wire: bad date-time %.40q: not RFC 3339", b)
	}
	t.Time = v
	return nil
}
