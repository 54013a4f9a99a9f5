package npy

import (
	"fmt"
	"unicode/utf8"
)

// kind is the Python type of a parsed literal.
type kind int

const (
	kindString kind = iota
	kindInt
	kindBool
	kindList
	kindTuple
	kindDict
)

// kindNames include the article, for error messages.
var kindNames = [...]string{"a string", "an int", "a bool", "a list", "a tuple", "a dict"}

func (k kind) String() string { return kindNames[k] }

// value is a parsed Python literal.
type value struct {
	kind  kind
	str   string
	int   int // may be negative, so that shape checks can say so
	bool  bool
	items []value // list and tuple elements; dict keys and values alternate
}

// parser parses the subset of Python literal syntax that .npy headers use:
// dicts, lists, tuples, strings, True, False and decimal ints.
type parser struct {
	s     string
	pos   int
	depth int
}

// parseLiteral parses s, which must hold exactly one literal, optionally
// surrounded by whitespace.
func parseLiteral(s string) (value, error) {
	p := &parser{s: s}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return value{}, err
	}
	p.skipSpace()
	if p.pos < len(p.s) {
		return value{}, p.errorf("unexpected %s after the literal", p.describe())
	}
	return v, nil
}

// errorf reports a syntax error at the current offset in the dict text.
func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("npy: header: offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// describe names the byte at p.pos for an error message.
func (p *parser) describe() string {
	if p.pos >= len(p.s) {
		return "end of header"
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return fmt.Sprintf("%q", r)
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

func (p *parser) value() (value, error) {
	if p.pos >= len(p.s) {
		return value{}, p.errorf("unexpected end of header")
	}
	switch c := p.s[p.pos]; {
	case c == '{':
		return p.container(kindDict, '}')
	case c == '[':
		return p.container(kindList, ']')
	case c == '(':
		return p.container(kindTuple, ')')
	case c == '\'' || c == '"':
		return p.str()
	case c == '-' || isDigit(c):
		return p.integer()
	case c == '_' || isLetter(c):
		return p.name()
	}
	return value{}, p.errorf("unexpected %s", p.describe())
}

// container parses a dict, list or tuple (or a parenthesized value, which
// Python does not treat as a tuple), whose opening bracket is at p.pos.
func (p *parser) container(k kind, end byte) (value, error) {
	v := value{kind: k}
	if p.depth++; p.depth > maxDepth {
		return value{}, p.errorf("nested more than %d levels deep", maxDepth)
	}
	defer func() { p.depth-- }()
	p.pos++
	for {
		p.skipSpace()
		if p.consume(end) {
			return v, nil
		}
		if err := p.element(&v); err != nil {
			return value{}, err
		}
		p.skipSpace()
		if p.consume(end) {
			if k == kindTuple && len(v.items) == 1 {
				return v.items[0], nil // (x) is just x
			}
			return v, nil
		}
		if !p.consume(',') {
			return value{}, p.errorf("expected ',' or '%c', found %s", end, p.describe())
		}
	}
}

// element parses one list or tuple element, or one key: value dict entry,
// and appends it to v.
func (p *parser) element(v *value) error {
	x, err := p.value()
	if err != nil {
		return err
	}
	v.items = append(v.items, x)
	if v.kind != kindDict {
		return nil
	}
	p.skipSpace()
	if !p.consume(':') {
		return p.errorf("expected ':', found %s", p.describe())
	}
	p.skipSpace()
	if x, err = p.value(); err != nil {
		return err
	}
	v.items = append(v.items, x)
	return nil
}

func (p *parser) consume(c byte) bool {
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

// name parses True or False, the only names a header may contain.
func (p *parser) name() (value, error) {
	start := p.pos
	for p.pos < len(p.s) && (p.s[p.pos] == '_' || isLetter(p.s[p.pos]) || isDigit(p.s[p.pos])) {
		p.pos++
	}
	switch name := p.s[start:p.pos]; name {
	case "True", "False":
		return value{kind: kindBool, bool: name == "True"}, nil
	default:
		p.pos = start
		return value{}, p.errorf("unexpected name %s", quoteShort(name))
	}
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// isSpace reports whether c is white space between tokens, as Python's
// tokenizer sees it in a header.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}
