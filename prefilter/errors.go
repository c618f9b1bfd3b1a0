package prefilter

import (
	"errors"
	"regexp/syntax"
	"strings"
)

// Sentinel errors. Every error returned by the parsers is an [*Error] that matches
// ErrInvalid with [errors.Is]; errors about constructs RE2 cannot run also match
// ErrUnsupported.
var (
	// ErrInvalid matches every pattern that cannot be turned into a filter.
	ErrInvalid = errors.New("prefilter: invalid pattern")
	// ErrUnsupported matches patterns that use a construct RE2 lacks on purpose
	// (look-around, back-references, atomic groups, possessive quantifiers, …).
	ErrUnsupported = errors.New("prefilter: construct not supported by RE2")
)

// Error describes a rejected pattern. Its text names the problem and the pattern as given,
// e.g. "prefilter: look-ahead is not supported (RE2): /foo(?=bar)/".
type Error struct {
	// Pattern is the pattern as the caller gave it (a JavaScript literal or Go source).
	Pattern string
	// Reason says what is wrong, e.g. `unknown flag "x"`.
	Reason string
	// Unsupported is true when the construct is valid in JavaScript or PCRE but RE2 lacks it.
	Unsupported bool
	// Err is the underlying *syntax.Error from Go's regexp parser, if any.
	Err error
}

func (e *Error) Error() string { return "prefilter: " + e.Reason + ": " + e.Pattern }

// Unwrap returns the underlying regexp syntax error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalid, or ErrUnsupported for unsupported constructs.
func (e *Error) Is(target error) bool {
	return target == ErrInvalid || (e.Unsupported && target == ErrUnsupported)
}

func invalid(pattern, reason string) *Error { return &Error{Pattern: pattern, Reason: reason} }

func unsupported(pattern, what string) *Error {
	return &Error{Pattern: pattern, Reason: what + " (RE2)", Unsupported: true}
}

// Names of the constructs RE2 does not run, used in error reasons.
const (
	reasonLookahead  = "look-ahead is not supported"
	reasonLookbehind = "look-behind is not supported"
	reasonBackref    = "back-references are not supported"
	reasonAtomic     = "atomic groups are not supported"
	reasonPossessive = "possessive quantifiers are not supported"
	reasonCondition  = "conditional groups are not supported"
	reasonRecursion  = "recursion and subroutine calls are not supported"
)

// compileError turns a Go regexp compile error into an *Error with a reason that names the
// construct when RE2 lacks it on purpose.
func compileError(pattern string, err error) *Error {
	var se *syntax.Error
	if !errors.As(err, &se) {
		return &Error{Pattern: pattern, Reason: err.Error(), Err: err}
	}
	e := &Error{Pattern: pattern, Err: err, Reason: string(se.Code) + ": `" + se.Expr + "`"}
	switch se.Code {
	case syntax.ErrInvalidPerlOp, syntax.ErrInvalidNamedCapture:
		switch {
		case strings.HasPrefix(se.Expr, "(?="), strings.HasPrefix(se.Expr, "(?!"):
			e.Reason, e.Unsupported = reasonLookahead, true
		case strings.HasPrefix(se.Expr, "(?<="), strings.HasPrefix(se.Expr, "(?<!"):
			e.Reason, e.Unsupported = reasonLookbehind, true
		case strings.HasPrefix(se.Expr, "(?>"):
			e.Reason, e.Unsupported = reasonAtomic, true
		case strings.HasPrefix(se.Expr, "(?("):
			e.Reason, e.Unsupported = reasonCondition, true
		case strings.HasPrefix(se.Expr, "(?R"), strings.HasPrefix(se.Expr, "(?&"),
			strings.HasPrefix(se.Expr, "(?P>"), len(se.Expr) > 2 && isDigit(se.Expr[2]),
			strings.HasPrefix(se.Expr, "(?+"), strings.HasPrefix(se.Expr, "(?-") && len(se.Expr) > 3 && isDigit(se.Expr[3]):
			e.Reason, e.Unsupported = reasonRecursion, true
		}
	case syntax.ErrInvalidRepeatOp:
		// "*+", "++", "?+", "{2}+" are possessive quantifiers; "**" etc. stay plain errors.
		if len(se.Expr) >= 2 && se.Expr[len(se.Expr)-1] == '+' {
			e.Reason, e.Unsupported = reasonPossessive, true
		}
	case syntax.ErrInvalidEscape:
		if len(se.Expr) == 2 && (isDigit(se.Expr[1]) && se.Expr[1] != '0' || se.Expr[1] == 'k' || se.Expr[1] == 'g') {
			e.Reason, e.Unsupported = reasonBackref, true
		}
	}
	if e.Unsupported {
		e.Reason += " (RE2)"
	}
	return e
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
