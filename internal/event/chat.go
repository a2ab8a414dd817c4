package event

//go:generate go run ./internal/gencatalog

// The chat window's events (spec/chat-events.txt): the catalog, generated
// into chat_catalog.go, and custom events a modeller defines.

var (
	// chatData is the payload of a chat event: any object.
	chatData = anyObject
	// chatPayloads are the payloads the catalog documents, by event name.
	chatPayloads = map[string]*object{
		"link_clicked": openWith(str("url")),
	}
)

// chatApp is CHAT: the catalog's events and custom ones.
var chatApp = &app{
	name:      "CHAT",
	lookup:    chatEvent,
	openNames: "neither a catalog event nor a custom name matching ^[a-z0-9_]{1,64}$",
}

// chatEvent resolves a chat event name: a catalog event, or a custom event
// whose name is 1-64 characters of [a-z0-9_].
func chatEvent(name string) (eventType, bool) {
	if i, ok := chatCatalogIndex(name); ok {
		data := chatPayloads[name]
		if data == nil {
			data = chatData
		}
		return eventType{name: chatCatalog[i], data: data}, true
	}
	if chatNameChars.matches(name, maxChatName) {
		return eventType{data: chatData}, true
	}
	return eventType{}, false
}
