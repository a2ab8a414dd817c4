package enrich

import "fmt"

// Config configures an Enricher.
type Config struct {
	// GeoCityPath is a GeoIP2 or GeoLite2 City database; "" for none.
	GeoCityPath string
	// GeoISPPath is a GeoIP2 ISP or GeoLite2 ASN database; "" for none.
	GeoISPPath string
	// UACacheSize is how many User-Agents' Devices are kept: 0 means
	// DefaultUACacheSize, a negative size turns the cache off.
	UACacheSize int
}

// Enricher derives Geo, Device and Search from a visit's IP address,
// User-Agent and referrer. Its methods are safe for concurrent use, except
// Close, which must come after the last of them.
type Enricher struct {
	geo     *GeoDB
	devices *deviceCache // nil: parse every time
	engines *engineTable
}

// New opens the configured databases and returns an Enricher; Close it to
// release them.
func New(cfg Config) (*Enricher, error) {
	t, err := engines()
	if err != nil {
		return nil, fmt.Errorf("cannot create enricher: %w", err)
	}
	geo, err := OpenGeo(cfg.GeoCityPath, cfg.GeoISPPath)
	if err != nil {
		return nil, fmt.Errorf("cannot create enricher: %w", err)
	}
	e := &Enricher{geo: geo, engines: t}
	switch size := cfg.UACacheSize; {
	case size == 0:
		e.devices = newDeviceCache(DefaultUACacheSize)
	case size > 0:
		e.devices = newDeviceCache(size)
	}
	return e, nil
}

// Geo reports where ip is; see GeoDB.Lookup.
func (e *Enricher) Geo(ip string) Geo {
	return e.geo.Lookup(ip)
}

// Device reports the operating system and device family a User-Agent
// names; see the package doc for the rules.
func (e *Enricher) Device(userAgent string) Device {
	if e.devices == nil {
		return parseDevice(userAgent)
	}
	return e.devices.device(userAgent)
}

// Search reports the search engine and keywords of a referrer; see
// ParseSearch.
func (e *Enricher) Search(referrer string) Search {
	return e.engines.parse(referrer)
}

// Close releases the geo databases.
func (e *Enricher) Close() error {
	return e.geo.Close()
}
