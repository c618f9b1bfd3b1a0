package purecloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cxbus/webchat/transports"
	"github.com/cxbus/webchat/transports/purecloud/wire"
)

func benchFrames(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf(`{"topicName":"v2.conversations.chats.c1.messages","version":"2","eventBody":{"id":"9f2c1e6a-0000-4000-8000-%012d","conversation":{"id":"c1"},"sender":{"id":"a1"},"body":"Hello, how can I help you today?","bodyType":"standard","timestamp":"2020-08-05T13:10:02.113Z"},"metadata":{"CorrelationId":"7c1e0000-1111-4222-8333-444455556666","type":"message"}}`, i))
	}
	return out
}

// BenchmarkFrameDecodeNormalize: one agent message frame → a normalized
// transports.Message (decode, topic check, dedupe, role lookup from the
// cache, normalization). Baseline: BenchmarkFrameRawUnmarshal.
func BenchmarkFrameDecodeNormalize(b *testing.B) {
	tr, ls := fuzzTransport(b, "http://127.0.0.1:1", http.DefaultClient)
	defer tr.Close()
	ls.seen = transports.NewSeen(16) // frames cycle through 1024 ids: all new
	frames := benchFrames(1024)
	now := time.Now()
	b.SetBytes(int64(len(frames[0])))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := ls.frame(frames[i%len(frames)], now); err != nil {
			b.Fatal(err)
		}
		if len(ls.batch) != 1 {
			b.Fatalf("batch %d", len(ls.batch))
		}
		ls.batch = ls.batch[:0]
	}
}

// BenchmarkFrameRawUnmarshal is the baseline: json.Unmarshal of the same
// frame into the wire envelope with a typed body.
func BenchmarkFrameRawUnmarshal(b *testing.B) {
	frames := benchFrames(1024)
	b.SetBytes(int64(len(frames[0])))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var env struct {
			TopicName string              `json:"topicName"`
			Version   string              `json:"version"`
			EventBody wire.WebChatMessage `json:"eventBody"`
			Metadata  wire.Metadata       `json:"metadata"`
		}
		if err := json.Unmarshal(frames[i%len(frames)], &env); err != nil {
			b.Fatal(err)
		}
	}
}
