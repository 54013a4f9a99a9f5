package npy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Read reads exactly one header from r, from the magic through the end of
// the padded dict and nothing more, and returns it with its total length
// in bytes, which is the offset of the array data.
//
// Errors start with "npy: " and wrap io.ErrUnexpectedEOF when r ends
// before the header does. Dicts longer than MaxHeaderLen are refused
// before anything is allocated for them.
func Read(r io.Reader) (Header, int, error) {
	var pre [12]byte
	if err := readFull(r, pre[:8], "magic"); err != nil {
		return Header{}, 0, err
	}
	if string(pre[:6]) != magic {
		return Header{}, 0, errors.New("npy: bad magic")
	}
	major, minor := pre[6], pre[7]
	if major < 1 || major > 3 || minor != 0 {
		return Header{}, 0, fmt.Errorf("npy: unsupported version %d.%d", major, minor)
	}
	prefix := 12
	if major == 1 {
		prefix = 10
	}
	if err := readFull(r, pre[8:prefix], "header length"); err != nil {
		return Header{}, 0, err
	}
	n := uint64(binary.LittleEndian.Uint32(pre[8:12]))
	if major == 1 {
		n = uint64(binary.LittleEndian.Uint16(pre[8:10]))
	}
	if n > MaxHeaderLen {
		return Header{}, 0, fmt.Errorf("npy: header length %d exceeds %d", n, MaxHeaderLen)
	}
	buf := make([]byte, n)
	if err := readFull(r, buf, "header"); err != nil {
		return Header{}, 0, err
	}
	h, err := parseHeader(buf, major)
	if err != nil {
		return Header{}, 0, err
	}
	return h, prefix + int(n), nil
}

// readFull is io.ReadFull, except that a reader ending before the header
// does is always io.ErrUnexpectedEOF: an empty reader is not a valid .npy
// file either.
func readFull(r io.Reader, b []byte, what string) error {
	_, err := io.ReadFull(r, b)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return fmt.Errorf("npy: reading %s: %w", what, err)
	}
	return nil
}

// parseHeader decodes the dict text, latin-1 before version 3.0 and UTF-8
// from then on, and parses it.
func parseHeader(b []byte, major byte) (Header, error) {
	// Headers are padded with spaces, often to a whole page: trailing
	// white space means nothing to the parser, so do not decode it.
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	var text string
	if major < 3 {
		text = fromLatin1(b)
	} else if utf8.Valid(b) {
		text = string(b)
	} else {
		return Header{}, errors.New("npy: header: version 3.0 header is not valid UTF-8")
	}
	v, err := parseLiteral(text)
	if err != nil {
		return Header{}, err
	}
	return decodeHeader(v)
}

func fromLatin1(b []byte) string {
	if ascii(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
