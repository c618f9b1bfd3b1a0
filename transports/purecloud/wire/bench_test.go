package wire

import (
	"encoding/json"
	"testing"
)

var benchFrame = []byte(`{"topicName":"v2.conversations.chats.0e4a4c93-dd6f-4440-929a-3f22fb1c7d3f.messages","version":"2","eventBody":{"id":"9f2c0b57-7d0a-4f3e-9d57-1c0a3d1e5b11","conversation":{"id":"0e4a4c93-dd6f-4440-929a-3f22fb1c7d3f"},"sender":{"id":"7c1e0b57-7d0a-4f3e-9d57-1c0a3d1e5b11"},"body":"Hello, how can I help?","bodyType":"standard","timestamp":"2020-08-05T13:10:02.113Z"},"metadata":{"CorrelationId":"411570eb-09b9-41e4-a271-3bbe1a4fcca5","type":"message"}}`)

// BenchmarkParseEvent: the typed, validating frame decoder.
func BenchmarkParseEvent(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseEvent(benchFrame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineUnmarshalMap: the same frame into map[string]any with
// encoding/json, as an untyped client would.
func BenchmarkBaselineUnmarshalMap(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		var m map[string]any
		if err := json.Unmarshal(benchFrame, &m); err != nil {
			b.Fatal(err)
		}
	}
}
