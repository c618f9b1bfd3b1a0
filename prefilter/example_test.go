package prefilter_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cxbus/webchat/prefilter"
)

func Example() {
	var filters prefilter.Set // the zero value applies the standard co-browse filter
	if _, err := filters.AddPatterns(`/^#code-\d+$/i`, `(?i)\[\[secret:[a-z0-9]+\]\]`); err != nil {
		fmt.Println(err)
		return
	}
	for _, text := range []string{"Hello!", "{start:123456789}", "#CODE-42", "[[secret:abc123]]"} {
		fmt.Printf("%-20q hidden=%v\n", text, filters.Match(text))
	}
	// Output:
	// "Hello!"             hidden=false
	// "{start:123456789}"  hidden=true
	// "#CODE-42"           hidden=true
	// "[[secret:abc123]]"  hidden=true
}

func ExampleParse() {
	for _, s := range []string{`/a\/b/gi`, `/foo(?=bar)/`, `/x/q`, `(?i)go\s+pattern`} {
		f, err := prefilter.Parse(s)
		if err != nil {
			fmt.Println(err, "| unsupported:", errors.Is(err, prefilter.ErrUnsupported))
			continue
		}
		fmt.Printf("%s -> %s (syntax %q)\n", f, f.Expr(), f.Syntax())
	}
	// Output:
	// /a\/b/gi -> (?i)a/b (syntax "")
	// prefilter: look-ahead is not supported (RE2): /foo(?=bar)/ | unsupported: true
	// prefilter: unknown flag "q" (supported: i, m, s; ignored: g, y, u): /x/q | unsupported: false
	// (?i)go\s+pattern -> (?i)go\s+pattern (syntax "go")
}

func ExampleSet_MarshalJSON() {
	var s prefilter.Set
	s.AddPatterns(`/token=\w+/i`, `/token=\w+/gi`) // the second is a duplicate
	b, _ := json.Marshal(&s)
	fmt.Println(string(b))

	var restored prefilter.Set
	if err := json.Unmarshal(b, &restored); err != nil {
		fmt.Println(err)
	}
	fmt.Println(restored.Patterns(), restored.Match("TOKEN=abc"))
	// Output:
	// ["/token=\\w+/i"]
	// [/token=\w+/i] true
}

func ExampleFilter_MarshalJSON() {
	f, _ := prefilter.ParseJS(`\d{4}`, "g")
	b, _ := json.Marshal(f)
	fmt.Println(string(b))
	// Output: {"source":"\\d{4}","flags":"g"}
}
