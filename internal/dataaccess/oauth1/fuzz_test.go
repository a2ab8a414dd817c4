package oauth1

import (
	"maps"
	"testing"
)

// FuzzParseAuthorization checks that the header parser never panics and
// that whatever it accepts survives a FormatAuthorization round trip.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		`OAuth realm="Example", oauth_consumer_key="9djdj82h48djs9d2", oauth_token="kkk9d7dh3k39sjv7", oauth_signature_method="HMAC-SHA1", oauth_timestamp="137131201", oauth_nonce="7d8f3e4a", oauth_signature="bYT5CMsGcbgUdFHObYMEfcx6bsw%3D"`,
		`oauth a=b,c="d\"e"`,
		`OAuth ,,`,
		`OAuth a="%E2%9C%88"`,
		`Basic x`,
		`OAuth a="1", a="2"`,
		"OAuth a=\"\t\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		params, err := ParseAuthorization(header)
		if err != nil {
			return
		}
		again, err := ParseAuthorization(FormatAuthorization(params))
		if err != nil {
			t.Fatalf("formatted %q: %v", FormatAuthorization(params), err)
		}
		if !maps.Equal(params, again) {
			t.Fatalf("round trip: %v became %v", params, again)
		}
	})
}
