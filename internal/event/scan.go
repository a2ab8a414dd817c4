package event

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// jsonType is the type of a JSON value, as far as its first bytes tell.
type jsonType uint8

const (
	typeNone jsonType = iota // no value: absent, or the document ended
	typeNull
	typeBool
	typeNumber
	typeString
	typeArray
	typeObject
)

// typeName names a JSON type for error messages.
func typeName(t jsonType) string {
	switch t {
	case typeNull:
		return "null"
	case typeBool:
		return "boolean"
	case typeNumber:
		return "number"
	case typeString:
		return "string"
	case typeArray:
		return "array"
	case typeObject:
		return "object"
	}
	return "nothing"
}

// scanner reads one JSON document value by value, in one pass and without
// building a tree: the validator checks and writes each value as the
// scanner reaches it. The first syntax error stops the scanner (err, and
// every later read returns a zero value at once).
//
// The scanner sets no limit on nesting: its callers recurse only as deep as
// what they check (schemas, MaxDataDepth) and skip the rest, which skip
// does without recursing, so a document nested as deeply as its size
// allows is read in bounded stack, and a value nested too deeply for its
// event rejects that event, not the document.
//
// Syntax follows RFC 8259, with two leniencies that turn what would be a
// syntax error into a rejected event, which is more useful to a tag's
// developer: number tokens are read loosely ("01", "+1", NaN, -inf) and
// checked where they are used (isJSONNumber), and a \u escape of a lone
// UTF-16 surrogate is kept as its six characters.
type scanner struct {
	s   string // the document
	i   int    // the position of the next byte to read
	err error  // the first syntax error

	// nest holds, while skip reads a value, the containers of it that are
	// open, a bit each (1 for an object), innermost last.
	nest []uint64

	// unescaped holds the contents of strings with escapes, appended one
	// after the other and never overwritten during one document, so that
	// every string the scanner returns stays valid until reset.
	unescaped []byte

	// echo, while on, has the scanner copy what it reads to out as
	// compact JSON: the document's bytes from mark on, except whitespace
	// between tokens, and strings with escapes or non-ASCII bytes, which
	// it writes as AppendJSONString does. Compact ASCII input is so copied
	// in one piece when echo stops.
	echo bool
	out  []byte
	mark int // the first byte of s not yet copied to out
	// replaced counts the invalid UTF-8 bytes echo wrote as U+FFFD.
	replaced int
}

// reset starts reading doc.
func (s *scanner) reset(doc string) {
	*s = scanner{s: doc, unescaped: s.unescaped[:0], nest: s.nest[:0]}
}

// startEcho starts copying what the scanner reads, from its position on, to
// dst.
func (s *scanner) startEcho(dst []byte) {
	s.echo, s.out, s.mark = true, dst, s.i
}

// stopEcho stops the copying and returns dst extended with what was read.
func (s *scanner) stopEcho() []byte {
	s.flush(s.i)
	s.echo = false
	return s.out
}

// flush copies the document up to at to out.
func (s *scanner) flush(at int) {
	s.out = append(s.out, s.s[s.mark:at]...)
	s.mark = at
}

// fail records a syntax error at offset at, unless one is recorded, and
// stops the scanner.
func (s *scanner) fail(what string, at int) {
	if s.err == nil {
		s.err = errorAt(what, at)
	}
	s.i = len(s.s)
}

// ws skips whitespace.
func (s *scanner) ws() {
	if s.i < len(s.s) && s.s[s.i] <= ' ' { // compact JSON: one comparison
		s.space()
	}
}

// space skips the whitespace at the scanner's position, which echo leaves
// out. It is kept out of line so that ws, on the path of every token,
// inlines.
//
//go:noinline
func (s *scanner) space() {
	if s.echo {
		s.flush(s.i)
	}
	for s.i < len(s.s) && (s.s[s.i] == ' ' || s.s[s.i] == '\t' || s.s[s.i] == '\n' || s.s[s.i] == '\r') {
		s.i++
	}
	s.mark = s.i
}

