package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrInvalidResponse is matched (errors.Is) by every error of [DecodeResponse].
var ErrInvalidResponse = errors.New("wire: invalid Chat V2 response")

// DecodeError says what is wrong with a Chat V2 response and where.
// Path is a JSON path such as "messages[2].index" ("" for the whole value).
// The text never includes the value of secureKey.
type DecodeError struct {
	Path string
	Msg  string
}

func (e *DecodeError) Error() string {
	if e.Path == "" {
		return "wire: invalid Chat V2 response: " + e.Msg
	}
	return "wire: invalid Chat V2 response: " + e.Path + ": " + e.Msg
}

// Is makes errors.Is(err, ErrInvalidResponse) true.
func (e *DecodeError) Is(target error) bool { return target == ErrInvalidResponse }

func derr(path string, format string, a ...any) error {
	return &DecodeError{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// MaxResponseSize bounds the bytes DecodeResponse accepts (8 MiB).
const MaxResponseSize = 8 << 20

// DecodeResponse decodes and validates one Chat V2 response (a REST answer
// body or the data of a CometD notification).
//
// Rules: a JSON object; statusCode present and 0, 1 or 2; chatId, userId,
// secureKey, alias a string or number; nextPosition ≥ 0; messages an array of
// event objects, each with a non-empty type and index ≥ 0; errors an array of
// {code, advice}; userData an object. Unknown keys are ignored.
func DecodeResponse(data []byte) (*Response, error) {
	r := new(Response)
	if err := r.decode(data); err != nil {
		return nil, err
	}
	return r, nil
}

// UnmarshalJSON runs the DecodeResponse validation.
func (r *Response) UnmarshalJSON(data []byte) error { return r.decode(data) }

func (r *Response) decode(data []byte) error {
	if len(data) > MaxResponseSize {
		return derr("", "%d bytes is more than the %d allowed", len(data), MaxResponseSize)
	}
	obj, err := object(data, "")
	if err != nil {
		return err
	}
	var out Response
	raw, ok := obj["statusCode"]
	if !ok || isNull(raw) {
		return derr("statusCode", "missing")
	}
	sc, err := flexInt(raw)
	if err != nil {
		return derr("statusCode", "%v", err)
	}
	if sc < 0 || sc > 2 {
		return derr("statusCode", "%d is not 0, 1 or 2", sc)
	}
	out.StatusCode = StatusCode(sc)
	if v, ok := obj["chatEnded"]; ok {
		if out.ChatEnded, err = flexBool(v); err != nil {
			return derr("chatEnded", "%v", err)
		}
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"chatId", &out.ChatID}, {"userId", &out.UserID}, {"secureKey", &out.SecureKey}, {"alias", &out.Alias}} {
		if v, ok := obj[f.name]; ok {
			if *f.dst, err = flexString(v); err != nil {
				return derr(f.name, "%v", err)
			}
		}
	}
	if v, ok := obj["nextPosition"]; ok {
		n, err := flexInt(v)
		if err != nil {
			return derr("nextPosition", "%v", err)
		}
		if n < 0 || n > maxIndex {
			return derr("nextPosition", "%d is out of range", n)
		}
		out.NextPosition = int(n)
	}
	if v, ok := obj["messages"]; ok && !isNull(v) {
		items, err := array(v, "messages")
		if err != nil {
			return err
		}
		out.Messages = make([]Event, len(items))
		for i, it := range items {
			if err := out.Messages[i].decode(it, fmt.Sprintf("messages[%d]", i)); err != nil {
				return err
			}
		}
	}
	if v, ok := obj["errors"]; ok && !isNull(v) {
		items, err := array(v, "errors")
		if err != nil {
			return err
		}
		out.Errors = make([]Error, len(items))
		for i, it := range items {
			if err := out.Errors[i].decode(it, fmt.Sprintf("errors[%d]", i)); err != nil {
				return err
			}
		}
	}
	if v, ok := obj["userData"]; ok {
		if out.UserData, err = flexStringMap(v); err != nil {
			return derr("userData", "%v", err)
		}
	}
	if v, ok := obj["monitored"]; ok && !isNull(v) {
		b, err := flexBool(v)
		if err != nil {
			return derr("monitored", "%v", err)
		}
		out.Monitored = &b
	}
	*r = out
	return nil
}

// joinPath names field k under path ("" = top level) in decode errors.
func joinPath(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// maxIndex bounds index and nextPosition so they fit an int on every platform.
const maxIndex = 1<<31 - 1

// UnmarshalJSON decodes one transcript event with the same rules as DecodeResponse.
func (e *Event) UnmarshalJSON(data []byte) error { return e.decode(data, "") }

func (e *Event) decode(data []byte, path string) error {
	obj, err := object(data, path)
	if err != nil {
		return err
	}
	at := func(k string) string { return joinPath(path, k) }
	var out Event
	t, ok := obj["type"]
	if !ok {
		return derr(at("type"), "missing")
	}
	s, err := flexString(t)
	if err != nil {
		return derr(at("type"), "%v", err)
	}
	if s == "" {
		return derr(at("type"), "empty")
	}
	out.Type = EventType(s)
	if v, ok := obj["index"]; ok {
		n, err := flexInt(v)
		if err != nil {
			return derr(at("index"), "%v", err)
		}
		if n < 0 || n > maxIndex {
			return derr(at("index"), "%d is out of range", n)
		}
		out.Index = int(n)
	}
	if v, ok := obj["utcTime"]; ok {
		if out.UTCTime, err = flexInt(v); err != nil {
			return derr(at("utcTime"), "%v", err)
		}
	}
	if v, ok := obj["from"]; ok && !isNull(v) {
		fo, err := object(v, at("from"))
		if err != nil {
			return err
		}
		p := new(Party)
		if x, ok := fo["nickname"]; ok {
			if p.Nickname, err = flexString(x); err != nil {
				return derr(at("from.nickname"), "%v", err)
			}
		}
		if x, ok := fo["participantId"]; ok {
			id, err := flexString(x)
			if err != nil {
				return derr(at("from.participantId"), "%v", err)
			}
			p.ParticipantID = FlexString(id)
		}
		if x, ok := fo["type"]; ok {
			pt, err := flexString(x)
			if err != nil {
				return derr(at("from.type"), "%v", err)
			}
			p.Type = PartyType(pt)
		}
		out.From = p
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"text", &out.Text}, {"messageType", &out.MessageType}} {
		if v, ok := obj[f.name]; ok {
			if *f.dst, err = flexString(v); err != nil {
				return derr(at(f.name), "%v", err)
			}
		}
	}
	if v, ok := obj["userData"]; ok {
		if out.UserData, err = flexStringMap(v); err != nil {
			return derr(at("userData"), "%v", err)
		}
	}
	if v, ok := obj["eventAttributes"]; ok {
		if out.EventAttributes, err = flexObject(v); err != nil {
			return derr(at("eventAttributes"), "%v", err)
		}
	}
	*e = out
	return nil
}

// UnmarshalJSON decodes {code, advice}; code may be a numeric string, advice
// a string or a number.
func (x *Error) UnmarshalJSON(data []byte) error { return x.decode(data, "") }

func (x *Error) decode(data []byte, path string) error {
	obj, err := object(data, path)
	if err != nil {
		return err
	}
	at := func(k string) string { return joinPath(path, k) }
	var out Error
	v, ok := obj["code"]
	if !ok {
		return derr(at("code"), "missing")
	}
	c, err := flexInt(v)
	if err != nil {
		return derr(at("code"), "%v", err)
	}
	if c < -1<<31 || c > 1<<31-1 {
		return derr(at("code"), "%d is out of range", c)
	}
	out.Code = int(c)
	if v, ok := obj["advice"]; ok {
		a, err := flexString(v)
		if err != nil {
			return derr(at("advice"), "%v", err)
		}
		out.Advice = FlexString(a)
	}
	*x = out
	return nil
}

func object(data []byte, path string) (map[string]json.RawMessage, error) {
	data = bytes.TrimSpace(data)
	if k := kind(data); k != "object" {
		return nil, derr(path, "want a JSON object, got %s", k)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, derr(path, "malformed JSON: %s", syntaxMsg(err))
	}
	return obj, nil
}

func array(data []byte, path string) ([]json.RawMessage, error) {
	if k := kind(data); k != "array" {
		return nil, derr(path, "want an array, got %s", k)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, derr(path, "malformed JSON: %s", syntaxMsg(err))
	}
	return items, nil
}

// syntaxMsg returns the json error text without echoing input bytes.
func syntaxMsg(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return err.Error()
}
