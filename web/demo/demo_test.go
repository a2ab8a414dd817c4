package demo

import (
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

func TestEngagementsValid(t *testing.T) {
	for i, e := range Engagements() {
		if err := e.Validate(i); err != nil {
			t.Error(err)
		}
	}
}
