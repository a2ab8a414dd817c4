package event

// eventType is one event of the vocabulary: its name and the schema of its data.
type eventType struct {
	name         string
	data         *object
	dataRequired bool // absent or null data is an error rather than {}
}

// app is one appName of the vocabulary and its events.
type app struct {
	name   string
	events []eventType
	// lookup, when set, resolves event names instead of events, for an app
	// whose names are open (CHAT). A valid name the package does not hold
	// comes back with an empty eventType.name: the caller keeps the name as
	// sent. openNames describes the names lookup accepts, for errors.
	lookup    func(name string) (eventType, bool)
	openNames string
}

// apps is the vocabulary: every appName an event may have.
var apps = [...]*app{offersApp, monitoringApp, sdesApp, chatApp}

// appNamed returns the app called name, or nil.
func appNamed(name string) *app {
	for _, a := range apps {
		if a.name == name {
			return a
		}
	}
	return nil
}

// event returns the type of the app's event called name.
func (a *app) event(name string) (eventType, bool) {
	if a.lookup != nil {
		return a.lookup(name)
	}
	for _, et := range a.events {
		if et.name == name {
			return et, true
		}
	}
	return eventType{}, false
}

// unknownEvent is the error for an event name the app does not have.
func (a *app) unknownEvent(name string) *FieldError {
	if a.lookup != nil {
		return &FieldError{Path: "eventName", Reason: ReasonFormat,
			Msg: quote(name) + " is not a " + a.name + " event name: " + a.openNames}
	}
	return &FieldError{Path: "eventName", Reason: ReasonUnknownEvent,
		Msg: "unknown event " + quote(name) + " of app " + quote(a.name)}
}

// eventsWithData returns event types named names that share one data schema.
func eventsWithData(data *object, dataRequired bool, names ...string) []eventType {
	ets := make([]eventType, len(names))
	for i, name := range names {
		ets[i] = eventType{name: name, data: data, dataRequired: dataRequired}
	}
	return ets
}
