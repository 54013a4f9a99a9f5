package npy

import (
	"unicode/utf8"
)

// integer parses a decimal int with an optional minus sign (so that a
// negative dimension gets a clear error later) and an optional 'L'
// suffix, which Python 2 wrote for longs and NumPy still accepts.
func (p *parser) integer() (value, error) {
	v := value{kind: kindInt}
	neg := p.consume('-')
	start := p.pos
	n := 0
	for p.pos < len(p.s) && isDigit(p.s[p.pos]) {
		d := int(p.s[p.pos] - '0')
		if n > (maxDim-d)/10 {
			p.pos = start
			return value{}, p.errorf("integer too large (more than %d)", uint64(maxDim))
		}
		n = n*10 + d
		p.pos++
	}
	switch {
	case p.pos == start:
		return value{}, p.errorf("expected a digit after '-', found %s", p.describe())
	case p.s[start] == '0' && p.pos-start > 1:
		// Python 3 rejects leading zeros, which once meant octal.
		p.pos = start
		return value{}, p.errorf("integer with leading zero")
	}
	p.consume('L')
	v.int = n
	if neg {
		v.int = -n
	}
	return v, nil
}

// str parses a single- or double-quoted string with Python's simple
// backslash escapes. Prefixes, triple quotes, octal and \N{...} escapes
// are not supported: repr never writes them.
func (p *parser) str() (value, error) {
	v := value{kind: kindString}
	open, q := p.pos, p.s[p.pos]
	p.pos++
	var b []byte
	for {
		start := p.pos
		for p.pos < len(p.s) && !isSpecial(p.s[p.pos], q) {
			p.pos++
		}
		b = append(b, p.s[start:p.pos]...)
		switch {
		case p.pos >= len(p.s):
			p.pos = open
			return value{}, p.errorf("unterminated string")
		case p.s[p.pos] == q:
			p.pos++
			v.str = string(b)
			return v, nil
		case p.s[p.pos] != '\\':
			return value{}, p.errorf("%s in string", p.describe())
		}
		var err error
		if b, err = p.escape(b); err != nil {
			return value{}, err
		}
	}
}

// isSpecial reports whether c ends a run of plain string bytes: the
// closing quote, a backslash, or a byte Python forbids in a one-line
// string literal.
func isSpecial(c, q byte) bool {
	return c == q || c == '\\' || c == '\n' || c == '\r' || c == 0
}

var simpleEscapes = map[byte]byte{
	'\\': '\\', '\'': '\'', '"': '"', 'a': '\a', 'b': '\b',
	'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
}

// escape decodes the backslash escape at p.pos and appends it to b.
func (p *parser) escape(b []byte) ([]byte, error) {
	start := p.pos
	p.pos++ // the backslash
	if p.pos >= len(p.s) {
		return nil, p.errorf("unterminated string")
	}
	c := p.s[p.pos]
	p.pos++
	if r, ok := simpleEscapes[c]; ok {
		return append(b, r), nil
	}
	width := escapeWidth(c)
	if width == 0 {
		p.pos = start
		return nil, p.errorf("unsupported escape \\%c in string", c)
	}
	if p.pos+width > len(p.s) {
		p.pos = start
		return nil, p.errorf("unterminated string")
	}
	r := rune(0)
	for _, h := range []byte(p.s[p.pos : p.pos+width]) {
		d := unhex(h)
		if d < 0 {
			p.pos = start
			return nil, p.errorf("bad \\%c escape in string", c)
		}
		r = r<<4 | rune(d)
	}
	p.pos += width
	// Go strings cannot hold Python's lone surrogates.
	if !utf8.ValidRune(r) {
		p.pos = start
		return nil, p.errorf("escape of invalid code point U+%04X", r)
	}
	return utf8.AppendRune(b, r), nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c|0x20 && c|0x20 <= 'f':
		return int(c|0x20-'a') + 10
	}
	return -1
}

// escapeWidth returns the number of hex digits after \x, \u or \U, and 0
// for any other escape.
func escapeWidth(c byte) int {
	switch c {
	case 'x':
		return 2
	case 'u':
		return 4
	case 'U':
		return 8
	}
	return 0
}
