package enrich

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseSearch(t *testing.T) {
	tests := []struct {
		referrer         string
		engine, keywords string
	}{
		// Google: every country domain, keywords mostly withheld today.
		{"https://www.google.com/", "Google", ""},
		{"https://www.google.com", "Google", ""},
		{"https://google.com/", "Google", ""},
		{"https://www.google.com/search?q=running+shoes&oq=running+shoes&sourceid=chrome&ie=UTF-8", "Google", "running shoes"},
		{"https://www.google.co.uk/", "Google", ""},
		{"https://www.google.co.uk/search?q=caf%C3%A9+london&hl=en-GB", "Google", "café london"},
		{"https://www.google.de/search?q=M%C3%BCnchen+Wetter", "Google", "München Wetter"},
		{"https://www.google.fr/url?sa=t&rct=j&q=&esrc=s&source=web&cd=1&url=https%3A%2F%2Fexample.com%2F", "Google", ""},
		{"https://www.google.com.br/search?q=t%C3%AAnis", "Google", "tênis"},
		{"https://www.google.co.jp/search?q=%E6%9D%B1%E4%BA%AC", "Google", "東京"},
		{"https://www.google.com.au/", "Google", ""},
		{"https://www.google.co.in/search?q=cricket%20score", "Google", "cricket score"},
		{"https://www.google.com.tr/", "Google", ""},
		{"https://www.google.cat/", "Google", ""},
		{"http://www.google.es/search?hl=es&q=zapatos&btnG=Buscar", "Google", "zapatos"},
		{"https://WWW.GOOGLE.COM/search?q=Upper+Case+Host", "Google", "Upper Case Host"},
		{"https://www.google.com./search?q=trailing+dot", "Google", "trailing dot"},
		{"https://www.google.com:443/search?q=port", "Google", "port"},
		{"https://www.google.com/#q=fragment+query", "Google", "fragment query"},
		{"https://www.google.com/webhp?hl=en#hl=en&q=old+instant", "Google", "old instant"},
		{"https://images.google.com/", "Google", ""},
		{"https://images.google.de/imgres?imgurl=x&q=hund", "Google", "hund"},
		{"https://encrypted.google.com/search?q=secure", "Google", "secure"},
		{"android-app://com.google.android.googlequicksearchbox/", "Google", ""},
		{"android-app://com.google.android.googlequicksearchbox/https/www.google.com", "Google", ""},
		{"https://www.google.com/search?q=%20%20padded%20%20", "Google", "padded"},
		{"https://www.google.com/search?q=&q=second", "Google", "second"},
		{"https://www.google.com/search?q=100%25+cotton", "Google", "100% cotton"},
		{"https://www.google.com/search?q=bad%zzescape", "Google", ""},
		{"https://www.google.com/search?q=latin1+caf%E9", "Google", "latin1 caf\uFFFD"},
		{"https://www.google.com/search?q=a;b", "Google", ""},
		{"https://www.google.com/search?q=a&q=b", "Google", "a"},
		{"https://www.google.com/url?q=https://example.com/page&sa=D&source=editors&ust=1", "Google", ""},
		{"https://www.google.com/url?q=http%3A%2F%2Fexample.com%2F&sa=U", "Google", ""},
		{"https://www.google.com/search?q=http+status+codes", "Google", "http status codes"},
		// Google properties that are not its search, and look-alikes.
		{"https://mail.google.com/mail/u/0/", "", ""},
		{"https://docs.google.com/document/d/1", "", ""},
		{"https://news.google.com/articles/x", "", ""},
		{"https://www.google.evil.com/search?q=x", "", ""},
		{"https://google.example.de/search?q=x", "", ""},
		{"https://notgoogle.com/search?q=x", "", ""},
		{"https://www.google/search?q=x", "", ""},
		{"android-app://com.google.android.gm/", "", ""},
		// Bing.
		{"https://www.bing.com/", "Bing", ""},
		{"https://www.bing.com/search?q=weather+seattle&form=QBLH", "Bing", "weather seattle"},
		{"https://bing.com/search?q=test", "Bing", "test"},
		{"https://cn.bing.com/search?q=%E5%A4%A9%E6%B0%94", "Bing", "天气"},
		// Yahoo!
		{"https://search.yahoo.com/search?p=cheap+flights&fr=yfp-t", "Yahoo!", "cheap flights"},
		{"https://uk.search.yahoo.com/search?p=football", "Yahoo!", "football"},
		{"https://r.search.yahoo.com/_ylt=AwrFGgJ;_ylu=Y29s/RV=2/RE=1700000000/RO=10/RU=https%3a%2f%2fexample.com%2f/RK=2/RS=x-", "Yahoo!", ""},
		{"https://search.yahoo.com/", "Yahoo!", ""},
		{"https://www.yahoo.com/", "", ""},
		{"https://mail.yahoo.com/d/folders/1", "", ""},
		{"https://search.yahoo.co.jp/search?p=%E5%A4%A9%E6%B0%97&ei=UTF-8", "Yahoo! JAPAN", "天気"},
		{"https://search.yahoo.co.jp/", "Yahoo! JAPAN", ""},
		// DuckDuckGo.
		{"https://duckduckgo.com/", "DuckDuckGo", ""},
		{"https://duckduckgo.com/?q=privacy+browser&t=h_&ia=web", "DuckDuckGo", "privacy browser"},
		{"https://html.duckduckgo.com/html/?q=lite+search", "DuckDuckGo", "lite search"},
		{"https://lite.duckduckgo.com/lite/?q=x", "DuckDuckGo", "x"},
		// Baidu: wd on the web, word on mobile.
		{"https://www.baidu.com/s?wd=%E6%89%8B%E6%9C%BA&rsv_spt=1", "Baidu", "手机"},
		{"https://m.baidu.com/s?word=%E5%8C%97%E4%BA%AC", "Baidu", "北京"},
		{"https://www.baidu.com/link?url=abc&wd=&eqid=def", "Baidu", ""},
		{"https://baidu.com/", "Baidu", ""},
		{"https://tieba.baidu.com/p/1", "", ""},
		// Yandex.
		{"https://yandex.ru/search/?text=%D0%BF%D0%BE%D0%B3%D0%BE%D0%B4%D0%B0&lr=213", "Yandex", "погода"},
		{"https://yandex.com/search/?text=hotels", "Yandex", "hotels"},
		{"https://yandex.com.tr/search/?text=hava", "Yandex", "hava"},
		{"https://yandex.kz/", "Yandex", ""},
		{"https://ya.ru/search/?text=test", "Yandex", "test"},
		// The rest.
		{"https://www.ecosia.org/search?method=index&q=plant+trees", "Ecosia", "plant trees"},
		{"https://search.naver.com/search.naver?where=nexearch&query=%EB%82%A0%EC%94%A8", "Naver", "날씨"},
		{"https://m.search.naver.com/search.naver?query=seoul", "Naver", "seoul"},
		{"https://search.seznam.cz/?q=po%C4%8Das%C3%AD", "Seznam", "počasí"},
		{"https://www.seznam.cz/", "Seznam", ""},
		{"https://www.sogou.com/web?query=%E5%A4%A9%E6%B0%94", "Sogou", "天气"},
		{"https://m.sogou.com/web/searchList.jsp?keyword=phone", "Sogou", "phone"},
		{"https://www.ask.com/web?q=how+to+tie+a+tie&qsrc=0", "Ask", "how to tie a tie"},
		{"https://uk.ask.com/web?q=weather", "Ask", "weather"},
		{"https://search.aol.com/aol/search?q=news+today", "AOL", "news today"},
		{"https://search.aol.co.uk/aol/search?q=uk+news", "AOL", "uk news"},
		{"https://www.aol.com/", "", ""},
		{"https://www.qwant.com/?q=recette+cr%C3%AApes&t=web", "Qwant", "recette crêpes"},
		{"https://lite.qwant.com/?q=x", "Qwant", "x"},
		{"https://www.startpage.com/do/search?query=privacy", "Startpage", "privacy"},
		{"https://www.startpage.com/sp/search", "Startpage", ""},
		{"https://eu.startpage.com/do/dsearch?query=eu", "Startpage", "eu"},
		{"https://search.brave.com/search?q=brave+browser&source=web", "Brave Search", "brave browser"},
		{"https://search.daum.net/search?w=tot&q=%EB%89%B4%EC%8A%A4", "Daum", "뉴스"},
		{"https://m.search.daum.net/search?q=x", "Daum", "x"},
		// Not search engines, not URLs.
		{"", "", ""},
		{"google.com", "", ""},
		{"www.google.com/search?q=no+scheme", "", ""},
		{"/search?q=relative", "", ""},
		{"https://", "", ""},
		{"https://example.com/?q=test", "", ""},
		{"https://www.facebook.com/", "", ""},
		{"https://t.co/abc", "", ""},
		{"ftp://www.google.com/?q=ftp", "", ""},
		{"javascript:alert(1)", "", ""},
		{"http://[::1", "", ""},
		{"https://www.google.com/search?q=%", "Google", ""},
		{"not a url at all", "", ""},
	}
	for _, tt := range tests {
		got := ParseSearch(tt.referrer)
		if want := (Search{Engine: tt.engine, Keywords: tt.keywords}); got != want {
			t.Errorf("ParseSearch(%q) = %+v, want %+v", tt.referrer, got, want)
		}
	}
}

