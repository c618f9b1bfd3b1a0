package prefilter

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// ParseValue parses the "filters" option of addPrefilter (and the "regex" option of
// sendFilteredMessage) as it arrives on the bus: one filter or a list of them. Accepted forms:
//
//   - string, in [Parse] form ("/source/flags" or a Go pattern);
//   - *Filter, *regexp.Regexp;
//   - an object {source, flags[, syntax]} as map[string]any (JSON callers);
//   - json.RawMessage holding a string, an object or an array of those;
//   - a slice of any of the above ([]string, []*Filter, []*regexp.Regexp, []any, …).
//
// nil, an empty list and anything else are errors matching [ErrInvalid]; so is the first
// invalid item. The WebChatService maps every such error to the contract's rejection
// "Missing or invalid filters provided. …".
func ParseValue(v any) ([]*Filter, error) {
	var out []*Filter
	if err := parseValue(v, &out, true); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, invalid("[]", "no filters given")
	}
	return out, nil
}

func parseValue(v any, out *[]*Filter, top bool) error {
	add := func(f *Filter, err error) error {
		if err != nil {
			return err
		}
		*out = append(*out, f)
		return nil
	}
	switch x := v.(type) {
	case nil:
		return invalid("<nil>", "no filters given")
	case string:
		return add(Parse(x))
	case *Filter:
		if x == nil || x.re == nil {
			return invalid("<nil>", "nil filter")
		}
		return add(x, nil)
	case *regexp.Regexp:
		return add(FromRegexp(x))
	case json.RawMessage:
		return parseJSONValue(x, out, top)
	case map[string]any:
		b, err := json.Marshal(x)
		if err != nil {
			return invalid(fmt.Sprintf("%v", x), "not a {source, flags} object")
		}
		return add(decodeFilter(b))
	}
	if !top {
		return invalid(fmt.Sprintf("%T", v), "a filter must be a string, a regexp or {source, flags}")
	}
	switch x := v.(type) {
	case []string:
		for _, s := range x {
			if err := parseValue(s, out, false); err != nil {
				return err
			}
		}
	case []*Filter:
		for _, f := range x {
			if err := parseValue(f, out, false); err != nil {
				return err
			}
		}
	case []*regexp.Regexp:
		for _, re := range x {
			if err := parseValue(re, out, false); err != nil {
				return err
			}
		}
	case []any:
		for _, it := range x {
			if err := parseValue(it, out, false); err != nil {
				return err
			}
		}
	case []map[string]any:
		for _, it := range x {
			if err := parseValue(it, out, false); err != nil {
				return err
			}
		}
	default:
		return invalid(fmt.Sprintf("%T", v), "filters must be a regular expression or a list of them")
	}
	return nil
}

func parseJSONValue(b json.RawMessage, out *[]*Filter, top bool) error {
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err == nil {
		if !top {
			return invalid(abbrev(b), "nested list of filters")
		}
		for _, it := range items {
			if err := parseJSONValue(it, out, false); err != nil {
				return err
			}
		}
		return nil
	}
	f, err := decodeFilter(b)
	if err != nil {
		return err
	}
	*out = append(*out, f)
	return nil
}

// abbrev shortens raw input quoted in an error.
func abbrev(b []byte) string {
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
