package dataaccess

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	keys, err := OpenKeys(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	a1, err := keys.Add("acct1")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := keys.Add("acct1")
	b1, _ := keys.Add("acct2")
	if _, err := keys.Add("bad id"); err == nil {
		t.Error("Add with a bad account ID: no error")
	}

	// Credentials: long, random, URL-safe.
	for _, s := range []string{a1.ConsumerKey, a1.ConsumerSecret, a1.AccessToken, a1.TokenSecret} {
		if len(s) < 32 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			t.Errorf("credential %q: want 32+ URL-safe characters", s)
		}
	}
	if a1.ConsumerKey == a2.ConsumerKey || a1.ConsumerSecret == a2.ConsumerSecret || a1.AccessToken == a2.AccessToken || a1.TokenSecret == a2.TokenSecret {
		t.Error("two keys share a credential")
	}

	// Files: one per key, 0600, in a 0700 directory.
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, %v; want 0700", fi.Mode().Perm(), err)
	}
	fi, err = os.Stat(filepath.Join(dir, a1.ConsumerKey+".json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}

	if got, ok := keys.Get(a1.ConsumerKey); !ok || got != a1 {
		t.Errorf("Get = %+v, %v; want %+v", got, ok, a1)
	}
	if _, ok := keys.Get("nope"); ok {
		t.Error("Get(nope) found a key")
	}
	if got := keys.List("acct1"); len(got) != 2 || got[0].ConsumerKey != a1.ConsumerKey || got[1].ConsumerKey != a2.ConsumerKey {
		t.Errorf("List(acct1) = %v", got)
	}
	if got := keys.List(""); len(got) != 3 || got[2].ConsumerKey != b1.ConsumerKey {
		t.Errorf("List() = %v", got)
	}

	// Reopened, the keys are the same.
	again, err := OpenKeys(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := again.Get(b1.ConsumerKey); !ok || !got.Created.Equal(b1.Created) || got.TokenSecret != b1.TokenSecret {
		t.Errorf("reopened: %+v, %v", got, ok)
	}

	if err := keys.Remove(a1.ConsumerKey); err != nil {
		t.Fatal(err)
	}
	if _, ok := keys.Get(a1.ConsumerKey); ok {
		t.Error("removed key still found")
	}
	for _, k := range []string{a1.ConsumerKey, "nope", "../keys", ""} {
		if err := keys.Remove(k); !errors.Is(err, ErrKeyNotFound) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Remove(%q) = %v, want ErrKeyNotFound", k, err)
		}
	}
}

// TestKeysOtherProcess changes keys through a second store on the same
// directory, as `sightline keys` does while a server runs.
func TestKeysOtherProcess(t *testing.T) {
	dir := t.TempDir()
	server, err := OpenKeys(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	cli, _ := OpenKeys(nil, dir)
	k, err := cli.Add("acct")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "added key to be found", func() bool { _, ok := server.Get(k.ConsumerKey); return ok })
	if err := cli.Remove(k.ConsumerKey); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "removed key to be gone", func() bool { _, ok := server.Get(k.ConsumerKey); return !ok })
}

// waitFor polls cond for up to 3 seconds (changes must show within one).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestKeysSkipsBadFiles(t *testing.T) {
	dir := t.TempDir()
	keys, _ := OpenKeys(nil, dir)
	good, _ := keys.Add("acct")
	for name, content := range map[string]string{
		"mismatch.json": `{"consumerKey":"other","consumerSecret":"s","accessToken":"t","tokenSecret":"u","account":"acct"}`,
		"nosecret.json": `{"consumerKey":"nosecret","accessToken":"t","tokenSecret":"u","account":"acct"}`,
		"badacct.json":  `{"consumerKey":"badacct","consumerSecret":"s","accessToken":"t","tokenSecret":"u","account":"a b"}`,
		"garbage.json":  `{`,
		"notes.txt":     `hello`,
		".x.json.1.tmp": `{}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := keys.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := keys.List(""); len(got) != 1 || got[0].ConsumerKey != good.ConsumerKey {
		t.Errorf("keys %v, want only %s", got, good.ConsumerKey)
	}
}
