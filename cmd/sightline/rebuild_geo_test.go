package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/sightline/sightline/internal/enrich/enrichtest"
	"github.com/sightline/sightline/internal/server"
	"github.com/sightline/sightline/internal/websession"
)

// geoRecord is the union branch of a document's Geo record
// (websession's document.geo).
const geoRecord = "com.liveperson.dataaccess.WebSessionGeoData"

// TestRebuildAfterGeoIPChange writes an hour of visits from four addresses
// with a City database, then rebuilds the hour with a City database in
// which one of the addresses has moved: the new generation holds the same
// documents in the same order, byte for byte the same but for the Geo
// record of the visit whose address moved, which names the new place. A
// rebuild with the database the hour was written with, and a second one
// with the new database, change nothing.
func TestRebuildAfterGeoIPChange(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary; skipped with -short")
	}
	const (
		london    = "81.2.69.10"
		changchun = "175.16.199.10"
		linkoping = "89.160.20.130" // moves to Oslo in database B
		unknown   = "192.0.2.1"     // in neither database: its Geo record has the IP only
	)
	cityA := enrichtest.WriteMMDB(t, "GeoIP2-City", map[string]mmdbtype.Map{
		"81.2.69.0/24":    enrichtest.CityRecord("GB", "United Kingdom", "London", "England"),
		"175.16.199.0/24": enrichtest.CityRecord("CN", "China", "Changchun", "Jilin"),
		"89.160.20.0/24":  enrichtest.CityRecord("SE", "Sweden", "Linköping", "Östergötland County"),
	})
	cityB := enrichtest.WriteMMDB(t, "GeoIP2-City", map[string]mmdbtype.Map{
		"81.2.69.0/24":    enrichtest.CityRecord("GB", "United Kingdom", "London", "England"),
		"175.16.199.0/24": enrichtest.CityRecord("CN", "China", "Changchun", "Jilin"),
		"89.160.20.0/24":  enrichtest.CityRecord("NO", "Norway", "Oslo", "Oslo County"),
	})
	isp := enrichtest.WriteMMDB(t, "GeoIP2-ISP", map[string]mmdbtype.Map{
		"81.2.69.0/24":   enrichtest.ISPRecord("Andrews & Arnold Ltd", "STONEHOUSE office network", "Andrews & Arnold Ltd", 20712),
		"89.160.20.0/24": enrichtest.ISPRecord("Bredband2 AB", "", "Bredband2 AB ASO", 29518),
	})
	visits := []struct{ id, ip string }{{"gb", london}, {"cn", changchun}, {"se", linkoping}, {"xx", unknown}}

	data := t.TempDir()
	sightline(t, "accounts", "add", "shop", "--data", data)
	// The server's clock starts hourMargin before the end of an hour: the visits,
	// closed 2 s after their events, are in that hour, which a flush
	// writes once it has ended.
	now := time.Now()
	hourEnd := now.Truncate(time.Hour).Add(2 * time.Hour)
	hourStart := hourEnd.Add(-time.Hour)
	offset := hourEnd.Add(-hourMargin).Sub(now).Round(time.Millisecond)
	p := startServer(t, data, freeAddr(t), "--geoip-city", cityA, "--geoip-isp", isp, "--trusted-proxy", "127.0.0.1/32",
		"--visit-timeout", "2s", "--clock-offset", offset.String(), "--sessionizer-checkpoint", "1m")
	client := &http.Client{Timeout: 10 * time.Second}
	for _, v := range visits {
		if a, err := postForwarded(client, p.eventsURL("shop"), v.ip, visitBody(v.id, 3)); err != nil || a.Accepted != 3 {
			t.Fatalf("visit %s from %s: %+v %v", v.id, v.ip, a, err)
		}
	}
	time.Sleep(time.Until(now.Add(hourMargin + 2500*time.Millisecond))) // the hour has ended; the visits have closed
	hour := hourStart.UTC().Format(time.RFC3339)
	out := sightline(t, "websessions", "flush", "--data", data, "--account", "shop")
	if !strings.Contains(out, "hour "+hour+": 4 visits of shop") {
		t.Fatalf("flush:\n%s", out)
	}
	p.stop(t)

	files := filepath.Join(server.WebSessionFilesDir(data), "shop")
	first := hourDocuments(t, files, 1)
	if len(first) != len(visits) {
		t.Fatalf("generation 1 holds %d documents, want %d", len(first), len(visits))
	}
	wantA := map[string]geoFields{
		"gb": {IPv4: london, Country: "United Kingdom", CountryCode: "GB", City: "London", State: "England",
			Org: "STONEHOUSE office network", ISP: "Andrews & Arnold Ltd"},
		"cn": {IPv4: changchun, Country: "China", CountryCode: "CN", City: "Changchun", State: "Jilin"},
		"se": {IPv4: linkoping, Country: "Sweden", CountryCode: "SE", City: "Linköping", State: "Östergötland County",
			Org: "Bredband2 AB ASO", ISP: "Bredband2 AB"},
		"xx": {IPv4: unknown},
	}
	for _, doc := range first {
		visit, _ := documentVisit(t, doc)
		if got := documentGeo(t, doc); got != wantA[visit] {
			t.Errorf("generation 1, visit %s: Geo record %+v, want %+v", visit, got, wantA[visit])
		}
	}

	// The hour rebuilt from the log with database A is what the server
	// wrote. The rebuild's clock runs a minute later than the server's so
	// that the hour has ended (lag of 10 s included).
	build := func(city string) string {
		t.Helper()
		return sightline(t, "websessions", "build", "--data", data, "--account", "shop", "--from", hour,
			"--to", hourEnd.UTC().Format(time.RFC3339), "--visit-timeout", "2s", "--clock-offset", (offset + time.Minute).String(),
			"--geoip-city", city, "--geoip-isp", isp)
	}
	if out := build(cityA); !strings.Contains(out, "nothing changed") {
		t.Fatalf("rebuild with the same database changed files:\n%s", out)
	}

	// With database B, a new generation.
	start := time.Now()
	out = build(cityB)
	if !strings.Contains(out, "hour "+hour+": 4 visits, new generation") || !strings.Contains(out, "done: 1 hours rebuilt, 1 of them with a new generation") {
		t.Fatalf("rebuild with the new database:\n%s", out)
	}
	t.Logf("rebuild with database B in %s:\n%s", time.Since(start).Round(time.Millisecond), out)
	rebuilt := hourDocuments(t, files, 2)
	if len(rebuilt) != len(first) {
		t.Fatalf("generation 2 holds %d documents, generation 1 %d", len(rebuilt), len(first))
	}
	wantB := map[string]geoFields{}
	for visit, g := range wantA {
		wantB[visit] = g
	}
	wantB["se"] = geoFields{IPv4: linkoping, Country: "Norway", CountryCode: "NO", City: "Oslo", State: "Oslo County",
		Org: "Bredband2 AB ASO", ISP: "Bredband2 AB"}
	for i := range first {
		visit0, _ := documentVisit(t, first[i])
		visit1, _ := documentVisit(t, rebuilt[i])
		if visit1 != visit0 {
			t.Fatalf("document %d: visit %s in generation 2, %s in generation 1", i, visit1, visit0)
		}
		compareDocuments(t, visit0, first[i], rebuilt[i], visit0 == "se")
		if got := documentGeo(t, rebuilt[i]); got != wantB[visit0] {
			t.Errorf("generation 2, visit %s: Geo record %+v, want %+v", visit0, got, wantB[visit0])
		}
	}

	// Database B again: the files are already what it gives.
	if out := build(cityB); !strings.Contains(out, "nothing changed") {
		t.Fatalf("second rebuild with the new database changed files:\n%s", out)
	}
	if gen := hourDocuments(t, files, 2); !slices.EqualFunc(gen, rebuilt, bytes.Equal) {
		t.Errorf("the visible files changed after a rebuild that changed nothing")
	}
}

