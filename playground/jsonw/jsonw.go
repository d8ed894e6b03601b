// Package jsonw appends JSON values to a byte slice, byte for byte as
// encoding/json writes them with SetEscapeHTML(false). It is for the few
// documents corslab encodes on every request (the exchange frame), where
// reflection and its allocations are most of the cost; everything else
// uses encoding/json.
package jsonw

import (
	"math"
	"math/bits"
	"strconv"
	"time"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// String appends s as a JSON string: `"` and `\` escaped, control
// characters as \n, \t… or \u00XX, invalid UTF-8 as \ufffd, and U+2028 and
// U+2029 as \u2028 and \u2029, as encoding/json does.
func String(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip plain bytes eight at a time: most of a raw HTTP head needs
		// no escaping.
		for i+8 <= len(s) {
			m := attention(load64(s, i))
			if m != 0 {
				i += bits.TrailingZeros64(m) / 8
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '"', '\\':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// attention marks, with the high bit of its byte, each of the eight bytes
// in w that needs a look: a control character, `"`, `\`, or a byte
// outside ASCII. Bytes after the first marked one may be marked wrongly;
// the first mark is exact.
func attention(w uint64) uint64 {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	zero := func(x uint64) uint64 { return (x - ones) & ^x & highs }
	control := (w - 0x20*ones) & ^w & highs // a byte below 0x20
	return control | zero(w^'"'*ones) | zero(w^'\\'*ones) | w&highs
}

// load64 reads the eight bytes of s from i as one little-endian word.
func load64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// Key appends a member name and its colon, after a comma unless it is
// the object's first: key must need no escaping.
func Key(dst []byte, key string) []byte {
	if n := len(dst); n > 0 && dst[n-1] != '{' && dst[n-1] != '[' {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, key...)
	return append(dst, '"', ':')
}

// Pairs appends a list of [name, value] pairs (header lists) as an array
// of two-string arrays, or null for a nil list.
func Pairs(dst []byte, pairs [][2]string) []byte {
	if pairs == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(String(append(dst, '['), p[0]), ',')
		dst = append(String(dst, p[1]), ']')
	}
	return append(dst, ']')
}

// Bool appends true or false.
func Bool(dst []byte, v bool) []byte { return strconv.AppendBool(dst, v) }

// Int appends an integer.
func Int(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

// Uint appends an unsigned integer.
func Uint(dst []byte, v uint64) []byte { return strconv.AppendUint(dst, v, 10) }

// Float appends a finite float64 as encoding/json does: the shortest
// decimal that reads back the same, with an exponent only for very small
// or very large numbers. NaN and ±Inf, which JSON cannot hold, become 0.
func Float(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, '0')
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	n := len(dst)
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if m := len(dst) - n; m >= 4 && dst[len(dst)-4] == 'e' && dst[len(dst)-3] == '-' && dst[len(dst)-2] == '0' {
			dst[len(dst)-2] = dst[len(dst)-1]
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// Time appends t as time.Time's MarshalJSON does: RFC 3339 with
// nanoseconds, in quotes. t's year must be within 0–9999.
func Time(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}
