package enrich

// Geo is where an IP address is, as the web-session Geo record reports it.
// Empty strings are unknown (written as null).
type Geo struct {
	IPv4, IPv6  string // the address, in the field of its family; the other is empty
	Country     string // English name
	CountryCode string // ISO 3166-1 alpha-2
	City        string // English name
	State       string // English name of the first subdivision
	Org         string // the organisation the ISP/ASN database names
	ISP         string
}

// Device is what a User-Agent says of the visitor's device.
type Device struct {
	OS     string // one of NA, WINDOWS, MAC_OS, LINUX, IOS, ANDROID
	Family string // one of NA, DESKTOP, TABLET, MOBILE
}

// Search is the search engine a visit came from and the keywords searched,
// both empty when the referrer is not a known search engine's result page.
type Search struct {
	Engine   string // the engine's name, e.g. "Google"
	Keywords string // the search terms, decoded
}
