package websession

import (
	"strings"

	"github.com/sightline/sightline/internal/enrich"
)

// The events a document reads.
const (
	appMonitoring = "LP_MONITORING"
	appSDES       = "lp_sdes"
	appOffers     = "LP_OFFERS"
	pageView      = "PAGE_VIEW"
	varAdded      = "VAR_ADDED"
)

// AppendDocument appends the web-session document of v to dst, in Avro's
// JSON encoding of Schema, without a newline, and returns the extended
// slice. Its records come in a fixed order, each only when it has
// something to say: Geo and SessionInfo (in a visit's first document
// only), EngagementAttributes, Navigation, GoalAchieved, Eligibility and
// Impression. Event data that is not what the event's schema in package
// event says is read as far as it can be; whatever the data, the document
// is valid. AppendDocument does not allocate when dst has the capacity,
// but to unescape strings with escapes and to copy the referrer handed to
// en.Search.
func AppendDocument(dst []byte, v *Visit, en Enricher) []byte {
	return appendDocument(dst, v, en, Plain)
}

// appendDocument is AppendDocument in shape sh.
func appendDocument(dst []byte, v *Visit, en Enricher, sh Shape) []byte {
	dst = append(dst, `{"dataType":{"`+ns+`DataTypeEnum":"WebSession"},"metaData":`...)
	if sh == Wrapped {
		dst = append(dst, `{"`+ns+`MetaData":`...)
	}
	dst = append(dst, `{"accountId":`...)
	dst = appendOptString(dst, v.AccountID)
	dst = append(dst, `,"schemaVersion":"`+SchemaVersion+`","startTime":`...)
	dst = appendStartTime(dst, v)
	dst = append(dst, `,"endTime":null}`...)
	if sh == Wrapped {
		dst = append(dst, `},"recordCollection":{"array":[`...)
	} else {
		dst = append(dst, `,"recordCollection":[`...)
	}
	d := document{dst: dst, v: v}
	d.eligible, d.goals, d.control = v.campaignRecords()
	if v.Continuation == 0 {
		d.geo(en.Geo(v.IP))
		d.sessionInfo(en)
	}
	d.engagementAttributes()
	d.navigation()
	d.goalsAchieved()
	d.eligibility()
	d.impressions()
	if sh == Wrapped {
		return append(d.dst, "]}}"...)
	}
	return append(d.dst, "]}"...)
}

// appendStartTime appends the time of v's first event, null if it has
// none.
func appendStartTime(dst []byte, v *Visit) []byte {
	if len(v.Events) == 0 {
		return appendNull(dst)
	}
	return appendLong(dst, v.Events[0].Time)
}

// document writes the records of a document's recordCollection.
type document struct {
	dst     []byte
	v       *Visit
	records int // records written
	// eligible, goals and control are the visit's eligibility
	// assessments, achieved goals and site control group, with those of
	// its campaign events (Visit.campaignRecords).
	eligible []Eligibility
	goals    []GoalAchieved
	control  string
	start    int // where the record being written starts in dst
	entries  int // entries written to the list of the record being written
}

// begin starts a record with a body of type body (a full name) and its
// header. Its fields follow, each preceded by a comma.
func (d *document) begin(body string) {
	d.start = len(d.dst)
	d.dst = appendBranch(append(comma(d.dst, &d.records), `{"body":`...), body)
	d.dst = append(d.dst, `{"header":{"`+ns+`VisitorHeader":{"visitId":`...)
	d.dst = appendOptString(d.dst, d.v.VisitID)
	d.dst = append(d.dst, `,"visitorId":`...)
	d.dst = appendOptString(d.dst, d.v.VisitorID)
	d.dst = append(d.dst, `,"contextId":null}}`...)
}

// end ends the record begun.
func (d *document) end() { d.dst = append(d.dst, "}}}"...) }

// beginList begins a record whose one field besides the header is the
// list called field, to which entries are added with entry.
func (d *document) beginList(body, field string) {
	d.begin(body)
	d.dst = append(append(append(d.dst, `,"`...), field...), `":{"array":[`...)
	d.entries = 0
}

// entry starts an entry of the list.
func (d *document) entry() { d.dst = comma(d.dst, &d.entries) }

// endList ends the record begun by beginList, or drops it if its list
// has no entries.
func (d *document) endList() {
	if d.entries == 0 {
		d.dst = d.dst[:d.start]
		d.records--
		return
	}
	d.dst = append(d.dst, "]}"...)
	d.end()
}

