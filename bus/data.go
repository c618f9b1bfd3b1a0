package bus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
)

// Data returns a copy of the plugin's whole data store.
func (p *Plugin) Data() map[string]any {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return maps.Clone(p.data)
}

// Get reads a data value: "key" is this plugin's, "Other.key" another plugin's (read-only access).
func (p *Plugin) Get(key string) (any, bool) {
	owner, k := p, key
	if dot := strings.IndexByte(key, '.'); dot >= 0 {
		if owner = p.bus.plugin(key[:dot]); owner == nil {
			return nil, false
		}
		k = key[dot+1:]
	}
	owner.mu.RLock()
	defer owner.mu.RUnlock()
	v, ok := owner.data[k]
	return v, ok
}

// DataChange is the payload of the <Plugin>.data.<key> event.
type DataChange struct {
	Last  any   `json:"last"`
	Value any   `json:"value"`
	Time  int64 `json:"time"` // epoch ms
}

// Set sets this plugin's data value. When the value changes (JSON equality), it publishes, in
// this order: <Plugin>.data with the whole data map, <Plugin>.data.<key> with DataChange, and,
// for scalar values, <Plugin>.data.<key>:'<string>' or <Plugin>.data.<key>:<value>. It reports
// whether the value changed.
func (p *Plugin) Set(key string, value any) (bool, error) {
	if key == "" || strings.ContainsAny(key, ".*> ") {
		return false, fmt.Errorf("%w: data key %q", ErrInvalidName, key)
	}
	if p.dereg.Load() {
		return false, fmt.Errorf("%w: %s", ErrNotRegistered, p.name)
	}
	p.mu.Lock()
	last, had := p.data[key]
	if had && jsonEqual(last, value) {
		p.mu.Unlock()
		return false, nil
	}
	p.data[key] = value
	whole := maps.Clone(p.data)
	p.mu.Unlock()

	now := p.bus.opts.Now()
	if err := p.Publish("data", whole); err != nil {
		return true, err
	}
	if err := p.Publish("data."+key, DataChange{Last: last, Value: value, Time: now.UnixMilli()}); err != nil {
		return true, err
	}
	if s, ok := scalarSuffix(value); ok {
		if err := p.Publish("data."+key+":"+s, value); err != nil {
			return true, err
		}
	}
	return true, nil
}

// scalarSuffix renders a scalar as Widgets does in data event names: strings quoted with single
// quotes, numbers, booleans and null bare. Objects and arrays have no such event.
func scalarSuffix(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case string:
		return "'" + x + "'", true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case json.Number:
		return x.String(), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), true
	case reflect.String:
		return "'" + rv.String() + "'", true
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), true
	}
	return "", false
}

// jsonEqual compares two values by their JSON encoding (unencodable values compare unequal
// unless deeply equal).
func jsonEqual(a, b any) bool {
	if reflect.DeepEqual(a, b) {
		return true
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}
