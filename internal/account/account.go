// Package account holds the accounts a Sightline server serves: their IDs and
// the page origins whose browsers may send events for them.
//
// Accounts live as one JSON file each in a directory of the data directory,
// so that the `sightline accounts` commands can change them while a server
// runs; the server's Store picks changes up without a restart.
package account

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/sightline/sightline/internal/websession"
)

// MaxIDLen is the longest account ID.
const MaxIDLen = 32

// AnyOrigin in an account's origins allows every origin.
const AnyOrigin = "*"

// Account is one brand's account.
type Account struct {
	ID string `json:"id"`
	// Origins lists the page origins (scheme://host[:port]) whose browsers
	// may send events; AnyOrigin allows all. Requests without an Origin
	// header (from servers) are always allowed.
	Origins []string  `json:"origins"`
	Created time.Time `json:"created"`
	// AdminTokenHash is the SHA-256, in hex, of the account's admin API
	// token (see NewAdminToken); empty when it has none.
	AdminTokenHash string `json:"adminTokenHash,omitempty"`
	// DocumentShape is how the account's web-session documents are
	// written and served: plain (the default) as the Data Access API's
	// example shows them, or wrapped as the live service writes them.
	DocumentShape websession.Shape `json:"documentShape,omitzero"`
	// VisitorAuth verifies the JWTs of authenticated visitors (package
	// identity); nil when the account has none.
	VisitorAuth *VisitorAuth `json:"visitorAuth,omitempty"`
}

// VisitorAuth is how an account's authenticated visitors prove who they
// are: a JWT the brand signs (RS256) with one of Keys, issued by Issuer.
type VisitorAuth struct {
	Issuer string `json:"issuer"`
	// Keys is the brand's public keys as a JSON Web Key Set (RFC 7517).
	Keys json.RawMessage `json:"keys"`
}

// ErrExists is returned when adding an account whose ID is taken.
var ErrExists = errors.New("account exists")

// ValidateID checks an account ID: 1-32 letters, digits, '_' or '-'.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("account id: required")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("account id: %d characters, limit %d", len(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return fmt.Errorf("account id %q: character %q not allowed (letters, digits, '_' and '-' only)", id, id[i])
		}
	}
	return nil
}

func idChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// NormalizeOrigin checks an origin as a user gives it ("https://Shop.example",
// "http://localhost:8080/") and returns it as browsers send it in the Origin
// header: lowercase scheme and host, no path, no default port.
func NormalizeOrigin(s string) (string, error) {
	if s == AnyOrigin {
		return s, nil
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("origin %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("origin %q: scheme must be http or https", s)
	}
	if u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("origin %q: must be scheme://host[:port] only", s)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", fmt.Errorf("origin %q: no host", s)
	}
	port := u.Port()
	if port == "80" && u.Scheme == "http" || port == "443" && u.Scheme == "https" {
		port = ""
	}
	o := u.Scheme + "://" + host
	if strings.Contains(host, ":") {
		o = u.Scheme + "://[" + host + "]"
	}
	if port != "" {
		o += ":" + port
	}
	return o, nil
}

// AllowsOrigin reports whether a browser at origin (the Origin header, as
// sent) may send events for the account.
func (a *Account) AllowsOrigin(origin string) bool {
	for _, o := range a.Origins {
		if o == AnyOrigin || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}
