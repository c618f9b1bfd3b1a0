package natsbridge

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	deep := any("leaf")
	for range maxFastDepth + 2 {
		deep = []any{deep}
	}
	for _, tc := range []struct {
		name string
		v    any
		fast bool // handled without encoding/json
	}{
		{"nil", nil, true},
		{"bools", []any{true, false}, true},
		{"plain string", "hello agent", true},
		{"utf-8", "héllo wörld — 你好 🙂", true},
		{"html", "<b>a & b</b>", true},
		{"quotes and controls", "say \"hi\"\\ \n\t\r\b\f \x01 \x7f", true},
		{"line separators", "a\u2028b\u2029c", true},
		{"invalid utf-8", "bad \xff\xfe bytes", true},
		{"integers", []any{0, -1, int64(math.MaxInt64), int32(-7), uint(3), uint64(math.MaxUint64), uint32(9)}, true},
		{"floats", []any{0.0, math.Copysign(0, -1), 1.5, -2.25, 12345.0, 1e20, 1e21, 1e-6, 1e-7, 123456789e-15, 5e-324, math.MaxFloat64, 0.1 + 0.2}, true},
		{"map sorted", map[string]any{"b": 1.0, "a": "x", "é": nil, "A": true, "<k>": []any{}}, true},
		{"nested", map[string]any{"messages": []any{map[string]any{"text": "hi", "from": map[string]any{"id": "1", "type": "Agent"}}}, "n": 2.0}, true},
		{"string maps and slices", map[string]any{"ud": map[string]string{"z": "1", "a": "<2>"}, "list": []string{"x", "y&z"}}, true},
		{"nil containers", map[string]any{"m": map[string]any(nil), "s": []any(nil), "ms": map[string]string(nil), "ss": []string(nil)}, true},
		{"empty containers", map[string]any{"m": map[string]any{}, "s": []any{}}, true},
		{"struct", struct {
			A int    `json:"a"`
			B string `json:"b,omitempty"`
		}{A: 1}, false},
		{"raw message", json.RawMessage(`{ "spaced" : 1 }`), false},
		{"float32", float32(1.1), false},
		{"too deep", deep, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := appendJSON([]byte("prefix:"), tc.v)
			if ok != tc.fast {
				t.Fatalf("handled = %v, want %v", ok, tc.fast)
			}
			if !ok {
				if string(got) != "prefix:" {
					t.Fatalf("a fallback left %q in the buffer", got)
				}
				return
			}
			if !bytes.Equal(got, append([]byte("prefix:"), want...)) {
				t.Fatalf("appendJSON\n got %s\nwant prefix:%s", got, want)
			}
		})
	}
	for _, v := range []any{math.NaN(), math.Inf(1), []any{1.0, math.Inf(-1)}, cyclic} {
		if got, ok := appendJSON(nil, v); ok {
			t.Errorf("%v encoded as %s; encoding/json must report it", v, got)
		}
	}
}

// FuzzAppendJSON: any JSON document, decoded the way plugins usually build payloads
// (map[string]any, []any, float64, string, bool, nil), encodes byte for byte as encoding/json.
func FuzzAppendJSON(f *testing.F) {
	for _, s := range []string{`{"a":1,"b":[true,null,"x"]}`, `"<&>\u2028"`, `1e-7`, `[1e21,-0,0.1]`, `{"":{"":[]}}`, `"\ud800"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		want, err := json.Marshal(v)
		if err != nil {
			return
		}
		got, ok := appendJSON(nil, v)
		if !ok {
			if strings.Count(string(want), "[")+strings.Count(string(want), "{") <= maxFastDepth {
				t.Fatalf("%s not handled", want)
			}
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("appendJSON\n got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkAppendJSON vs BenchmarkBaselineJSONMarshal: encoding a typical map payload.
func BenchmarkAppendJSON(b *testing.B) {
	v := map[string]any{"message": "hello there", "type": "Message", "index": 12.0, "from": map[string]any{"id": "7", "name": "Ann", "type": "Agent"}}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendJSON(buf[:0], v)
	}
}

func BenchmarkBaselineJSONMarshal(b *testing.B) {
	v := map[string]any{"message": "hello there", "type": "Message", "index": 12.0, "from": map[string]any{"id": "7", "name": "Ann", "type": "Agent"}}
	b.ReportAllocs()
	for b.Loop() {
		_, _ = json.Marshal(v)
	}
}
