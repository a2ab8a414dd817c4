package demo

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// The shop's stylesheet, script and pictures, in the binary.
//
//go:embed assets
var assetFiles embed.FS

// asset is one file of assets/, served at /demo/assets/{name}.
type asset struct {
	body        []byte
	contentType string
	version     string // a hash of body: pages link ?v={version}
}

// contentTypes are the types of the files assets/ may hold, set here
// rather than looked up in the system's MIME table, which varies.
var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

// assets are the files of assets/ by name, read once.
var assets = readAssets()

func readAssets() map[string]asset {
	out := map[string]asset{}
	entries, err := fs.ReadDir(assetFiles, "assets")
	if err != nil {
		panic(err) // embedded: cannot fail
	}
	for _, e := range entries {
		body, err := fs.ReadFile(assetFiles, "assets/"+e.Name())
		if err != nil {
			panic(err)
		}
		ct, ok := contentTypes[path.Ext(e.Name())]
		if !ok {
			panic("web/demo/assets: no content type for " + e.Name())
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = asset{body: body, contentType: ct, version: hex.EncodeToString(sum[:6])}
	}
	return out
}

// assetURL is the URL pages link name at: versioned, so that a browser
// may keep it for good and a new binary's file has a new URL.
func assetURL(name string) (string, error) {
	a, ok := assets[name]
	if !ok {
		return "", fmt.Errorf("no asset %s", name)
	}
	return "/demo/assets/" + name + "?v=" + a.version, nil
}

// serveAsset serves the file name of assets/. Asked for by its current
// version it may be cached for a year; otherwise it is revalidated each
// time (ETag).
func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	a, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("ETag", `"`+a.version+`"`)
	if r.URL.Query().Get("v") == a.version {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "public, no-cache")
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
