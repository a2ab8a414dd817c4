package event

// Engagement attributes (SDEs) as a page pushes them with lpTag.sdes.push:
// the shapes of the page type table of spec/README.md, with the field types
// of spec/engagement-attributes.txt (v2 typing, strings accepted for
// numbers as pages send them).

var (
	sdeType = required(str("type"))

	day   = between(attrInt("day"), 1, 31)
	month = between(attrInt("month"), 1, 12)
	date  = closed(day, month, attrInt("year"))

	product = closed(attrText("name"), attrText("category"), attrText("sku"), attrNum("price"))
	// cartLine is an item of a cart's products.
	cartLine = closed(obj("product", product), attrInt("quantity"))
	// viewedLine is an item of a prodView's products.
	viewedLine = closed(
		obj("product", closed(attrText("name"), attrText("category"), attrText("sku"), attrNum("price"),
			attrText("statusInStock"), attrInt("quantityInStock"))),
		attrInt("quantity"),
	)
	cartProducts = arrayOf("products", obj("", cartLine))
)

// sdeData is the payload of lp_sdes VAR_ADDED: one attribute, its type
// property selecting its shape.
var sdeData = &object{tag: "type", variants: []variant{
	{"cart", closed(sdeType, attrNum("total"), attrText("currency"), attrInt("numItems"), cartProducts)},
	{"purchase", closed(sdeType, attrNum("total"), attrText("currency"), attrText("orderId"),
		obj("cart", closed(cartProducts, attrInt("numItems"), attrNum("total"))))},
	{"prodView", closed(sdeType, attrText("currency"), arrayOf("products", obj("", viewedLine)))},
	{"ctmrinfo", closed(sdeType, obj("info", closed(
		attrText("cstatus"), attrText("ctype"), attrText("customerId"), attrNum("balance"), attrText("currency"),
		attrText("socialId"), attrText("imei"), attrText("userName"), attrInt("companySize"),
		attrText("companyBranch"), attrText("accountName"), attrText("role"),
		obj("lastPaymentDate", date), obj("registrationDate", date),
		attrInt("loginStatus"), attrText("storeNumber"), attrText("storeZipCode"),
	)))},
	{"personal", closed(sdeType, obj("personal", closed(
		attrText("firstname"), attrText("lastname"),
		obj("age", closed(attrNum("age"), attrInt("year"), month, day)),
		arrayOf("contacts", obj("", closed(attrText("email"), attrText("phone")))),
		attrText("gender"), attrText("language"), attrText("company"),
	)))},
	// channel: 0 direct, 1 search, 2 social, 3 email, 4 referral
	{"mrktInfo", closed(sdeType, obj("info", closed(
		oneOf(attrInt("channel"), 0, 1, 2, 3, 4), attrText("affiliate"), attrText("campaignId"))))},
	{"lead", closed(sdeType, obj("lead", closed(
		attrText("topic"), attrNum("value"), attrText("currency"), attrText("leadId"))))},
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