// hourDocuments returns the documents, in order, of the files a client
// sees in dir, which must be one hour's parts of generation gen.
func hourDocuments(t *testing.T, dir string, gen int) [][]byte {
	t.Helper()
	var docs [][]byte
	err := forVisibleDocuments(dir, func(file string, doc []byte) error {
		name, err := websession.ParseFileName(file)
		if err != nil {
			return err
		}
		if name.Generation != gen {
			return fmt.Errorf("visible file %s is not of generation %d", file, gen)
		}
		docs = append(docs, bytes.Clone(doc))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) == 0 {
		t.Fatalf("no visible web-session document in %s", dir)
	}
	return docs
}

// compareDocuments checks that a visit's document in the new generation
// has the same members and records as in the old one, byte for byte, but
// for its Geo record, which must differ if geoChanged and be the same
// otherwise.
func compareDocuments(t *testing.T, visit string, before, after []byte, geoChanged bool) {
	t.Helper()
	var o, n map[string]json.RawMessage
	if err := json.Unmarshal(before, &o); err != nil {
		t.Fatalf("visit %s, generation 1: %v", visit, err)
	}
	if err := json.Unmarshal(after, &n); err != nil {
		t.Fatalf("visit %s, generation 2: %v", visit, err)
	}
	if len(o) != len(n) {
		t.Errorf("visit %s: members %d, were %d", visit, len(n), len(o))
	}
	for k, ov := range o {
		if k != "recordCollection" && !bytes.Equal(ov, n[k]) {
			t.Errorf("visit %s: %s is %s, was %s", visit, k, n[k], ov)
		}
	}
	var oRecs, nRecs []json.RawMessage
	if err := json.Unmarshal(o["recordCollection"], &oRecs); err != nil {
		t.Fatalf("visit %s, generation 1: %v", visit, err)
	}
	if err := json.Unmarshal(n["recordCollection"], &nRecs); err != nil {
		t.Fatalf("visit %s, generation 2: %v", visit, err)
	}
	if len(oRecs) != len(nRecs) {
		t.Fatalf("visit %s: %d records, were %d", visit, len(nRecs), len(oRecs))
	}
	geoSeen := false
	for i := range oRecs {
		kind, newKind := recordKind(t, oRecs[i]), recordKind(t, nRecs[i])
		if kind != newKind {
			t.Errorf("visit %s, record %d: %s, was %s", visit, i, newKind, kind)
			continue
		}
		same := bytes.Equal(oRecs[i], nRecs[i])
		switch {
		case kind == geoRecord && geoChanged:
			geoSeen = true
			if same {
				t.Errorf("visit %s: Geo record unchanged: %s", visit, nRecs[i])
			}
		case !same:
			t.Errorf("visit %s, record %d (%s) changed:\n got %s\nwas %s", visit, i, kind, nRecs[i], oRecs[i])
		}
	}
	if geoChanged && !geoSeen {
		t.Errorf("visit %s: no Geo record", visit)
	}
	// What lies around the records is the same too: putting the old Geo
	// record back gives the old document.
	if !bytes.Equal(bytes.Replace(after, documentRecord(t, after, geoRecord), documentRecord(t, before, geoRecord), 1), before) {
		t.Errorf("visit %s: documents differ beyond the Geo record:\n got %s\nwas %s", visit, after, before)
	}
}

// recordKind returns the union branch of a record's body.
func recordKind(t *testing.T, rec json.RawMessage) string {
	t.Helper()
	var r struct{ Body map[string]json.RawMessage }
	if err := json.Unmarshal(rec, &r); err != nil || len(r.Body) != 1 {
		t.Fatalf("record %s: %v", rec, err)
	}
	for k := range r.Body {
		return k
	}
	return ""
}

// documentRecord returns the raw record of kind in doc, nil if it has
// none.
func documentRecord(t *testing.T, doc []byte, kind string) []byte {
	t.Helper()
	var d struct{ RecordCollection []json.RawMessage }
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	for _, r := range d.RecordCollection {
		if recordKind(t, r) == kind {
			return r
		}
	}
	return nil
}

// geoFields are the fields of a Geo record.
type geoFields struct {
	IPv4, IPv6, Country, City, State, Org, ISP, CountryCode string
}

// documentGeo returns the fields of doc's Geo record; it fails the test
// if doc has none.
func documentGeo(t *testing.T, doc []byte) geoFields {
	t.Helper()
	rec := documentRecord(t, doc, geoRecord)
	if rec == nil {
		t.Fatalf("document without a Geo record: %s", doc)
	}
	var r struct {
		Body map[string]map[string]*struct {
			String string `json:"string"`
		} `json:"body"`
	}
	if err := json.Unmarshal(rec, &r); err != nil {
		t.Fatal(err)
	}
	f := r.Body[geoRecord]
	s := func(name string) string {
		if v := f[name]; v != nil {
			return v.String
		}
		return ""
	}
	return geoFields{IPv4: s("iPV4"), IPv6: s("iPV6"), Country: s("country"), City: s("city"), State: s("state"),
		Org: s("org"), ISP: s("isp"), CountryCode: s("countryCode")}
}
