package event

// Engagement attributes (SDEs) as a page pushes them with lpTag.sdes.push:
// the shapes of the page type table of spec/README.md, with the field types
// of spec/engagement-attributes.txt (v2 typing, strings accepted for
// numbers as pages send them).
//
// Counts, quantities, prices, totals, a lead's value and an age are never
// negative. A purchase's total neither: a refund is not a purchase (the
// campaign engine counts every purchase as a conversion and adds its total
// to what the visitor spent), and the spec has no attribute for one. A
// customer's balance may be negative (a debt), and so may the codes and
// levels that are not amounts.

var (
	sdeType = required(str("type"))

	day   = between(attrInt("day"), 1, 31)
	month = between(attrInt("month"), 1, 12)
	date  = closed(day, month, attrInt("year"))

	price    = nonNegative(attrNum("price"))
	quantity = nonNegative(attrInt("quantity"))
	total    = nonNegative(attrNum("total"))
	numItems = nonNegative(attrInt("numItems"))

	product = closed(attrText("name"), attrText("category"), attrText("sku"), price)
	// cartLine is an item of a cart's products.
	cartLine = closed(obj("product", product), quantity)
	// viewedLine is an item of a prodView's products.
	viewedLine = closed(
		obj("product", closed(attrText("name"), attrText("category"), attrText("sku"), price,
			attrText("statusInStock"), nonNegative(attrInt("quantityInStock")))),
		quantity,
	)
	cartProducts = arrayOf("products", obj("", cartLine))
)

// sdeData is the payload of lp_sdes VAR_ADDED: one attribute, its type
// property selecting its shape.
var sdeData = &object{tag: "type", variants: []variant{
	{"cart", closed(sdeType, total, attrText("currency"), numItems, cartProducts)},
	{"purchase", closed(sdeType, total, attrText("currency"), attrText("orderId"),
		obj("cart", closed(cartProducts, numItems, total)))},
	{"prodView", closed(sdeType, attrText("currency"), arrayOf("products", obj("", viewedLine)))},
	{"ctmrinfo", closed(sdeType, obj("info", closed(
		attrText("cstatus"), attrText("ctype"), attrText("customerId"), attrNum("balance"), attrText("currency"),
		attrText("socialId"), attrText("imei"), attrText("userName"), nonNegative(attrInt("companySize")),
		attrText("companyBranch"), attrText("accountName"), attrText("role"),
		obj("lastPaymentDate", date), obj("registrationDate", date),
		attrInt("loginStatus"), attrText("storeNumber"), attrText("storeZipCode"),
	)))},
	{"personal", closed(sdeType, obj("personal", closed(
		attrText("firstname"), attrText("lastname"),
		obj("age", closed(nonNegative(attrNum("age")), attrInt("year"), month, day)),
		arrayOf("contacts", obj("", closed(attrText("email"), attrText("phone")))),
		attrText("gender"), attrText("language"), attrText("company"),
	)))},
	// channel: 0 direct, 1 search, 2 social, 3 email, 4 referral
	{"mrktInfo", closed(sdeType, obj("info", closed(
		oneOf(attrInt("channel"), 0, 1, 2, 3, 4), attrText("affiliate"), attrText("campaignId"))))},
	{"lead", closed(sdeType, obj("lead", closed(
		attrText("topic"), nonNegative(attrNum("value")), attrText("currency"), attrText("leadId"))))},
	{"service", closed(sdeType, obj("service", closed(
		attrText("topic"), between(attrInt("status"), 0, 10), attrText("category"), attrText("serviceId"))))},
	{"error", closed(sdeType, obj("error", closed(
		attrText("contextId"), attrText("message"), attrText("code"), attrInt("level"), boolean("resolved"))))},
	{"searchInfo", closed(sdeType, arrayOf("keywords", str("")))},
}}

// sdesApp is lp_sdes, whose VAR_ADDED fires when the page pushes an attribute.
var sdesApp = &app{
	name:   "lp_sdes",
	events: eventsWithData(sdeData, true, "VAR_ADDED"),
}
