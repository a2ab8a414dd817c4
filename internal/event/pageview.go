package event

// pageViewData is the payload of a page view: the page's address, where the
// visitor came from, its title, the sections the page sets in
// lpTag.section, and the page context (impression) id.
var pageViewData = closed(
	required(httpURL("url")),
	str("referrer"),
	str("title"),
	arrayOf("sections", str("")),
	id("contextId"),
)

// monitoringApp is LP_MONITORING, the tag's own monitoring events.
var monitoringApp = &app{
	name:   "LP_MONITORING",
	events: eventsWithData(pageViewData, true, "PAGE_VIEW"),
}
