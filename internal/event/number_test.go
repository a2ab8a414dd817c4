package event

import (
	"strconv"
	"strings"
	"testing"
)

func TestInteger(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int64
		want intStatus
	}{
		{"0", 0, intOK},
		{"-0", 0, intOK},
		{"6", 6, intOK},
		{"-17", -17, intOK},
		{"06", 6, intOK},
		{"1467291704525", 1467291704525, intOK},
		{"999999999999999", 999999999999999, intOK},
		{"9007199254740992", 9007199254740992, intOK},
		{"9007199254740993", 0, intTooBig}, // rounds to 2^53 as a float64, but is beyond it
		{"18.0", 18, intOK},
		{"1e3", 1000, intOK},
		{"2.5E1", 25, intOK},
		{"1.5", 0, intFraction},
		{"-0.1", 0, intFraction},
		{"1e300", 0, intTooBig},
		{"1e400", 0, intTooBig},
		{"-9007199254740993", 0, intTooBig},
		{"999999999999999999", 0, intTooBig},
		{"1234567890123456789", 0, intTooBig},
		{"9999999999999999999", 0, intTooBig}, // beyond int64 too
		{"-9999999999999999999", 0, intTooBig},
		{"100000000000000000", 0, intTooBig}, // 18 digits, read in the fast path
		{"123456789012345678901234", 0, intTooBig},
	} {
		n, st := integer(c.in)
		if st != c.want || st == intOK && n != c.n {
			t.Errorf("integer(%q) = %d, %d; want %d, %d", c.in, n, st, c.n, c.want)
		}
	}
}

func TestIsNumericText(t *testing.T) {
	for in, want := range map[string]bool{
		"0": true, "11.7": true, "-400.99": true, "06": true, "1e3": true, "1.5E-3": true, "34.0": true,
		"": false, "-": false, "+1": false, " 1": false, "1 ": false, "1.": false, ".5": false, "1e": false,
		"1e+": false, "NaN": false, "Inf": false, "0x10": false, "1_000": false, "11,70": false, "1.2.3": false,
	} {
		if got := isNumericText(in); got != want {
			t.Errorf("isNumericText(%q) = %v", in, got)
		}
	}
}

func TestIsDecimalInt(t *testing.T) {
	for _, in := range []string{"0", "7", "-7", "10", "210599710", "-0", "007", "-07", "", "-", "1.0", "1e3", "+1", "1a"} {
		n, err := strconv.ParseInt(in, 10, 64)
		want := err == nil && strconv.FormatInt(n, 10) == in
		if got := isDecimalInt(in); got != want {
			t.Errorf("isDecimalInt(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestInFloatRange(t *testing.T) {
	big := "1" + strings.Repeat("7", 308) // 1.7e308, 309 digits
	for in, want := range map[string]bool{
		"0": true, "-11.7": true, "1e308": true, "1.7976931348623157e308": true, "-1.7976931348623157E+308": true,
		"1e-400": true, "-1e-400": true, strings.Repeat("9", 308): true, big: true, big + ".5": true, "06e2": true,
		"1.7976931348623159e308": false, "1e309": false, "-1e400": false, "2" + big[1:]: false, "1e99999999999": false,
	} {
		if got := inFloatRange(in); got != want {
			t.Errorf("inFloatRange(%q) = %v", in, got)
		}
	}
}

func TestIsNegative(t *testing.T) {
	for in, want := range map[string]bool{
		"-5": true, "-0.01": true, "-1e-400": true, "-07": true, "-0.0e0": false, "-0": false, "-00.000E+5": false,
		"0": false, "5": false, "1e-3": false, "": false,
	} {
		if got := isNegative(in); got != want {
			t.Errorf("isNegative(%q) = %v", in, got)
		}
	}
}