// geo writes the Geo record, if g knows anything.
func (d *document) geo(g enrich.Geo) {
	if g == (enrich.Geo{}) {
		return
	}
	d.begin(ns + "WebSessionGeoData")
	for _, f := range [...]struct{ name, value string }{
		{"iPV4", g.IPv4}, {"iPV6", g.IPv6}, {"country", g.Country}, {"city", g.City},
		{"state", g.State}, {"org", g.Org}, {"isp", g.ISP}, {"countryCode", g.CountryCode},
	} {
		d.dst = append(append(append(d.dst, `,"`...), f.name...), `":`...)
		d.dst = appendOptString(d.dst, f.value)
	}
	d.end()
}

// sessionInfo writes the SessionInfo record.
func (d *document) sessionInfo(en Enricher) {
	v := d.v
	device := en.Device(v.UserAgent)
	var search enrich.Search
	if referrer := v.firstReferrer(); referrer != "" {
		search = en.Search(strings.Clone(referrer))
	}
	d.begin(ns + "WebSessionSessionInfoData")
	dst := append(d.dst, `,"sessionStartTime":`...)
	dst = appendStartTime(dst, v)
	dst = append(dst, `,"userAgent":`...)
	dst = appendOptString(dst, v.UserAgent)
	dst = append(dst, `,"deviceOS":`...)
	dst = appendOptString(dst, device.OS)
	dst = append(dst, `,"deviceFamily":`...)
	dst = appendOptString(dst, device.Family)
	dst = append(dst, `,"siteControlGroup":`...)
	dst = appendStringValue(dst, controlGroup(d.control))
	dst = append(dst, `,"searchEngine":`...)
	dst = appendOptString(dst, search.Engine)
	dst = append(dst, `,"searchEngineKey":`...)
	d.dst = appendOptString(dst, search.Keywords)
	d.end()
}

// firstReferrer returns the referrer of v's first page view, a view of
// its data.
func (v *Visit) firstReferrer() string {
	for i := range v.Events {
		if e := &v.Events[i]; e.App == appMonitoring && e.Name == pageView {
			referrer, _ := text(member(bytesString(e.Data), "referrer"))
			return referrer
		}
	}
	return ""
}

// engagementAttributes writes the EngagementAttributes record: an entry
// per attribute pushed.
func (d *document) engagementAttributes() {
	d.beginList(ns+"WebSessionEngAttrsData", "engagementAttributes")
	for i := range d.v.Events {
		e := &d.v.Events[i]
		if e.App != appSDES || e.Name != varAdded {
			continue
		}
		if a, obj := attributeOf(bytesString(e.Data)); a != nil {
			d.entry()
			d.dst = appendAttribute(d.dst, e.Time, a, obj)
		}
	}
	d.endList()
}

// navigation writes the Navigation record: an entry per page view.
func (d *document) navigation() {
	d.beginList(ns+"WebSessionNavigationData", "navigationData")
	for i := range d.v.Events {
		if e := &d.v.Events[i]; e.App == appMonitoring && e.Name == pageView {
			d.entry()
			d.dst = appendNavigationEntry(d.dst, e.Time, bytesString(e.Data))
		}
	}
	d.endList()
}

// impressions writes the Impression record: an entry per engagement
// shown, accepted, closed or timed out.
func (d *document) impressions() {
	d.beginList(ns+"WebSessionImpressionData", "impressions")
	for i := range d.v.Events {
		e := &d.v.Events[i]
		if typ := impressionType(e.Name); e.App == appOffers && typ != "" {
			d.entry()
			d.dst = appendImpression(d.dst, e, typ, d.eligible)
		}
	}
	d.endList()
}

// goalsAchieved writes the GoalAchieved record, if the visit has goals.
func (d *document) goalsAchieved() {
	if len(d.goals) == 0 {
		return
	}
	d.begin(ns + "WebSessionGoalAchievedData")
	d.dst = appendList(append(d.dst, `,"achievedGoals":`...), d.goals, appendGoalAchieved)
	d.end()
}

// eligibility writes the Eligibility record, if the visit has
// assessments.
func (d *document) eligibility() {
	if len(d.eligible) == 0 {
		return
	}
	d.begin(ns + "WebSessionEligibilityData")
	d.dst = appendList(append(d.dst, `,"eligibilityData":`...), d.eligible, appendEligibility)
	d.end()
}
