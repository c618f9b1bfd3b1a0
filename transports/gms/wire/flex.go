package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FlexString is a string that travels as a JSON number when it is a canonical
// decimal integer ("1", "117"; no sign, no leading zero) and as a JSON string
// otherwise ("007553863DC30029"). It decodes from either. It is used where
// GMS sends numbers in some deployments and strings in others:
// participantId and the errors[] advice.
type FlexString string

// MarshalJSON implements json.Marshaler.
func (s FlexString) MarshalJSON() ([]byte, error) {
	if isCanonicalUint(string(s)) {
		return []byte(s), nil
	}
	return json.Marshal(string(s))
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *FlexString) UnmarshalJSON(b []byte) error {
	v, err := flexString(b)
	if err != nil {
		return err
	}
	*s = FlexString(v)
	return nil
}

// isCanonicalUint reports whether v is a decimal integer without sign or
// leading zero that fits in 15 digits (so JavaScript clients keep it exact).
func isCanonicalUint(v string) bool {
	if v == "" || len(v) > 15 || (len(v) > 1 && v[0] == '0') {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// kind names the JSON kind of a raw value for error messages.
func kind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f', 'n':
		switch string(b) {
		case "true", "false":
			return "boolean"
		case "null":
			return "null"
		}
		return "invalid JSON"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "number"
	default:
		return "invalid JSON"
	}
}

func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// flexString decodes a JSON string or number into a string (a number keeps
// its literal digits, so large ids are not rounded). null gives "".
func flexString(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch kind(b) {
	case "null":
		return "", nil
	case "string":
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", fmt.Errorf("bad string: %v", err)
		}
		return s, nil
	case "number":
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", fmt.Errorf("bad number: %v", err)
		}
		return n.String(), nil
	default:
		return "", fmt.Errorf("want a string or a number, got %s", kind(b))
	}
}

// flexInt decodes a JSON integer, an integral float or a numeric string.
// null or "" gives 0.
func flexInt(b []byte) (int64, error) {
	b = bytes.TrimSpace(b)
	var lit string
	switch kind(b) {
	case "null":
		return 0, nil
	case "string":
		if err := json.Unmarshal(b, &lit); err != nil {
			return 0, fmt.Errorf("bad string: %v", err)
		}
		lit = strings.TrimSpace(lit)
		if lit == "" {
			return 0, nil
		}
	case "number":
		lit = string(b)
	default:
		return 0, fmt.Errorf("want an integer, got %s", kind(b))
	}
	if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || f != math.Trunc(f) || math.IsInf(f, 0) || f > math.MaxInt64 || f < math.MinInt64 {
		if _, ferr := strconv.ParseFloat(lit, 64); ferr == nil {
			return 0, fmt.Errorf("want an integer, got a fractional or out-of-range number")
		}
		return 0, fmt.Errorf("want an integer, got a non-numeric %s", kind(b))
	}
	return int64(f), nil
}

// flexBool decodes a JSON boolean or the strings "true"/"false". null gives false.
func flexBool(b []byte) (bool, error) {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "true", `"true"`:
		return true, nil
	case "false", `"false"`, "null", `""`:
		return false, nil
	}
	return false, fmt.Errorf("want a boolean, got %s", kind(b))
}

// objectText returns the JSON object in b, unwrapping a JSON string that holds one (REST
// sends some objects as strings); nil for null or an empty string.
func objectText(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if kind(b) == "string" {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("bad string: %v", err)
		}
		if strings.TrimSpace(s) == "" {
			return nil, nil
		}
		b = []byte(s)
	}
	switch kind(b) {
	case "null":
		return nil, nil
	case "object":
		return b, nil
	default:
		return nil, fmt.Errorf("want an object, got %s", kind(b))
	}
}

// flexStringMap decodes a JSON object into a map of strings; non-string
// values are kept as their compact JSON text. A JSON string holding an object
// is accepted too (REST sends some objects as strings). null gives nil.
func flexStringMap(b []byte) (map[string]string, error) {
	b, err := objectText(b)
	if b == nil || err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("bad object: %v", err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if kind(v) == "string" {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, fmt.Errorf("key %q: %v", k, err)
			}
			out[k] = s
			continue
		}
		if isNull(v) {
			out[k] = ""
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, fmt.Errorf("key %q: %v", k, err)
		}
		out[k] = buf.String()
	}
	return out, nil
}

// flexObject decodes a JSON object, or a JSON string holding one, into a
// map. null or "" gives nil.
func flexObject(b []byte) (map[string]any, error) {
	b, err := objectText(b)
	if b == nil || err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("bad object: %v", err)
	}
	return m, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
