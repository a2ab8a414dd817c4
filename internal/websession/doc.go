// Package websession holds web sessions as the Data Access API serves
// them (spec/web-session-data-access.txt): the Avro schema of a document
// (Schema, websession.avsc), the visit the sessionizer hands over (Visit),
// the writer of one document per visit (AppendDocument) and the names of
// the hourly files that hold them (FileName).
//
// # Documents
//
// A document is one line of a web-session file: Avro's JSON encoding of
// the record com.liveperson.dataaccess.WebSessionDocument, shaped as the
// Data Structure example of the specification: unions are written
// {"<type>": value}, optional arrays {"array": [...]}. Its recordCollection
// holds, in this order and each only when it has something to say:
//
//	WebSessionGeoData             where the visitor's IP address is (Enricher.Geo)
//	WebSessionSessionInfoData     start, User-Agent, device, control group, search engine
//	WebSessionEngAttrsData        an entry per engagement attribute pushed (lp_sdes VAR_ADDED)
//	WebSessionNavigationData      an entry per page view (LP_MONITORING PAGE_VIEW)
//	WebSessionGoalAchievedData    Visit.Goals
//	WebSessionEligibilityData     Visit.Eligibility
//	WebSessionImpressionData      an entry per engagement shown, accepted, closed or timed out (LP_OFFERS)
//
// which is the order of the example for the five it shows. The names of
// the example are kept; those it does not show are WebSessionGeoData and
// WebSessionSessionInfoData (whose fields sit beside the header, as the
// specification's tables list them), WebSessionDocument, MetaData and
// WebSessionRecord (the document, its metaData and an item of its
// recordCollection), NavigationEntry, EngagementAttribute, Impression,
// Eligibility, EligibleCampaign and GoalAchieved (an entry of each list),
// and, from the specification's tables, VisitorBehavior, VisitorProfile,
// Skill, Product, ProductContainer, Contact, CustomerAge, YMDDate, the
// attribute types and the goal metadata types (in Go spelled
// URLGoalMetadata, LeadMetadata and ServiceActivityMetadata, in the schema
// UrlGoalMetadata, LeadMetaData and ServiceActivityMetaData, as the
// specification's tables name them).
//
// # Choices where the specification is silent or disagrees with itself
//
//   - metaData.startTime is the time of the document's first event and
//     endTime is null, as in the example, although visits are closed when
//     written. Events are ordered, and timestamped, by their client time;
//     their server time is not written.
//   - The header's contextId is null: a header is per record, a context
//     (page or engagement impression) per event.
//   - A continuation (Visit.Continuation > 0) holds only the records of its
//     own events, eligibility and goals: Geo and SessionInfo describe the
//     visit and were written with its first document.
//   - Each VAR_ADDED is an entry of its own, as in the example: the merge,
//     append and replace semantics of attributes (spec/README.md) are about
//     the tag's current state, which consumers can rebuild from the entries
//     in order.
//   - Attribute fields are those of spec/engagement-attributes.txt, so that
//     nothing a page pushes is lost: CustomerInfo gains currency,
//     companyBranch and loginStatus, PersonalInfo language, CartStatus,
//     Purchase, ViewedProduct and Lead currency, Product statusInStock and
//     quantityInStock (ViewedProduct's products), all after the example's
//     fields. Their types are that document's too: VisitorError's code is a
//     string ("er100004"), not a long. isAuthenticated and
//     authenticatedConversationId, which the Data Access tables list but
//     the example does not show and no web event carries, are left out.
//   - Impressions carry the timestamp and engagement id their tables list
//     although the example shows neither; Engagement carries its id in
//     eligibility entries too.
//   - An impression's state is the code the example writes, not the word
//     the table names: "1" chatonline (the agents' state 1, online), "2"
//     chatoffline (2 offline, and 4 busy: no chat can start), "0" content
//     (no agents' state). Its engagementInstanceId is the event's contextId
//     (the engagement context id), else the id of its EngagementContext.
//     Its engagement, campaign and goal blocks come from the visit's
//     eligibility assessment of that campaign (the latest made by the time
//     of the event, else the first); without one, or for an engagement it
//     does not list, from the event: campaign and engagement ids and the
//     engagement's type.
//   - Numbers pages send as strings ("11.7") are converted to the field's
//     Avro type; a value that does not fit it (a fraction or out of range
//     for an int, text for a number, a string for a boolean) is written
//     null. Numbers in string fields are written as their text.
//   - A null or absent value is null; an empty string from event data is
//     the empty string (the example's first referrerUrl). Values of the
//     Visit's blocks are null when empty (see Opt); siteControlGroup and
//     controlGroupType are NA when empty or unknown.
//   - A page view's title has no field and is left out.
//
// # Performance
//
// Documents are written by appending to a buffer, with no reflection and
// no encoding/json: the JSON of an event's data is read in one pass into
// the raw text of the members a record needs (jsonread.go, through a
// string that shares the data's memory), which are converted as they are
// written. The engagement attributes and the page view are tables of their
// Avro fields (attributes.go), written by one function; the blocks of the
// campaign engine are written by hand (campaign.go), but for a purchase
// goal's cart, which is the page's, written as the cart attribute is.
// BenchmarkAppendDocument (a
// visit of 20 events) writes documents about as fast as gzip at its
// default level compresses them (BenchmarkGzipDocument), with no
// allocation but for strings with escapes and the referrer handed to
// Enricher.Search, which is copied so that the enricher may keep it.
//
// # Avro
//
// The package has no Avro dependency: it writes the JSON encoding, which
// is plain JSON, faster by hand than a generic encoder from Go maps could.
// Its tests decode every document they write with
// github.com/linkedin/goavro/v2, an independent implementation that reads
// Avro's JSON encoding, and encode it back to check that no field was
// missing (goavro would fill in the default) and every union branch is the
// one written.
package websession
