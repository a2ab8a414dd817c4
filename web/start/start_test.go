package start

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sightline/sightline/internal/account"
)

type accounts map[string]bool

func (a accounts) Get(id string) (*account.Account, bool) {
	if a[id] {
		return &account.Account{ID: id}, true
	}
	return nil, false
}

func TestStartPage(t *testing.T) {
	tests := []struct {
		name     string
		accounts accounts
		path     string
		code     int
		want     []string
		not      []string
	}{
		{"demo", accounts{"demo": true}, "/", 200,
			[]string{`href="/demo/"`, `lpTag.site=&#34;demo&#34;`, `http://sightline.test/tag/demo.js`, `http://sightline.test/tag/tag.js?site=demo`,
				`href="/console/agent?account=demo"`, `agents add --account demo --login ann --skill tv-experts`},
			nil},
		{"no demo", accounts{"75555851": true}, "/", 200, []string{"Show its snippet", `href="/console/agent"`, "--account ACCOUNT"},
			[]string{`href="/demo/"`, "lpTag.site"}},
		{"an account", accounts{"demo": true, "75555851": true}, "/?account=75555851", 200,
			[]string{`lpTag.site=&#34;75555851&#34;`, `tag.js?site=75555851`}, nil},
		{"unknown account", accounts{}, "/?account=nope", 200, []string{"There is no account <code>nope</code>"}, []string{"lpTag.site"}},
		{"escaped", accounts{}, "/?account=%3Cscript%3Ealert(1)%3C/script%3E", 200, []string{"&lt;script&gt;alert(1)"}, []string{"<script>alert"}},
		{"only the root", accounts{"demo": true}, "/other", 404, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			New(tc.accounts, "demo").Register(mux)
			req := httptest.NewRequest(http.MethodGet, "http://sightline.test"+tc.path, nil)
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d", rec.Code, tc.code)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("page lacks %q:\n%s", w, body)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(string(body), n) {
					t.Errorf("page has %q", n)
				}
			}
		})
	}
}
