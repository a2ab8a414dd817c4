package demo

import (
	"github.com/sightline/sightline/internal/campaign"

	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServe(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux)
	for _, tc := range []struct {
		path     string
		wantCode int
		want     []string
	}{
		{"/demo/", 200, []string{`lpTag.site="demo"`, `src="/tag/demo.js"`, `lpTag.section=["home"]`}},
		{"/demo/tv/oled", 200, []string{`"type": "prodView"`, `id="demo-offer"`, `lpTag.section=["electronics","tv"]`}},
		{"/demo/checkout/", 200, []string{`"type": "purchase"`}},
		{"/demo/nothing", 404, nil},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.wantCode {
			t.Errorf("%s: status %d, want %d", tc.path, rec.Code, tc.wantCode)
		}
		for _, w := range tc.want {
			if !strings.Contains(rec.Body.String(), w) {
				t.Errorf("%s lacks %s", tc.path, w)
			}
		}
	}
}

func TestDefinitionsValid(t *testing.T) {
	d := Definitions()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := campaign.Compile(d); err != nil {
		t.Fatal(err)
	}
}
