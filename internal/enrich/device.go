package enrich

import (
	"strings"

	"github.com/mileusna/useragent"
)

// The values of Device.OS.
const (
	OSNA      = "NA"
	OSWindows = "WINDOWS"
	OSMacOS   = "MAC_OS"
	OSLinux   = "LINUX"
	OSIOS     = "IOS"
	OSAndroid = "ANDROID"
)

// The values of Device.Family.
const (
	FamilyNA      = "NA"
	FamilyDesktop = "DESKTOP"
	FamilyTablet  = "TABLET"
	FamilyMobile  = "MOBILE"
)

// unknownDevice is what a bot, a tool or an empty User-Agent is.
var unknownDevice = Device{OS: OSNA, Family: FamilyNA}

// parseDevice maps a User-Agent to a Device; see the package doc for the
// rules. It is safe for concurrent use and does not retain userAgent.
func parseDevice(userAgent string) Device {
	if userAgent == "" {
		return unknownDevice
	}
	ua := useragent.Parse(userAgent)
	if ua.Bot {
		return unknownDevice
	}
	d := unknownDevice
	switch ua.OS {
	case useragent.Windows:
		d.OS = OSWindows
	case useragent.MacOS:
		d.OS = OSMacOS
	case useragent.IOS:
		d.OS = OSIOS
	case useragent.Android:
		d.OS = OSAndroid
	case useragent.Linux, useragent.ChromeOS:
		d.OS = OSLinux
	}
	switch {
	case ua.Tablet:
		d.Family = FamilyTablet
	case ua.Mobile:
		d.Family = FamilyMobile
	case ua.Desktop:
		d.Family = FamilyDesktop
	}

	// Corrections to the parser, for what it gets wrong or leaves open.
	switch {
	case strings.Contains(userAgent, "Windows Phone"):
		// It also says Android and iPhone, and the parser takes Android.
		d = Device{OS: OSWindows, Family: FamilyMobile}
	case ua.OS == "" && strings.Contains(userAgent, "iPod"):
		d = Device{OS: OSIOS, Family: FamilyMobile}
	case d.OS == OSAndroid:
		d.Family = androidFamily(userAgent, ua)
	}
	return d
}

// androidFamily tells Android phones from tablets the way Google documents
// it for Chrome: phones send "Mobile", tablets do not. Firefox says "Mobile"
// or "Tablet", and the parser has already seen "Tablet". Televisions and
// streaming sticks run Android without "Mobile" too; they are NA.
func androidFamily(userAgent string, ua useragent.UserAgent) string {
	switch {
	case ua.Tablet:
		return FamilyTablet
	case strings.Contains(userAgent, "Mobi") || ua.Name == useragent.OperaMini:
		return FamilyMobile
	case strings.Contains(userAgent, "TV") || strings.Contains(userAgent, "CrKey") ||
		strings.Contains(userAgent, "BRAVIA") || strings.HasPrefix(ua.Device, "AFT"):
		return FamilyNA
	default:
		return FamilyTablet
	}
}
