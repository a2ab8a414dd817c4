package event

// idChars are the characters of visitor, visit and event ids and of the
// engagement documents' ALPHA_NUMERIC strings: [A-Za-z0-9_.:-].
var idChars = charSet("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-")

// chatNameChars are the characters of custom chat event names: [a-z0-9_].
var chatNameChars = charSet("abcdefghijklmnopqrstuvwxyz0123456789_")

// Length limits of identifiers.
const (
	maxVisitIDLen = 128 // visitorId and visitId
	maxIDLen      = 64  // event ids and ALPHA_NUMERIC strings
	maxChatName   = 64  // custom chat event names
)

// asciiSet is a set of ASCII characters.
type asciiSet [256]bool

func charSet(chars string) *asciiSet {
	var s asciiSet
	for i := 0; i < len(chars); i++ {
		s[chars[i]] = true
	}
	return &s
}

// matches reports whether s is 1 to max characters, all in set.
func (set *asciiSet) matches(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !set[s[i]] {
			return false
		}
	}
	return true
}