// end checks that nothing but whitespace follows the document's value.
func (s *scanner) end() {
	s.ws()
	if s.i < len(s.s) {
		s.fail("unexpected data after the document", s.i)
	}
}

// peek skips whitespace and returns the type of the next value, which it
// does not read. At the end of the document it records a syntax error and
// returns typeNone.
func (s *scanner) peek() jsonType {
	s.ws()
	if s.i >= len(s.s) {
		s.fail("unexpected end of document", s.i)
		return typeNone
	}
	t := firstByteType[s.s[s.i]]
	if t == typeNull {
		if rest := s.s[s.i:]; !strings.HasPrefix(rest, "null") && len(rest) >= 3 && strings.EqualFold(rest[:3], "nan") {
			return typeNumber
		}
	}
	return t
}

// firstByteType is the type of a value by its first byte: what is not a
// container, a string or a literal is read as a number (loosely, see
// scanner.number), and 'n' may also start NaN.
var firstByteType = func() (t [256]jsonType) {
	for c := range t {
		t[c] = typeNumber
	}
	t['{'], t['['], t['"'], t['t'], t['f'], t['n'] = typeObject, typeArray, typeString, typeBool, typeBool, typeNull
	return t
}()

// enter reads the open byte of a container, '{' or '['.
func (s *scanner) enter(open byte) bool {
	s.ws()
	if s.i >= len(s.s) || s.s[s.i] != open {
		s.fail("expected "+strconv.QuoteRune(rune(open)), s.i)
		return false
	}
	s.i++
	return true
}

// next moves to the next item of the container entered last, whose
// closing byte is end; *n counts the items read. It returns false, having
// read end, after the last item, or on a syntax error. For an object the
// caller then reads the key (key) and the value; for an array the value.
func (s *scanner) next(end byte, n *int) bool {
	s.ws()
	if s.i >= len(s.s) {
		s.fail("unexpected end of document", s.i)
		return false
	}
	switch c := s.s[s.i]; {
	case c == end:
		s.i++
		return false
	case *n == 0:
	case c == ',':
		s.i++
	default:
		s.fail("expected ',' or "+strconv.QuoteRune(rune(end)), s.i)
		return false
	}
	*n++
	return true
}

// key reads an object key and the colon after it.
func (s *scanner) key() string {
	s.ws()
	if s.i >= len(s.s) || s.s[s.i] != '"' {
		s.fail("expected a string key", s.i)
		return ""
	}
	k := s.str()
	s.ws()
	if s.i >= len(s.s) || s.s[s.i] != ':' {
		s.fail("expected ':'", s.i)
		return ""
	}
	s.i++
	return k
}

// keyText is an object key as compact JSON writes it, with its colon:
// "name":. Its first 16 bytes are also kept as two words, which knownKey
// compares with the document's in two loads.
type keyText struct {
	name    string
	text    string
	word    [2]uint64 // the first 16 bytes of text, zero-padded
	mask    [2]uint64 // 0xff where word has a byte of text
	inWords bool      // text fits in 16 bytes
}

// newKeyText returns the keyText of the key name.
func newKeyText(name string) keyText {
	k := keyText{name: name, text: string(append(AppendJSONString(nil, name), ':'))}
	k.inWords = len(k.text) <= 16
	var padded, mask [16]byte
	for i := range min(len(k.text), 16) {
		padded[i], mask[i] = k.text[i], 0xff
	}
	for w := range 2 {
		k.word[w] = load64(string(padded[:]), 8*w)
		k.mask[w] = load64(string(mask[:]), 8*w)
	}
	return k
}

// knownKey reads an object key and its colon when they are, exactly, k,
// and reports whether it did.
func (s *scanner) knownKey(k *keyText) bool {
	s.ws()
	if k.inWords && s.i+16 <= len(s.s) {
		if load64(s.s, s.i)&k.mask[0] != k.word[0] || load64(s.s, s.i+8)&k.mask[1] != k.word[1] {
			return false
		}
	} else if !strings.HasPrefix(s.s[s.i:], k.text) {
		return false
	}
	s.i += len(k.text)
	return true
}

