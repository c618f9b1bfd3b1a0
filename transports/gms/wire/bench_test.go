package wire

import (
	"encoding/json"
	"testing"
)

// BenchmarkDecodeResponse is the validating decoder on a typical notification.
func BenchmarkDecodeResponse(b *testing.B) {
	data := readFixture(b, "hexids.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeResponse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeResponseBaseline is plain encoding/json into an untyped map:
// the cost of parsing the same bytes without validation or typing.
func BenchmarkDecodeResponseBaseline(b *testing.B) {
	data := readFixture(b, "hexids.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}
