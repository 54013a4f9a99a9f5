package npy

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// appendQuoted appends s as a Python string literal. It follows Python's
// repr (single quotes unless s holds a single quote and no double quote)
// so that headers look like NumPy's, and escapes every non-printable rune
// so that the literal survives both Python's parser and ours unchanged.
func appendQuoted(b []byte, s string) []byte {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	b = append(b, q)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Only Literal can get here: Encode rejects invalid UTF-8.
			b = appendEscape(b, 'x', rune(s[i]), 2)
		} else {
			b = appendRune(b, r, q)
		}
		i += size
	}
	return append(b, q)
}

func appendRune(b []byte, r rune, q byte) []byte {
	switch {
	case r == rune(q) || r == '\\':
		return append(b, '\\', byte(r))
	case r == '\t':
		return append(b, `\t`...)
	case r == '\n':
		return append(b, `\n`...)
	case r == '\r':
		return append(b, `\r`...)
	case r < 0x7f && r >= ' ':
		return append(b, byte(r))
	case strconv.IsPrint(r):
		return utf8.AppendRune(b, r)
	case r < 0x100:
		return appendEscape(b, 'x', r, 2)
	case r < 0x10000:
		return appendEscape(b, 'u', r, 4)
	}
	return appendEscape(b, 'U', r, 8)
}

func appendEscape(b []byte, kind byte, r rune, width int) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '\\', kind)
	for shift := 4 * (width - 1); shift >= 0; shift -= 4 {
		b = append(b, hex[(r>>shift)&0xf])
	}
	return b
}

// quoteShort quotes untrusted text for an error message, truncated so
// that a hostile header cannot produce a megabyte-long error.
func quoteShort(s string) string {
	const limit = 40
	if len(s) > limit {
		i := limit
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		return string(appendQuoted(nil, s[:i])) + "..."
	}
	return string(appendQuoted(nil, s))
}