// str reads a string, the scanner being at its opening quote, and returns
// its content: a view of the document, or of s.unescaped when the string
// has escapes.
func (s *scanner) str() string {
	start := s.i + 1
	i := start
	var high uint64 // the high bits of the bytes looked at (and some after)
	for {
		for i+8 <= len(s.s) { // eight bytes at a time to the first that needs a look
			x := load64(s.s, i)
			high |= x
			if mask := jsonSpecial(x); mask != 0 {
				i += firstByte(mask)
				break
			}
			i += 8
		}
		if i >= len(s.s) {
			s.fail("unterminated string", start-1)
			return ""
		}
		switch c := s.s[i]; {
		case c == '"':
			s.i = i + 1
			if high&msb != 0 && s.echo {
				s.rewrite(start-1, s.s[start:i])
			}
			return s.s[start:i]
		case c == '\\':
			return s.unescape(start, i)
		case c < ' ':
			s.fail("control character in string", i)
			return ""
		default:
			high |= uint64(c) << 56
			i++
		}
	}
}

// rewrite echoes the string just read, whose opening quote is at open and
// whose content is content, as AppendJSONString writes it: the one form of
// each string, whatever escapes the document used.
func (s *scanner) rewrite(open int, content string) {
	s.flush(open)
	var replaced int
	s.out, replaced = appendJSONString(s.out, content)
	s.replaced += replaced
	s.mark = s.i
}

// unescape reads the rest of a string with escapes, whose content starts
// at start and has its first backslash at i.
func (s *scanner) unescape(start, i int) string {
	from := len(s.unescaped)
	b := append(s.unescaped, s.s[start:i]...)
	for {
		c := s.s[i]
		switch {
		case c == '"':
			s.unescaped = b
			s.i = i + 1
			if s.echo {
				s.rewrite(start-1, bytesString(b[from:]))
			}
			return bytesString(b[from:])
		case c < ' ':
			s.fail("control character in string", i)
			return ""
		case c != '\\':
			b = append(b, c)
			i++
		default:
			n := escapeLen(s.s[i:])
			if n == 0 {
				s.fail("malformed escape", i)
				return ""
			}
			if n == 2 {
				b = append(b, unescapeByte[s.s[i+1]])
			} else {
				var skip int
				b, skip = appendUnicodeEscape(b, s.s[i:])
				n += skip
			}
			i += n
		}
		if i >= len(s.s) {
			s.fail("unterminated string", start-1)
			return ""
		}
	}
}

// unescapeByte maps the character after a backslash to what it stands for.
var unescapeByte = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

// appendUnicodeEscape appends what the \uXXXX escape at the start of e
// stands for. A surrogate pair, the high one's escape directly followed by
// the low one's, is one character, and skip is 6, the length of the second
// escape; a surrogate that is not part of a pair is kept as its six
// characters, so that nothing is lost. A high surrogate followed by an
// escape that is not a low one becomes U+FFFD.
func appendUnicodeEscape(b []byte, e string) (out []byte, skip int) {
	r := rune(hexValue(e[2:6]))
	if !utf16.IsSurrogate(r) {
		return utf8.AppendRune(b, r), 0
	}
	if len(e) < 12 || e[6] != '\\' || e[7] != 'u' || escapeLen(e[6:]) != 6 {
		return append(b, e[:6]...), 0
	}
	return utf8.AppendRune(b, utf16.DecodeRune(r, rune(hexValue(e[8:12])))), 6
}

// hexValue returns the value of four hexadecimal digits.
func hexValue(h string) uint16 {
	var v uint16
	for i := 0; i < 4; i++ {
		c := h[i]
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		v = v<<4 | uint16(c)
	}
	return v
}

