package bus

import (
	"encoding/json"
	"errors"
	"testing"
)

type sendOptions struct {
	Message string         `json:"message" validate:"required,max=10"`
	Delay   int            `json:"delay" validate:"gte=0"`
	Type    string         `json:"type,omitempty" validate:"omitempty,oneof=text notice"`
	Extra   map[string]any `json:"extra,omitempty"`
}

func TestDecodeOptions(t *testing.T) {
	want := sendOptions{Message: "hi", Delay: 1}
	for _, in := range []any{
		want, &want,
		map[string]any{"message": "hi", "delay": 1, "unknown": true},
		json.RawMessage(`{"message":"hi","delay":1}`),
		[]byte(`{"message":"hi","delay":1}`),
		struct {
			Message string `json:"message"`
			Delay   int    `json:"delay"`
		}{"hi", 1},
	} {
		got, err := DecodeOptions[sendOptions](in)
		if err != nil || got.Message != want.Message || got.Delay != want.Delay {
			t.Errorf("%T: %+v %v", in, got, err)
		}
	}
	cases := []struct {
		in   any
		text string
	}{
		{map[string]any{}, "Invalid command options: message: required"},
		{nil, "Invalid command options: message: required"},
		{map[string]any{"message": "far too long message", "delay": -1, "type": "x"}, "Invalid command options: message: must have at most 10 elements/characters; delay: must be at least 0; type: must be one of [text notice]"},
		{map[string]any{"message": 5}, "Invalid command options: message: must be a string, got number"},
		{json.RawMessage(`{"message":`), "Invalid command options: malformed JSON at offset 11: unexpected end of JSON input"},
		{json.RawMessage(`{"message":"a" x}`), "Invalid command options: malformed JSON at offset 16: invalid character 'x' after object key:value pair"},
	}
	for _, c := range cases {
		_, err := DecodeOptions[sendOptions](c.in)
		if err == nil || err.Error() != c.text || !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("%v:\n got %v\nwant %s", c.in, err, c.text)
		}
	}
	var fe FieldErrors
	_, err := DecodeOptions[sendOptions](map[string]any{"delay": -1})
	if !errors.As(err, &fe) || len(fe) != 2 {
		t.Fatalf("field errors %v", fe)
	}
	// Non-struct targets decode without validation.
	m, err := DecodeOptions[map[string]any](json.RawMessage(`{"a":1}`))
	if err != nil || m["a"] != float64(1) {
		t.Fatal(m, err)
	}
}
