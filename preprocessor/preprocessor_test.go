package preprocessor

import (
	"context"
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestChain(t *testing.T) {
	upper := func(ctx context.Context, m *Message) (*Message, error) {
		m.Text = strings.ToUpper(m.Text)
		return m, nil
	}
	suffix := func(ctx context.Context, m *Message) (*Message, error) {
		return &Message{ID: m.ID, Text: m.Text + "!", Type: m.Type}, nil
	}
	keep := func(ctx context.Context, m *Message) (*Message, error) { return nil, nil }
	half := func(ctx context.Context, m *Message) (*Message, error) {
		m.Text = "half-done"
		m.UserData["touched"] = true
		return nil, errors.New("broken")
	}
	boom := func(ctx context.Context, m *Message) (*Message, error) { panic("kaboom") }

	cases := []struct {
		name     string
		funcs    []Func
		want     string
		failures int
	}{
		{"empty", nil, "hi", 0},
		{"order", []Func{upper, suffix}, "HI!", 0},
		{"order reversed", []Func{suffix, upper}, "HI!", 0},
		{"nil keeps", []Func{keep, upper}, "HI", 0},
		{"error skipped, no half changes", []Func{half, suffix}, "hi!", 1},
		{"panic skipped", []Func{upper, boom, suffix}, "HI!", 1},
		{"all fail", []Func{boom, half}, "hi", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Chain
			var reported []Failure
			c.OnError = func(f Failure) { reported = append(reported, f) }
			for _, f := range tc.funcs {
				c.Add(f)
			}
			in := Message{ID: "m1", Text: "hi", UserData: map[string]any{}}
			out, failures := c.Apply(context.Background(), in)
			if out.Text != tc.want || len(failures) != tc.failures || len(reported) != tc.failures {
				t.Fatalf("got %q, %d failures (%d reported)", out.Text, len(failures), len(reported))
			}
			if in.Text != "hi" || len(in.UserData) != 0 {
				t.Fatalf("input modified: %+v", in)
			}
			for _, f := range failures {
				if f.MessageID != "m1" || f.Err == nil || f.Error() == "" {
					t.Fatalf("failure %+v", f)
				}
			}
		})
	}
}

func TestApplyAllKeepsEveryMessage(t *testing.T) {
	var c Chain
	c.Add(func(ctx context.Context, m *Message) (*Message, error) {
		if m.ID == "2" {
			panic("bad message")
		}
		m.Text += "+"
		return m, nil
	})
	c.Add(nil) // ignored
	msgs := []Message{{ID: "1", Text: "a"}, {ID: "2", Text: "b"}, {ID: "3", Text: "c"}}
	out, failures := c.ApplyAll(context.Background(), msgs)
	if len(out) != 3 || out[0].Text != "a+" || out[1].Text != "b" || out[2].Text != "c+" {
		t.Fatalf("out %+v", out)
	}
	if len(failures) != 1 || !failures[0].Panicked || failures[0].MessageID != "2" {
		t.Fatalf("failures %+v", failures)
	}
	if c.Len() != 1 {
		t.Fatal(c.Len())
	}
	c.Clear()
	if same, _ := c.ApplyAll(context.Background(), msgs); &same[0] != &msgs[0] {
		t.Fatal("empty chain copied the slice")
	}
}

func BenchmarkApplyTwo(b *testing.B) {
	var c Chain
	c.Add(func(ctx context.Context, m *Message) (*Message, error) { m.Text += "."; return m, nil })
	c.Add(func(ctx context.Context, m *Message) (*Message, error) { return nil, nil })
	m := Message{ID: "1", Text: "hello"}
	b.ReportAllocs()
	for b.Loop() {
		c.Apply(context.Background(), m)
	}
}
