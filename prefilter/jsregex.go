package prefilter

import (
	"fmt"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsFlags are the JavaScript RegExp flags that change matching.
type jsFlags struct{ i, m, s, u bool }

// parseFlags validates JavaScript flags: i, m, s are mapped; g, y, u are accepted (u also
// enables \u{…} and \p{…}); every other letter, and a repeated flag, is an error naming it.
func parseFlags(pattern, flags string) (jsFlags, *Error) {
	var f jsFlags
	seen := ""
	for _, r := range flags {
		if strings.ContainsRune(seen, r) {
			return f, invalid(pattern, fmt.Sprintf("flag %q given twice", string(r)))
		}
		seen += string(r)
		switch r {
		case 'i':
			f.i = true
		case 'm':
			f.m = true
		case 's':
			f.s = true
		case 'u':
			f.u = true
		case 'g', 'y':
		default:
			return f, invalid(pattern, fmt.Sprintf("unknown flag %q (supported: i, m, s; ignored: g, y, u)", string(r)))
		}
	}
	return f, nil
}

// splitLiteral splits a JavaScript regular expression literal "/source/flags". ok is false
// when s is not shaped like a literal: it must start with '/', end the body with an
// unescaped '/' outside a character class, and continue with ASCII letters only.
func splitLiteral(s string) (source, flags string, ok bool) {
	if len(s) < 2 || s[0] != '/' {
		return "", "", false
	}
	inClass := false
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '\n', '\r':
			return "", "", false
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '/':
			if inClass {
				continue
			}
			source, flags = s[1:i], s[i+1:]
			for j := 0; j < len(flags); j++ {
				c := flags[j]
				if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
					return "", "", false
				}
			}
			return source, flags, true
		}
	}
	return "", "", false
}

