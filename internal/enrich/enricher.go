package enrich

import (
	"fmt"
	"net/netip"
)

// Config configures an Enricher.
type Config struct {
	// GeoCityPath is a GeoIP2 or GeoLite2 City database; "" for none.
	GeoCityPath string
	// GeoISPPath is a GeoIP2 ISP or GeoLite2 ASN database; "" for none.
	GeoISPPath string
	// AnonymizeIP makes Geo report addresses anonymised (see AnonymizeIP)
	// while still locating them by the full address.
	AnonymizeIP bool
	// UACacheSize is how many User-Agents' Devices are kept: 0 means
	// DefaultUACacheSize, a negative size turns the cache off.
	UACacheSize int
}

// Enricher derives Geo, Device and Search from a visit's IP address,
// User-Agent and referrer. Its methods are safe for concurrent use, except
// Close, which must come after the last of them.
type Enricher struct {
	geo       *GeoDB
	anonymize bool
	devices   *deviceCache // nil: parse every time
	engines   *engineTable
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
	e := &Enricher{geo: geo, anonymize: cfg.AnonymizeIP, engines: t}
	switch size := cfg.UACacheSize; {
	case size == 0:
		e.devices = newDeviceCache(DefaultUACacheSize)
	case size > 0:
		e.devices = newDeviceCache(size)
	}
	return e, nil
}

// Geo reports where ip is; see GeoDB.Lookup. With Config.AnonymizeIP the
// lookup uses the full address, so the location is as precise as without,
// but the IPv4 or IPv6 field holds the anonymised address (last IPv4 octet,
// last 80 IPv6 bits zeroed): the location is kept, the address is not.
func (e *Enricher) Geo(ip string) Geo {
	if !e.anonymize {
		return e.geo.Lookup(ip)
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return Geo{}
	}
	addr = addr.Unmap().WithZone("")
	g := e.geo.lookup(addr)
	if addr.Is4() {
		g.IPv4 = anonymize(addr).String()
	} else {
		g.IPv6 = anonymize(addr).String()
	}
	return g
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
