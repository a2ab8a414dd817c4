package enrich

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
)

// searchEnginesJSON is the search engine table; the package doc describes
// its format.
//
//go:embed searchengines.json
var searchEnginesJSON []byte

// engineFile is the shape of searchengines.json.
type engineFile struct {
	CountrySecondLevel []string `json:"countrySecondLevel"`
	Engines            []struct {
		Name   string   `json:"name"`
		Hosts  []string `json:"hosts"`
		Params []string `json:"params"`
	} `json:"engines"`
}

// tldSuffix is the placeholder a host pattern ends with to mean any
// country or generic top-level suffix.
const tldSuffix = ".{tld}"

// searchEngine is one engine of the table.
type searchEngine struct {
	name   string
	params []string
}

// engineTable finds the engine of a referrer's host.
type engineTable struct {
	exact              map[string]*searchEngine // host, or base+".{tld}"
	wildcard           map[string]*searchEngine // the domain under "*."
	countrySecondLevel map[string]bool
	names              []string
}

// engines is the table from searchengines.json, parsed on first use.
var engines = sync.OnceValues(func() (*engineTable, error) {
	return parseEngineTable(searchEnginesJSON)
})

// parseEngineTable parses and checks an engine table in the format of
// searchengines.json.
func parseEngineTable(data []byte) (*engineTable, error) {
	var f engineFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("cannot parse search engine table: %w", err)
	}
	t := &engineTable{
		exact:              make(map[string]*searchEngine),
		wildcard:           make(map[string]*searchEngine),
		countrySecondLevel: make(map[string]bool),
	}
	for _, l := range f.CountrySecondLevel {
		if !isHostLabel(l) {
			return nil, fmt.Errorf("search engine table: bad second-level label %q", l)
		}
		t.countrySecondLevel[l] = true
	}
	seen := make(map[string]bool)
	for _, e := range f.Engines {
		if e.Name == "" || seen[e.Name] {
			return nil, fmt.Errorf("search engine table: engine name %q empty or repeated", e.Name)
		}
		seen[e.Name] = true
		if len(e.Hosts) == 0 || len(e.Params) == 0 {
			return nil, fmt.Errorf("search engine table: %s has no hosts or no params", e.Name)
		}
		for _, p := range e.Params {
			if p == "" {
				return nil, fmt.Errorf("search engine table: %s has an empty param", e.Name)
			}
		}
		se := &searchEngine{name: e.Name, params: e.Params}
		for _, h := range e.Hosts {
			m, key, err := t.patternKey(h)
			if err != nil {
				return nil, fmt.Errorf("search engine table: %s: %w", e.Name, err)
			}
			if m[key] != nil {
				return nil, fmt.Errorf("search engine table: %s: host %q already belongs to %s", e.Name, h, m[key].name)
			}
			m[key] = se
		}
		t.names = append(t.names, e.Name)
	}
	return t, nil
}

// patternKey checks a host pattern and returns the map it goes in and its
// key there.
func (t *engineTable) patternKey(pattern string) (map[string]*searchEngine, string, error) {
	m, rest := t.exact, pattern
	if r, ok := strings.CutPrefix(rest, "*."); ok {
		m, rest = t.wildcard, r
	}
	domain := strings.TrimSuffix(rest, tldSuffix)
	if strings.HasPrefix(domain, "www.") {
		return nil, "", fmt.Errorf("host pattern %q: leave out www., it is dropped from every host", pattern)
	}
	for l := range strings.SplitSeq(domain, ".") {
		if !isHostLabel(l) {
			return nil, "", fmt.Errorf("host pattern %q: bad label %q", pattern, l)
		}
	}
	return m, rest, nil
}

// isHostLabel reports whether l is a lowercase DNS label.
func isHostLabel(l string) bool {
	if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}

// lookup returns the engine of host (lowercase, without port), or nil.
func (t *engineTable) lookup(host string) *searchEngine {
	host = strings.TrimPrefix(strings.TrimSuffix(host, "."), "www.")
	if e := t.lookupDomain(host, ""); e != nil {
		return e
	}
	// host split as base + suffix, where the suffix is a top-level label
	// ("com", "de") or a country's second level ("co.uk", "com.br").
	i := strings.LastIndexByte(host, '.')
	if i <= 0 {
		return nil
	}
	if e := t.lookupDomain(host[:i], tldSuffix); e != nil {
		return e
	}
	j := strings.LastIndexByte(host[:i], '.')
	if j <= 0 || len(host)-i-1 != 2 || !t.countrySecondLevel[host[j+1:i]] {
		return nil
	}
	return t.lookupDomain(host[:j], tldSuffix)
}

// lookupDomain looks domain+suffix up as an exact host, then under the
// wildcards of its parent domains, nearest first.
func (t *engineTable) lookupDomain(domain, suffix string) *searchEngine {
	if e := t.exact[domain+suffix]; e != nil {
		return e
	}
	for {
		i := strings.IndexByte(domain, '.')
		if i < 0 {
			return nil
		}
		domain = domain[i+1:]
		if e := t.wildcard[domain+suffix]; e != nil {
			return e
		}
	}
}

// ParseSearch reports the search engine a referrer is a page of and the
// keywords it carries, from the table in searchengines.json.
//
// The referrer must be an absolute http, https or android-app URL (Google's
// app sends android-app://com.google.android.googlequicksearchbox/). Its
// host, less a leading "www.", is matched against the table. The keywords
// are the first non-empty of the engine's parameters in the query (or, if
// none is there, in the fragment, where Google once put them), decoded
// ('+' is a space), trimmed of surrounding space, with invalid UTF-8
// replaced by U+FFFD; a value that is an http(s) URL is a redirect's target
// (google.com/url?q=https://...), not keywords, and is skipped. A known engine's page without keywords (Google's
// referrer today is just https://www.google.com/) gives the Engine with
// empty Keywords; anything else gives the zero Search.
func ParseSearch(referrer string) Search {
	t, err := engines()
	if err != nil {
		return Search{}
	}
	return t.parse(referrer)
}

func (t *engineTable) parse(referrer string) Search {
	u, err := url.Parse(referrer)
	if err != nil || u.Host == "" {
		return Search{}
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "android-app":
	default:
		return Search{}
	}
	e := t.lookup(strings.ToLower(u.Hostname()))
	if e == nil {
		return Search{}
	}
	kw := keywords(u.RawQuery, e.params)
	if kw == "" && u.Fragment != "" {
		kw = keywords(u.EscapedFragment(), e.params)
	}
	return Search{Engine: e.name, Keywords: kw}
}

// keywords returns the first non-empty value of params in the URL-encoded
// query, decoded and trimmed, skipping URLs.
func keywords(query string, params []string) string {
	if query == "" {
		return ""
	}
	// ParseQuery keeps the pairs it can decode when others are malformed.
	values, _ := url.ParseQuery(query)
	for _, p := range params {
		for _, v := range values[p] {
			if v = strings.TrimSpace(v); v != "" && !isRedirectTarget(v) {
				return strings.ToValidUTF8(v, "\uFFFD")
			}
		}
	}
	return ""
}

// isRedirectTarget reports whether a keyword value is a URL: Google's
// /url?q=https://... redirect (from Gmail, Docs and others) carries the
// link's target in q, which is not a search.
func isRedirectTarget(v string) bool {
	return strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://")
}