// number reads a number token: a run of the characters numbers are made
// of, or inf or nan (any case, signed), which the caller checks with
// isJSONNumber, unless it is plain: an integer in at most 15 digits without
// leading zeros, a valid JSON number whose value is n.
func (s *scanner) number() (text string, n int64, plain bool) {
	start := s.i
	i := start
	if i < len(s.s) && s.s[i] == '-' {
		i++
	}
	digits := i
	n, i = leadingDigits(s.s, digits, 16) // 16 tell that there are more than 15
	if k := i - digits; k > 0 && k <= 15 && (k == 1 || s.s[digits] != '0') && (i == len(s.s) || !isNumberByte(s.s[i])) {
		s.i = i
		if digits > start {
			n = -n
		}
		return s.s[start:i], n, true
	}
	i = start
	for i < len(s.s) && isNumberByte(s.s[i]) {
		i++
	}
	signOnly := i == start+1 && (s.s[start] == '-' || s.s[start] == '+')
	if i < len(s.s) && (i == start || signOnly) {
		rest := s.s[i:]
		if len(rest) < 3 || !strings.EqualFold(rest[:3], "inf") && !strings.EqualFold(rest[:3], "nan") {
			s.fail("unexpected character "+strconv.QuoteRune(rune(s.s[i])), i)
			return "", 0, false
		}
		i += 3
	}
	s.i = i
	return s.s[start:i], 0, false
}

// isNumberByte reports whether c may be part of a number token.
func isNumberByte(c byte) bool {
	return isDigit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E'
}

// literal reads true, false or null and returns it.
func (s *scanner) literal() string {
	for _, lit := range [...]string{"true", "false", "null"} {
		if strings.HasPrefix(s.s[s.i:], lit) {
			s.i += len(lit)
			return lit
		}
	}
	s.fail("invalid literal", s.i)
	return ""
}

// skip reads the next value, whatever it is, checking only its syntax. It
// does not recurse: the containers open inside the value are bits of
// s.nest, so that skipping a value nested d deep takes constant stack and
// d/8 bytes, whatever d.
func (s *scanner) skip() {
	nest := s.nest[:0]
	depth := 0 // containers open
	n := 0     // items read of the innermost one
	for {
		switch t := s.peek(); t {
		case typeObject, typeArray:
			open := byte('[')
			if t == typeObject {
				open = '{'
			}
			if !s.enter(open) {
				break
			}
			if depth%64 == 0 {
				nest = append(nest, 0)
			}
			if t == typeObject {
				nest[depth/64] |= 1 << (depth % 64)
			} else {
				nest[depth/64] &^= 1 << (depth % 64)
			}
			depth++
			n = 0
		case typeString:
			s.str()
		case typeNumber:
			s.number()
		case typeBool, typeNull:
			s.literal()
		}
		// A value has been read: move to the next item of the innermost
		// open container, closing those that end.
		for {
			if depth == 0 || s.err != nil {
				s.nest = nest
				return
			}
			object := nest[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			end := byte(']')
			if object {
				end = '}'
			}
			if s.next(end, &n) {
				if object {
					s.key()
				}
				break
			}
			depth--
			n = 1 // the container just closed was an item of its parent
		}
	}
}

// scalar is a value as read by scanner.scalar: its type and, for a string,
// its content, for a number, its text.
type scalar struct {
	t    jsonType
	text string
}

// scalar reads the next value, keeping its text when it is a string or a
// number (containers are skipped).
func (s *scanner) scalar() scalar {
	v := scalar{t: s.peek()}
	switch v.t {
	case typeString:
		v.text = s.str()
	case typeNumber:
		v.text, _, _ = s.number()
	default:
		s.skip()
	}
	return v
}

// lookup returns the first property named key of the object at the
// scanner's position, without moving the scanner: its type (typeNone when
// the object has no such property) and, for a string, its content, valid
// until the scanner reads its next string.
func (s *scanner) lookup(key string) scalar {
	ahead := *s
	ahead.err, ahead.echo = nil, false
	if !ahead.enter('{') {
		return scalar{}
	}
	for n := 0; ahead.next('}', &n); {
		if ahead.key() == key && ahead.err == nil {
			return ahead.scalar()
		}
		ahead.skip()
	}
	return scalar{}
}