// TestSearchEngineTableCoversEngines checks that searchengines.json parses
// and names every engine the package doc promises.
func TestSearchEngineTableCoversEngines(t *testing.T) {
	tab, err := engines()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Google", "Bing", "Yahoo!", "Yahoo! JAPAN", "DuckDuckGo", "Baidu", "Yandex",
		"Ecosia", "Naver", "Seznam", "Sogou", "Ask", "AOL", "Qwant", "Startpage", "Brave Search", "Daum"} {
		if !slices.Contains(tab.names, name) {
			t.Errorf("table lacks %s", name)
		}
	}
}

func TestParseEngineTableErrors(t *testing.T) {
	tests := []struct {
		name, json string
	}{
		{"not json", `{`},
		{"no name", `{"engines":[{"name":"","hosts":["a.com"],"params":["q"]}]}`},
		{"repeated name", `{"engines":[{"name":"A","hosts":["a.com"],"params":["q"]},{"name":"A","hosts":["b.com"],"params":["q"]}]}`},
		{"no hosts", `{"engines":[{"name":"A","hosts":[],"params":["q"]}]}`},
		{"no params", `{"engines":[{"name":"A","hosts":["a.com"]}]}`},
		{"empty param", `{"engines":[{"name":"A","hosts":["a.com"],"params":[""]}]}`},
		{"upper case host", `{"engines":[{"name":"A","hosts":["A.com"],"params":["q"]}]}`},
		{"www host", `{"engines":[{"name":"A","hosts":["www.a.com"],"params":["q"]}]}`},
		{"inner wildcard", `{"engines":[{"name":"A","hosts":["a.*.com"],"params":["q"]}]}`},
		{"empty label", `{"engines":[{"name":"A","hosts":["a..com"],"params":["q"]}]}`},
		{"host twice", `{"engines":[{"name":"A","hosts":["a.com"],"params":["q"]},{"name":"B","hosts":["a.com"],"params":["q"]}]}`},
		{"bad second level", `{"countrySecondLevel":["c o"],"engines":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseEngineTable([]byte(tt.json)); err == nil {
				t.Errorf("parseEngineTable(%s) succeeded, want error", tt.json)
			}
		})
	}
}

func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{
		"https://www.google.com/",
		"https://www.google.co.uk/search?q=caf%C3%A9",
		"https://www.baidu.com/s?wd=%E6%89%8B",
		"https://search.yahoo.co.jp/search?p=x",
		"https://r.search.yahoo.com/_ylt=A;_ylu=B/RV=2",
		"android-app://com.google.android.googlequicksearchbox/",
		"https://www.google.com/#q=x",
		"https://yandex.com.tr/search/?text=hava",
		"http://[::1",
		"",
	} {
		f.Add(s)
	}
	tab, err := engines()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, referrer string) {
		got := ParseSearch(referrer)
		if got.Engine == "" {
			if got.Keywords != "" {
				t.Fatalf("ParseSearch(%q) = %+v: keywords without an engine", referrer, got)
			}
			return
		}
		if !slices.Contains(tab.names, got.Engine) {
			t.Fatalf("ParseSearch(%q) = %+v: engine not in the table", referrer, got)
		}
		if !utf8.ValidString(got.Keywords) || strings.TrimSpace(got.Keywords) != got.Keywords {
			t.Fatalf("ParseSearch(%q) = %+v: keywords not valid trimmed UTF-8", referrer, got)
		}
	})
}

func BenchmarkParseSearch(b *testing.B) {
	for _, bm := range []struct{ name, referrer string }{
		{"google-home", "https://www.google.com/"},
		{"google-search", "https://www.google.co.uk/search?q=running+shoes&oq=running+shoes&sourceid=chrome&ie=UTF-8"},
		{"other", "https://www.example.com/blog/post?utm_source=newsletter"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseSearch(bm.referrer)
			}
		})
	}
}
