package enrich

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"
)

// GeoDB looks IP addresses up in a MaxMind City database and an ISP or ASN
// database, either of which may be absent.
//
// Lookup is safe for concurrent use. Close must not run concurrently with
// Lookup (the databases are memory-mapped and unmapped by Close).
type GeoDB struct {
	city *maxminddb.Reader // nil: no City database
	isp  *maxminddb.Reader // nil: no ISP/ASN database
}

// OpenGeo opens the MaxMind databases at cityPath (GeoIP2 or GeoLite2 City;
// a Country database also works, giving country fields only) and ispPath
// (GeoIP2 ISP or GeoLite2 ASN). An empty path means no such database; with
// both empty, Lookup reports only the address.
//
// The database type in each file's metadata is checked, so that swapped or
// wrong paths fail here rather than yielding empty lookups.
func OpenGeo(cityPath, ispPath string) (*GeoDB, error) {
	g := &GeoDB{}
	if cityPath != "" {
		r, err := openMMDB(cityPath, "City", "Country", "Enterprise")
		if err != nil {
			return nil, fmt.Errorf("cannot open geo city database: %w", err)
		}
		g.city = r
	}
	if ispPath != "" {
		r, err := openMMDB(ispPath, "ISP", "ASN")
		if err != nil {
			_ = g.Close()
			return nil, fmt.Errorf("cannot open geo ISP database: %w", err)
		}
		g.isp = r
	}
	return g, nil
}

// openMMDB opens the database at path and checks that its type names one
// of kinds (e.g. "GeoIP2-City" names "City").
func openMMDB(path string, kinds ...string) (*maxminddb.Reader, error) {
	r, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	typ := r.Metadata.DatabaseType
	for _, k := range kinds {
		if strings.Contains(typ, k) {
			return r, nil
		}
	}
	_ = r.Close()
	return nil, fmt.Errorf("%s: database type %q is not one of %s", path, typ, strings.Join(kinds, ", "))
}

// Close releases the databases. The GeoDB must not be used afterwards.
func (g *GeoDB) Close() error {
	var errs []error
	if g.city != nil {
		errs = append(errs, g.city.Close())
		g.city = nil
	}
	if g.isp != nil {
		errs = append(errs, g.isp.Close())
		g.isp = nil
	}
	return errors.Join(errs...)
}

// names is the localised names map of a GeoIP2 record, English only.
type names struct {
	EN string `maxminddb:"en"`
}

// cityRecord is the part of a GeoIP2 City (or Country) record Lookup reports.
type cityRecord struct {
	City struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"city"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   names  `maxminddb:"names"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
}

// ispRecord covers both GeoIP2 ISP records (isp, organization and the
// autonomous system) and GeoLite2 ASN records (the autonomous system only).
type ispRecord struct {
	ISP          string `maxminddb:"isp"`
	Organization string `maxminddb:"organization"`
	ASOrg        string `maxminddb:"autonomous_system_organization"`
}

// Lookup reports where ip is and who it belongs to.
//
// The address goes in IPv4 or IPv6 by family, in its canonical text form
// (an IPv4-mapped IPv6 address such as ::ffff:192.0.2.1 counts as IPv4 and is
// written 192.0.2.1; a zone is dropped). Country, CountryCode, City and State
// (the first, most general, subdivision) come from the City database, in
// English. Org and ISP come from the ISP database's organization and isp
// fields; where one is missing, as it always is in an ASN database, the
// autonomous_system_organization stands in for it. An address no database
// knows has only its address field set; an unparsable one yields the zero
// Geo. A database that cannot be read for this address (corrupt) leaves its
// fields empty.
func (g *GeoDB) Lookup(ip string) Geo {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return Geo{}
	}
	return g.lookup(addr.Unmap().WithZone(""))
}

// lookup looks addr up; addr is unmapped and has no zone.
func (g *GeoDB) lookup(addr netip.Addr) Geo {
	var geo Geo
	if addr.Is4() {
		geo.IPv4 = addr.String()
	} else {
		geo.IPv6 = addr.String()
	}
	if g.city != nil {
		var rec cityRecord
		if err := g.city.Lookup(addr).Decode(&rec); err == nil {
			geo.Country = rec.Country.Names.EN
			geo.CountryCode = rec.Country.ISOCode
			geo.City = rec.City.Names.EN
			if len(rec.Subdivisions) > 0 {
				geo.State = rec.Subdivisions[0].Names.EN
			}
		}
	}
	if g.isp != nil {
		var rec ispRecord
		if err := g.isp.Lookup(addr).Decode(&rec); err == nil {
			geo.Org = cmp.Or(rec.Organization, rec.ASOrg)
			geo.ISP = cmp.Or(rec.ISP, rec.ASOrg)
		}
	}
	return geo
}
