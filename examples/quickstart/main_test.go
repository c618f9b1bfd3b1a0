package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	want := "(Alex joined)\n" +
		"Alex: Hello! How can I help?\n" +
		"Ada: Hello from Go!\n" +
		"Alex: You said: Hello from Go!\n" +
		"(chat ended)\n"
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := run(ctx, &out)
	if err == nil || !strings.Contains(err.Error(), "cancel") {
		t.Fatalf("run with a cancelled context: err = %v, want a cancellation", err)
	}
}
