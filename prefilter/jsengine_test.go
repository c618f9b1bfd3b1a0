package prefilter

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
)

// jsCorpus are JavaScript patterns whose meaning the translation must keep. Documented
// differences (m-flag anchors at \r or U+2028, Unicode case folding beyond ASCII, \S inside a
// class) are deliberately not exercised here.
var jsCorpus = [][2]string{
	{`abc`, ``}, {`abc`, `i`}, {`a.c`, ``}, {`a.c`, `s`}, {`^a.c$`, ``}, {`^b$`, `m`},
	{`\s`, ``}, {`^\S+$`, ``}, {`\s+x`, `g`}, {`[\s]`, ``}, {`[^\s]{3}`, ``},
	{`[^]`, ``}, {`x[]`, ``}, {`[^]{2}`, `u`},
	{`\bcat\b`, ``}, {`\Bat`, ``}, {`[\b]`, ``},
	{`\cJ`, ``}, {`\x41`, ``}, {`\u0041`, ``}, {`\uD83D\uDE00`, ``}, {`\u{1F600}`, `u`}, {`\u{41}`, ``},
	{`\p{Lu}`, `u`}, {`\p{Script=Greek}`, `u`}, {`\p{L}`, ``}, {`\P{L}`, `u`}, {`\p{Letter}+`, `u`},
	{`\a\e\z`, ``}, {`\A`, ``}, {`\k`, ``}, {`\/`, ``}, {`a\/b`, `i`},
	{`{`, ``}, {`a{2}`, ``}, {`a{,2}`, ``}, {`x{1,}y`, ``}, {`}`, ``}, {`]`, ``},
	{`[\d-z]`, ``}, {`[a-\d]`, ``}, {`[[:alpha:]]`, ``}, {`[\12]`, ``}, {`\0`, ``},
	{`(?<year>\d{4})-\d\d`, ``}, {`a*?b`, ``}, {`(?:ab|cd)+?e`, ``},
	{`\{start:[0-9]{9}\}`, ``}, {`\w+@\w+\.com`, `i`}, {`^#cmd-\d+:\s*\w+$`, `im`},
	{`[\u00e0-\u00ff]`, ``}, {`\d{3,}`, ``}, {`\W`, ``}, {`\D`, ``}, {`[\w-]+`, ``},
}

var jsTexts = []string{
	"", "abc", "ABC", "a\nc", "a\rc", "a\u2028c", "a\u2029c", "axc", "line1\nb", "b",
	"a b", "a\u00a0b", "a\u3000b", "a\vb", "a\tb", "\ufeff", "x", "xy",
	"a cat!", "concatenate", "\b", "\n", "A", "😀", "smile 😀", "ÉCOLE", "αβγ", "p{L}", "P{L}",
	"aez", "k", "/", "a/b", "A/B", "{", "aa", "a{,2}", "xy", "xxy", "}", "]", "-", "5", "z",
	"[:a", ":", "\n", "\x00", "2024-05", "ab", "abcde", "{start:123456789}", "{start:12345678}",
	"JOE@EXAMPLE.COM", "#CMD-12: go", "x\n#cmd-1: z", "é", "Ü", "123", "12", "a-b_c",
}

func TestJavaScriptEngineAgrees(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("WEBCHAT_REQUIRE_INTEROP") == "1" {
			t.Fatal("node is not on PATH but WEBCHAT_REQUIRE_INTEROP=1: install Node.js to run the JavaScript cross-check")
		}
		t.Skip("node not on PATH")
	}
	req, _ := json.Marshal(map[string]any{"patterns": jsCorpus, "texts": jsTexts})
	cmd := exec.Command(node, "testdata/jsmatch.js")
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var res []struct {
		Error   string `json:"error"`
		Matches []bool `json:"matches"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output: %v", err)
	}
	for i, p := range jsCorpus {
		if res[i].Error != "" {
			t.Errorf("/%s/%s is not valid JavaScript: %s", p[0], p[1], res[i].Error)
			continue
		}
		f, err := ParseJS(p[0], p[1])
		if err != nil {
			t.Errorf("ParseJS(%q, %q): %v", p[0], p[1], err)
			continue
		}
		for j, text := range jsTexts {
			if got, want := f.MatchString(text), res[i].Matches[j]; got != want {
				t.Errorf("/%s/%s on %q: Go %v, JavaScript %v (expr %s)", p[0], p[1], text, got, want, f.Expr())
			}
		}
	}
}
