package preprocessor_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/cxbus/webchat/preprocessor"
)

func Example() {
	var chain preprocessor.Chain
	chain.OnError = func(f preprocessor.Failure) { fmt.Println("reported:", f) }
	chain.Add(func(ctx context.Context, m *preprocessor.Message) (*preprocessor.Message, error) {
		m.Text = strings.ReplaceAll(m.Text, "darn", "d**n")
		return m, nil
	})
	chain.Add(func(ctx context.Context, m *preprocessor.Message) (*preprocessor.Message, error) {
		panic("buggy preprocessor")
	})
	out, _ := chain.Apply(context.Background(), preprocessor.Message{ID: "7", Text: "darn printer"})
	fmt.Println(out.Text)
	// Output:
	// reported: preprocessor 1 panicked on message 7: buggy preprocessor
	// d**n printer
}
