package natsbridge

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// maxFastDepth bounds the nesting appendJSON handles itself; deeper values (and cycles) go to
// encoding/json, which reports cycles.
const maxFastDepth = 32

// appendJSON appends the JSON of v exactly as encoding/json.Marshal writes it (HTML-escaped,
// map keys sorted) for the JSON-like values plugins usually publish: nil, bool, string,
// float64, the integer kinds, map[string]any, map[string]string, []any and []string, nested.
// It reports false, leaving b as it was, for anything else; the caller falls back to
// encoding/json. Event payloads of this shape are the common case on the bus, and encoding
// them by reflection (map iteration, key sorting through reflect.Value) costs more than the
// NATS publish itself.
func appendJSON(b []byte, v any) ([]byte, bool) {
	out, ok := appendJSONValue(b, v, 0)
	if !ok {
		return b, false
	}
	return out, true
}

func appendJSONValue(b []byte, v any, depth int) ([]byte, bool) {
	if depth > maxFastDepth {
		return b, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, x), true
	case string:
		return appendJSONString(b, x), true
	case float64:
		return appendJSONFloat(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case uint:
		return strconv.AppendUint(b, uint64(x), 10), true
	case uint64:
		return strconv.AppendUint(b, x, 10), true
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), true
	case map[string]any:
		return appendObject(b, x, func(b []byte, v any) ([]byte, bool) { return appendJSONValue(b, v, depth+1) })
	case map[string]string:
		return appendObject(b, x, appendStringValue)
	case []any:
		return appendArray(b, x, func(b []byte, v any) ([]byte, bool) { return appendJSONValue(b, v, depth+1) })
	case []string:
		return appendArray(b, x, appendStringValue)
	}
	return b, false
}

func appendStringValue(b []byte, s string) ([]byte, bool) { return appendJSONString(b, s), true }

// appendObject appends m as a JSON object with its keys sorted, as encoding/json does.
func appendObject[V any](b []byte, m map[string]V, value func([]byte, V) ([]byte, bool)) ([]byte, bool) {
	if m == nil {
		return append(b, "null"...), true
	}
	var small [16]string
	keys := sortedKeys(small[:0], m)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var ok bool
		if b, ok = value(b, m[k]); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// appendArray appends s as a JSON array.
func appendArray[V any](b []byte, s []V, value func([]byte, V) ([]byte, bool)) ([]byte, bool) {
	if s == nil {
		return append(b, "null"...), true
	}
	b = append(b, '[')
	for i, e := range s {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = value(b, e); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// sortedKeys appends the keys of m to keys (a small stack array in the callers) in order.
func sortedKeys[V any](keys []string, m map[string]V) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendJSONFloat formats f as encoding/json does; NaN and infinities are not JSON.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json writes it
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONString appends s as a JSON string, as encoding/json writes it. Plain text is
// copied; strings with characters encoding/json escapes (quotes, backslashes, controls, <, >,
// &, U+2028, U+2029, invalid UTF-8) take the encoding/json path.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				return appendQuoted(b, s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
			return appendQuoted(b, s)
		}
		i += size
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendQuoted(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}
