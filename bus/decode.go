package bus

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

// DecodeOptions turns command options as they arrive — a T or *T from Go callers,
// map[string]any or json.RawMessage from JSON callers — into a T, then validates it with the
// `validate` struct tags (go-playground/validator/v10). Errors wrap ErrInvalidOptions and name
// every bad field by its JSON name, e.g.
// "Invalid command options: message: required; delay: must be at least 0".
func DecodeOptions[T any](opts any) (T, error) {
	var out T
	switch v := opts.(type) {
	case T:
		out = v
	case *T:
		if v != nil {
			out = *v
		}
	case nil:
	default:
		if err := decodeJSON(opts, &out); err != nil {
			return out, err
		}
	}
	return out, Validate(out)
}

func decodeJSON(opts any, dst any) error {
	var raw []byte
	switch v := opts.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	default:
		var err error
		if raw, err = json.Marshal(opts); err != nil {
			return optionsError([]string{"cannot encode options: " + err.Error()})
		}
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "(options)"
			}
			return optionsError([]string{fmt.Sprintf("%s: must be %s, got %s", field, jsonTypeName(te.Type), te.Value)})
		case errors.As(err, &se):
			return optionsError([]string{fmt.Sprintf("malformed JSON at offset %d: %v", se.Offset, err)})
		default:
			return optionsError([]string{err.Error()})
		}
	}
	return nil
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return t.String()
}

var (
	validateOnce sync.Once
	validate     *validator.Validate
)

// Validator returns the validator DecodeOptions and Validate use (JSON field names in errors),
// so packages can register their own rules on it at init.
func Validator() *validator.Validate {
	validateOnce.Do(func() {
		validate = validator.New(validator.WithRequiredStructEnabled())
		validate.RegisterTagNameFunc(func(f reflect.StructField) string {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch name {
			case "-":
				return ""
			case "":
				return f.Name
			}
			return name
		})
	})
	return validate
}

// Validate checks v's `validate` tags when v is a struct or pointer to one (other values pass)
// and returns an error naming each bad field, wrapping ErrInvalidOptions.
func Validate(v any) error {
	t := reflect.TypeOf(v)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil
	}
	err := Validator().Struct(v)
	if err == nil {
		return nil
	}
	var verrs validator.ValidationErrors
	if !errors.As(err, &verrs) {
		return optionsError([]string{err.Error()})
	}
	msgs := make([]string, 0, len(verrs))
	for _, fe := range verrs {
		msgs = append(msgs, fieldPath(fe)+": "+describeRule(fe))
	}
	return optionsError(msgs)
}

// FieldErrors lists the per-field problems of a validation error.
type FieldErrors []string

func optionsError(msgs []string) error {
	return &Error{Text: "Invalid command options: " + strings.Join(msgs, "; "), wrapped: []error{ErrInvalidOptions, FieldErrors(msgs)}}
}

func (f FieldErrors) Error() string { return strings.Join(f, "; ") }

// fieldPath is the JSON path of the field without the root struct's name.
func fieldPath(fe validator.FieldError) string {
	ns := fe.Namespace()
	if i := strings.IndexByte(ns, '.'); i >= 0 {
		return ns[i+1:]
	}
	return fe.Field()
}

func describeRule(fe validator.FieldError) string {
	p := fe.Param()
	switch fe.Tag() {
	case "required":
		return "required"
	case "required_if", "required_unless", "required_with", "required_without":
		return "required (" + fe.Tag() + " " + p + ")"
	case "min", "gte":
		if isLenKind(fe.Kind()) {
			return "must have at least " + p + " elements/characters"
		}
		return "must be at least " + p
	case "max", "lte":
		if isLenKind(fe.Kind()) {
			return "must have at most " + p + " elements/characters"
		}
		return "must be at most " + p
	case "gt":
		return "must be greater than " + p
	case "lt":
		return "must be less than " + p
	case "len":
		return "must have length " + p
	case "oneof":
		return "must be one of [" + p + "]"
	case "url", "http_url":
		return "must be a URL"
	case "email":
		return "must be an email address"
	}
	if p != "" {
		return "failed rule " + fe.Tag() + "=" + p
	}
	return "failed rule " + fe.Tag()
}

func isLenKind(k reflect.Kind) bool {
	return k == reflect.String || k == reflect.Slice || k == reflect.Map || k == reflect.Array
}
