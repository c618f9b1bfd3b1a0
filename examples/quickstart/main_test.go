package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Example runs the program: its output is deterministic.
func Example() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// (Alex joined)
	// Alex: Hello! How can I help?
	// Ada: Hello from Go!
	// Alex: You said: Hello from Go!
	// (chat ended)
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
