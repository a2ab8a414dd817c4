package websession

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FileName is the name of one web-session file:
// WebSession.<scopeStartMs>.<scopeEndMs>.part-<NNNNN>-<generation>.gz, as
// the Data Access API names them.
type FileName struct {
	ScopeStart, ScopeEnd time.Time // the hour the file covers
	Part                 int       // 0-99999: large hours are split into parts
	Generation           int       // 0, incremented each time the hour is rebuilt
}

// String returns the file name.
func (f FileName) String() string {
	return fmt.Sprintf("WebSession.%d.%d.part-%05d-%d.gz", f.ScopeStart.UnixMilli(), f.ScopeEnd.UnixMilli(), f.Part, f.Generation)
}

// ParseFileName parses a web-session file name.
func ParseFileName(name string) (FileName, error) {
	var f FileName
	bad := func(what string) (FileName, error) {
		return FileName{}, fmt.Errorf("web-session file name %q: %s", name, what)
	}
	rest, ok := strings.CutPrefix(name, "WebSession.")
	if !ok {
		return bad("does not start with WebSession.")
	}
	rest, ok = strings.CutSuffix(rest, ".gz")
	if !ok {
		return bad("does not end with .gz")
	}
	fields := strings.Split(rest, ".")
	if len(fields) != 3 {
		return bad("want WebSession.<startMs>.<endMs>.part-<NNNNN>-<n>.gz")
	}
	start, err1 := strconv.ParseInt(fields[0], 10, 64)
	end, err2 := strconv.ParseInt(fields[1], 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end <= start {
		return bad("scope is not two increasing epoch milliseconds")
	}
	part, gen, ok := strings.Cut(strings.TrimPrefix(fields[2], "part-"), "-")
	if !ok || !strings.HasPrefix(fields[2], "part-") || len(part) != 5 {
		return bad("part is not part-<5 digits>-<generation>")
	}
	if f.Part, err1 = strconv.Atoi(part); err1 != nil || f.Part < 0 {
		return bad("part is not a number")
	}
	if f.Generation, err2 = strconv.Atoi(gen); err2 != nil || f.Generation < 0 || strconv.Itoa(f.Generation) != gen {
		return bad("generation is not a number")
	}
	f.ScopeStart, f.ScopeEnd = time.UnixMilli(start), time.UnixMilli(end)
	if f.String() != name {
		return bad("not in canonical form")
	}
	return f, nil
}