// literalSource escapes what a literal body cannot hold: '/' outside a class and line
// terminators, like RegExp.prototype.source does.
func literalSource(src string) string {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '\\' && i+1 < len(src):
			b.WriteByte(c)
			i++
			c = src[i]
			switch c {
			case '\n':
				b.WriteString("n")
			case '\r':
				b.WriteString("r")
			default:
				b.WriteByte(c)
			}
			continue
		case c == '[':
			inClass = true
		case c == ']':
			inClass = false
		case c == '/' && !inClass:
			b.WriteString(`\/`)
			continue
		case c == '\n':
			b.WriteString(`\n`)
			continue
		case c == '\r':
			b.WriteString(`\r`)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// jsSpace is the body of a class equal to JavaScript's \s (WhiteSpace and LineTerminator).
const jsSpace = `\t\n\v\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}`

// jsDot is JavaScript's '.' without the s flag: anything but a line terminator.
const jsDot = `[^\n\r\x{2028}\x{2029}]`

// translator converts a JavaScript RegExp body into RE2 syntax.
type translator struct {
	src     string // JavaScript source
	pattern string // as given, for errors
	f       jsFlags
	b       strings.Builder
}

// translateJS returns the Go expression for a JavaScript source and flags.
func translateJS(pattern, src string, f jsFlags) (string, *Error) {
	t := &translator{src: src, pattern: pattern, f: f}
	var prefix string
	if f.i || f.m || f.s {
		prefix = "(?"
		if f.i {
			prefix += "i"
		}
		if f.m {
			prefix += "m"
		}
		if f.s {
			prefix += "s"
		}
		prefix += ")"
	}
	t.b.WriteString(prefix)
	if err := t.run(); err != nil {
		return "", err
	}
	return t.b.String(), nil
}

func (t *translator) run() *Error {
	src := t.src
	quantified := false // the previous token was a quantifier
	for i := 0; i < len(src); {
		c := src[i]
		wasQuantified := quantified
		quantified = false
		switch c {
		case '\\':
			n, err := t.escape(i, false)
			if err != nil {
				return err
			}
			i = n
		case '[':
			n, err := t.class(i)
			if err != nil {
				return err
			}
			i = n
		case '(':
			if err := t.group(i); err != nil {
				return err
			}
			t.b.WriteByte(c)
			i++
			if i < len(src) && src[i] == '?' { // (?: (?<name> (?i) … are not quantifiers
				t.b.WriteByte('?')
				i++
			}
		case '.':
			if t.f.s {
				t.b.WriteByte('.')
			} else {
				t.b.WriteString(jsDot)
			}
			i++
		case '*', '+', '?':
			if wasQuantified && c == '+' {
				return unsupported(t.pattern, reasonPossessive)
			}
			t.b.WriteByte(c)
			i++
			// a '?' right after a quantifier makes it lazy; anything else after it is new.
			quantified = true
			if i < len(src) && src[i] == '?' {
				t.b.WriteByte('?')
				i++
			}
		case '{':
			if n, ok := quantifierEnd(src, i); ok {
				if wasQuantified {
					// "a*{2}" is an error in both dialects; let Go's parser word it.
					t.b.WriteString(src[i:n])
					i = n
					continue
				}
				t.b.WriteString(src[i:n])
				i = n
				quantified = true
				if i < len(src) && src[i] == '?' {
					t.b.WriteByte('?')
					i++
				}
				continue
			}
			t.b.WriteString(`\{`)
			i++
		case '}':
			t.b.WriteString(`\}`)
			i++
		case ']':
			t.b.WriteString(`\]`)
			i++
		default:
			t.b.WriteByte(c)
			i++
		}
	}
	return nil
}

// quantifierEnd reports whether src[i:] starts with {n}, {n,} or {n,m}, and where it ends.
func quantifierEnd(src string, i int) (int, bool) {
	j := i + 1
	start := j
	for j < len(src) && isDigit(src[j]) {
		j++
	}
	if j == start || j >= len(src) {
		return 0, false
	}
	if src[j] == '}' {
		return j + 1, true
	}
	if src[j] != ',' {
		return 0, false
	}
	j++
	for j < len(src) && isDigit(src[j]) {
		j++
	}
	if j < len(src) && src[j] == '}' {
		return j + 1, true
	}
	return 0, false
}

// group rejects the group forms RE2 lacks; src[i] is '('.
func (t *translator) group(i int) *Error {
	rest := t.src[i:]
	switch {
	case strings.HasPrefix(rest, "(?="), strings.HasPrefix(rest, "(?!"):
		return unsupported(t.pattern, reasonLookahead)
	case strings.HasPrefix(rest, "(?<="), strings.HasPrefix(rest, "(?<!"):
		return unsupported(t.pattern, reasonLookbehind)
	case strings.HasPrefix(rest, "(?>"):
		return unsupported(t.pattern, reasonAtomic)
	case strings.HasPrefix(rest, "(?("):
		return unsupported(t.pattern, reasonCondition)
	}
	return nil
}

// class translates a character class starting at src[i] == '['.
func (t *translator) class(i int) (int, *Error) {
	src := t.src
	switch {
	case strings.HasPrefix(src[i:], "[^]"): // JavaScript: any character
		t.b.WriteString(`[\x00-\x{10FFFF}]`)
		return i + 3, nil
	case strings.HasPrefix(src[i:], "[]"): // JavaScript: matches nothing
		t.b.WriteString(`[^\x00-\x{10FFFF}]`)
		return i + 2, nil
	}
	t.b.WriteByte('[')
	i++
	if i < len(src) && src[i] == '^' {
		t.b.WriteByte('^')
		i++
	}
	prevSet := false // the previous item was a class escape such as \d
	for i < len(src) {
		c := src[i]
		switch c {
		case ']':
			t.b.WriteByte(']')
			return i + 1, nil
		case '\\':
			set := i+1 < len(src) && strings.IndexByte("dDwWsS", src[i+1]) >= 0 ||
				t.f.u && i+1 < len(src) && (src[i+1] == 'p' || src[i+1] == 'P')
			n, err := t.escape(i, true)
			if err != nil {
				return 0, err
			}
			i = n
			prevSet = set
			continue
		case '[':
			// Literal in JavaScript; in Go it could open [:alpha:].
			t.b.WriteString(`\[`)
		case '-':
			// JavaScript (without u) reads '-' next to a class escape as a literal dash.
			nextSet := i+2 < len(src) && src[i+1] == '\\' && strings.IndexByte("dDwWsSpP", src[i+2]) >= 0
			if prevSet || nextSet {
				t.b.WriteString(`\-`)
			} else {
				t.b.WriteByte('-')
			}
		default:
			t.b.WriteByte(c)
		}
		prevSet = false
		i++
	}
	// Unterminated: Go's parser reports "missing closing ]".
	return i, nil
}

// escape translates the escape sequence at src[i] == '\\' and returns the index after it.
func (t *translator) escape(i int, inClass bool) (int, *Error) {
	src := t.src
	if i+1 >= len(src) {
		return 0, invalid(t.pattern, "trailing backslash")
	}
	c := src[i+1]
	next := i + 2
	switch c {
	case 'd', 'D', 'w', 'W', 't', 'n', 'r', 'f', 'v':
		t.b.WriteByte('\\')
		t.b.WriteByte(c)
	case 's':
		if inClass {
			t.b.WriteString(jsSpace)
		} else {
			t.b.WriteString("[" + jsSpace + "]")
		}
	case 'S':
		if inClass {
			t.b.WriteString(`\S`) // documented difference: Go's \S inside a class
		} else {
			t.b.WriteString("[^" + jsSpace + "]")
		}
	case 'b':
		if inClass {
			t.b.WriteString(`\x08`) // backspace
		} else {
			t.b.WriteString(`\b`)
		}
	case 'B':
		if inClass {
			t.b.WriteByte('B')
		} else {
			t.b.WriteString(`\B`)
		}
	case '0':
		t.b.WriteString(`\0`)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if !inClass {
			return 0, unsupported(t.pattern, reasonBackref)
		}
		if c >= '8' {
			t.b.WriteByte(c)
			break
		}
		// Legacy octal escape inside a class: up to three octal digits, at most \377.
		j := i + 1
		v := 0
		for j < len(src) && j < i+4 && '0' <= src[j] && src[j] <= '7' && v*8+int(src[j]-'0') <= 0377 {
			v = v*8 + int(src[j]-'0')
			j++
		}
		fmt.Fprintf(&t.b, `\x{%X}`, v)
		next = j
	case 'k':
		if next < len(src) && src[next] == '<' && !inClass {
			return 0, unsupported(t.pattern, reasonBackref)
		}
		t.b.WriteByte('k')
	case 'x':
		if next+2 <= len(src) && isHex(src[next]) && isHex(src[next+1]) {
			t.b.WriteString(`\x` + src[next:next+2])
			next += 2
		} else {
			t.b.WriteByte('x')
		}
	case 'u':
		r, n, ok := t.unicodeEscape(i)
		if !ok {
			t.b.WriteByte('u')
			break
		}
		fmt.Fprintf(&t.b, `\x{%X}`, r)
		next = n
	case 'c':
		if next < len(src) && isLetter(src[next]) {
			fmt.Fprintf(&t.b, `\x{%X}`, src[next]%32)
			next++
		} else {
			t.b.WriteString(`\\c`)
		}
	case 'p', 'P':
		if !t.f.u || next >= len(src) || src[next] != '{' {
			t.b.WriteByte(c)
			break
		}
		end := strings.IndexByte(src[next:], '}')
		if end < 0 {
			return 0, invalid(t.pattern, "missing } in \\"+string(c)+"{…}")
		}
		name := src[next+1 : next+end]
		goName, err := t.property(string(c), name)
		if err != nil {
			return 0, err
		}
		t.b.WriteString(`\` + string(c) + `{` + goName + `}`)
		next += end + 1
	case '/':
		t.b.WriteByte('/')
	default:
		if c < utf8.RuneSelf {
			if isLetter(c) || isDigit(c) {
				// Identity escape (JavaScript without u): \a is "a", \z is "z", \Q is "Q"…
				t.b.WriteByte(c)
			} else {
				t.b.WriteByte('\\')
				t.b.WriteByte(c)
			}
			break
		}
		// Identity escape of a non-ASCII character: the character itself.
		_, size := utf8.DecodeRuneInString(src[i+1:])
		t.b.WriteString(src[i+1 : i+1+size])
		next = i + 1 + size
	}
	return next, nil
}

// unicodeEscape decodes \uHHHH (joining a surrogate pair) or, with the u flag, \u{H…}.
func (t *translator) unicodeEscape(i int) (rune, int, bool) {
	src := t.src
	j := i + 2
	if t.f.u && j < len(src) && src[j] == '{' {
		end := strings.IndexByte(src[j:], '}')
		if end < 2 || end > 9 {
			return 0, 0, false
		}
		v, err := strconv.ParseUint(src[j+1:j+end], 16, 32)
		if err != nil || v > utf8.MaxRune {
			return 0, 0, false
		}
		return rune(v), j + end + 1, true
	}
	hi, ok := hex4(src, j)
	if !ok {
		return 0, 0, false
	}
	j += 4
	if 0xD800 <= hi && hi < 0xDC00 && strings.HasPrefix(src[j:], `\u`) {
		if lo, ok := hex4(src, j+2); ok && 0xDC00 <= lo && lo < 0xE000 {
			return (hi-0xD800)<<10 + (lo - 0xDC00) + 0x10000, j + 6, true
		}
	}
	return hi, j, true
}

func hex4(s string, j int) (rune, bool) {
	if j+4 > len(s) {
		return 0, false
	}
	var v rune
	for k := j; k < j+4; k++ {
		if !isHex(s[k]) {
			return 0, false
		}
		d, _ := strconv.ParseUint(s[k:k+1], 16, 8)
		v = v<<4 | rune(d)
	}
	return v, true
}

// generalCategories maps JavaScript's long General_Category names to Go's short ones.
var generalCategories = map[string]string{
	"Letter": "L", "Cased_Letter": "LC", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll",
	"Titlecase_Letter": "Lt", "Modifier_Letter": "Lm", "Other_Letter": "Lo",
	"Mark": "M", "Combining_Mark": "M", "Nonspacing_Mark": "Mn", "Spacing_Mark": "Mc", "Enclosing_Mark": "Me",
	"Number": "N", "Decimal_Number": "Nd", "digit": "Nd", "Letter_Number": "Nl", "Other_Number": "No",
	"Punctuation": "P", "punct": "P", "Connector_Punctuation": "Pc", "Dash_Punctuation": "Pd",
	"Open_Punctuation": "Ps", "Close_Punctuation": "Pe", "Initial_Punctuation": "Pi",
	"Final_Punctuation": "Pf", "Other_Punctuation": "Po",
	"Symbol": "S", "Math_Symbol": "Sm", "Currency_Symbol": "Sc", "Modifier_Symbol": "Sk", "Other_Symbol": "So",
	"Separator": "Z", "Space_Separator": "Zs", "Line_Separator": "Zl", "Paragraph_Separator": "Zp",
	"Other": "C", "Control": "Cc", "cntrl": "Cc", "Format": "Cf", "Surrogate": "Cs",
	"Private_Use": "Co", "Unassigned": "Cn",
}

// property maps a JavaScript Unicode property name (u flag) to a name Go's \p{…} knows.
func (t *translator) property(kind, name string) (string, *Error) {
	goName := name
	if k, v, ok := strings.Cut(name, "="); ok {
		switch k {
		case "General_Category", "gc", "Script", "sc":
			goName = v
		default: // Script_Extensions and others have no RE2 equivalent
			goName = ""
		}
	}
	if short, ok := generalCategories[goName]; ok {
		goName = short
	}
	if goName != "" {
		if _, err := syntax.Parse(`\p{`+goName+`}`, syntax.Perl); err == nil {
			return goName, nil
		}
	}
	return "", unsupported(t.pattern, "Unicode property \\"+kind+"{"+name+"} is not supported")
}

func isHex(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
