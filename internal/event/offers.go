package event

// The engagement lifecycle events of the web tag (spec/engagement-events.md).

// offerContext is {"id": ALPHA_NUMERIC}, the value of an entry of contexts.
var offerContext = closed(required(id("id")))

// offerData is the payload of every LP_OFFERS event: the property table of
// START, which the other events refer to.
var offerData = closed(
	// [{"EngagementContext": {"id": "1"}}, {"pageContext": {"id": "173828"}}]
	arrayOf("contexts", obj("", exactlyOneOf(obj("EngagementContext", offerContext), obj("pageContext", offerContext)))),
	required(id("campaignId")),
	required(id("engagementId")),
	id("engagementRevision"),
	// 0 peeling corner, 1 overlay, 2 toaster, 3 slide-out, 5 embedded, 6 sticky
	oneOf(intNum("engagementType"), 0, 1, 2, 3, 5, 6),
	id("contextId"),
	id("zoneId"),
	// 1 online, 2 offline, 4 busy
	oneOf(intNum("state"), 1, 2, 4),
	// campaignId + "_" + engagementId + "_" + engagementRevision
	joinOf(str("confKey"), "campaignId", "engagementId", "engagementRevision"),
	str("tglName"),
	boolean("done"),
	str("engagementName"),
)

// offersApp is LP_OFFERS. OFFER_CLICK is the visitor accepting (clicking)
// the engagement.
var offersApp = &app{
	name: "LP_OFFERS",
	events: eventsWithData(offerData, false,
		"START", "OFFER_DISPLAY", "OFFER_IMPRESSION", "OFFER_CLICK",
		"OFFER_TIMEOUT", "OFFER_DECLINED", "OFFER_REMOVE"),
}
