package lpagent

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestRequestShapes sends every request type (and bad ones) over the
// socket and checks each answer: its code, its type {requestType}$Response
// and its body.
func TestRequestShapes(t *testing.T) {
	e := newEnv(t)
	ann, _ := e.addUser(acme, "ann", 0, "sales")
	e.addUser(other, "olga", 0, "sales")
	c := e.startConversation(acme, "visitor-1", 1)
	c.say("hi")
	theirs := e.startConversation(other, "visitor-2", 1)
	w := e.dialAgent(acme, "ann")

	type check func(t *testing.T, body json.RawMessage)
	is := func(want string) check {
		return func(t *testing.T, body json.RawMessage) {
			if string(body) != want {
				t.Errorf("body %s, want %s", body, want)
			}
		}
	}
	has := func(parts ...string) check {
		return func(t *testing.T, body json.RawMessage) {
			for _, p := range parts {
				if !strings.Contains(string(body), p) {
					t.Errorf("body %s lacks %s", body, p)
				}
			}
		}
	}
	field := func(f string) check { return has(`"field":"` + f + `"`) }
	tests := []struct {
		name  string
		typ   string
		body  any
		extra map[string]any
		code  int
		check check
	}{
		{"clock", typeGetClock, map[string]any{}, nil, 200, has(`{"currentTime":`)},
		{"state", typeSetAgentState, map[string]any{"availability": "AWAY", "channels": []string{"MESSAGING"}, "agentUserId": "acme." + ann.ID}, nil, 200,
			is(`"Agent state updated successfully"`)},
		{"state by pid", typeSetAgentState, map[string]any{"availability": "OCCUPIED", "agentUserId": ann.PID}, nil, 200, nil},
		{"state of another", typeSetAgentState, map[string]any{"availability": "ONLINE", "agentUserId": "acme.1"}, nil, 400, field("body.agentUserId")},
		{"bad state", typeSetAgentState, map[string]any{"availability": "HAPPY"}, nil, 400, field("body.availability")},
		{"state without body", typeSetAgentState, nil, nil, 400, field("body")},
		{"state of the wrong type", typeSetAgentState, map[string]any{"availability": 1}, nil, 400, field("body.availability")},
		{"subscribe", typeSubscribeEx, map[string]any{"convState": []string{"OPEN"}, "agentIds": []string{}}, nil, 200, has(`{"subscriptionId":"`)},
		{"subscribe bad state", typeSubscribeEx, map[string]any{"convState": []string{"OPEN", "WAITING"}}, nil, 400, field("body.convState[1]")},
		{"subscribe bad skill", typeSubscribeEx, map[string]any{"skillIds": []any{"x"}}, nil, 400, field("body.skillIds[0]")},
		{"unsubscribe unknown", typeUnsubscribeEx, map[string]any{"subscriptionId": "nope"}, nil, 400, field("body.subscriptionId")},
		{"routing", typeSubscribeRouting, map[string]any{"channelType": "MESSAGING", "agentId": "acme." + ann.ID, "brandId": acme}, nil, 200,
			has(`{"subscriptionId":"`)},
		{"routing update", typeUpdateRoutingSub, map[string]any{}, nil, 200, has(`{"subscriptionId":"`)},
		{"agents", typeSubscribeAgents, map[string]any{"brandId": acme, "agentId": "acme." + ann.ID}, nil, 200, has(`{"subscriptionId":"`)},
		{"agents of another account", typeSubscribeAgents, map[string]any{"agentId": "other.1"}, nil, 400, field("body.agentId")},
		{"ring", typeUpdateRingState, map[string]any{"ringId": "nope", "ringState": "ACCEPTED"}, nil, 404, is(`{"msg":"no such ring"}`)},
		{"ring bad state", typeUpdateRingState, map[string]any{"ringId": "nope", "ringState": "MAYBE"}, nil, 400, field("body.ringState")},
		{"profile", typeGetUserProfile, "visitor-1", nil, 200,
			is(`{"firstName":"Ann","lastName":"Lee","privateData":{"email":"ann@example.com","mobileNum":"+1 555","userId":"c-77"}}`)},
		{"profile of an object", typeGetUserProfile, map[string]any{"consumerId": "visitor-1"}, nil, 200, has(`"firstName":"Ann"`)},
		{"profile unknown", typeGetUserProfile, "nobody", nil, 404, has(`"msg":"consumer \"nobody\" has no conversation in account acme`)},
		{"profile of another account's consumer", typeGetUserProfile, "visitor-2", nil, 404, nil},
		{"profile bad", typeGetUserProfile, 7, nil, 400, field("body")},
		{"history", typeQueryMessages, map[string]any{"dialogId": c.conv, "newerThanSequence": 0}, nil, 200,
			has(`[{"sequence":0,`, `"dialogId":"`+c.conv+`"`, `"originatorId":"visitor-1","originatorPId":"visitor-1"`,
				`"originatorMetadata":{"id":"visitor-1","role":"CONSUMER"}`, `"event":{"type":"ContentEvent","contentType":"text/plain","message":"hi"}`)},
		{"history after", typeQueryMessages, map[string]any{"dialogId": c.conv, "newerThanSequence": 1}, nil, 200, is(`[]`)},
		{"history of another account", typeQueryMessages, map[string]any{"dialogId": theirs.conv}, nil, 404, is(`{"msg":"conversation not found"}`)},
		{"history bad", typeQueryMessages, map[string]any{"dialogId": c.conv, "newerThanSequence": -1}, nil, 400, field("body.newerThanSequence")},
		{"join", typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": []any{
			map[string]any{"field": "ParticipantsChange", "type": "ADD", "role": "MANAGER", "userId": "acme." + ann.ID}}}, nil, 200,
			is(`"OK Agent added successfully"`)},
		{"join bad role", typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": []any{
			map[string]any{"field": "ParticipantsChange", "type": "ADD", "role": "CONSUMER"}}}, nil, 400, field("body.conversationField[0].role")},
		{"join unknown user", typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": []any{
			map[string]any{"field": "ParticipantsChange", "type": "ADD", "role": "READER", "userId": "other.5"}}}, nil, 400,
			field("body.conversationField[0].userId")},
		{"field not array", typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": map[string]any{}}, nil, 400,
			field("body.conversationField")},
		{"dialog change", typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": []any{
			map[string]any{"field": "DialogChange", "type": "UPDATE"}}}, nil, 501, field("body.conversationField[0].field")},
		{"close another account's", typeUpdateField, map[string]any{"conversationId": theirs.conv, "conversationField": []any{
			map[string]any{"field": "ConversationStateField", "conversationState": "CLOSE"}}}, nil, 404, nil},
		{"publish", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "ContentEvent",
			"contentType": "text/plain", "message": "hello"}}, map[string]any{"metadata": []any{map[string]any{"type": "ExternalId", "id": "X"}}},
			200, is(`{"sequence":1}`)},
		{"publish rich", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "RichContentEvent",
			"content": map[string]any{"type": "vertical", "elements": []any{}}}}, nil, 200, is(`{"sequence":2}`)},
		{"publish read", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "AcceptStatusEvent",
			"status": "READ", "sequenceList": []int{0}}}, nil, 200, is(`{}`)},
		{"publish typing", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "ChatStateEvent",
			"chatState": "COMPOSING"}}, nil, 200, is(`{}`)},
		{"publish empty", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "ContentEvent",
			"contentType": "text/plain", "message": ""}}, nil, 400, field("body.event.message")},
		{"publish a file", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "ContentEvent",
			"contentType": "hosted/file", "message": map[string]any{"relativePath": "/x"}}}, nil, 400, field("body.event.contentType")},
		{"publish rich not an object", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "RichContentEvent",
			"content": "x"}}, nil, 400, field("body.event.content")},
		{"publish status ACTION", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "AcceptStatusEvent",
			"status": "ACTION", "sequenceList": []int{0}}}, nil, 400, field("body.event.status")},
		{"publish bad metadata", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "ContentEvent",
			"contentType": "text/plain", "message": "x"}}, map[string]any{"metadata": map[string]any{}}, 400, field("metadata")},
		{"publish unknown event", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "Nope"}}, nil, 400,
			field("body.event.type")},
		{"publish to another account", typePublishEvent, map[string]any{"dialogId": theirs.conv, "event": map[string]any{"type": "ContentEvent",
			"contentType": "text/plain", "message": "x"}}, nil, 404, is(`{"msg":"conversation not found"}`)},
		{"publish read to another account", typePublishEvent, map[string]any{"dialogId": theirs.conv, "event": map[string]any{
			"type": "AcceptStatusEvent", "status": "READ", "sequenceList": []int{0}}}, nil, 404, nil},
		{"typing in another account", typePublishEvent, map[string]any{"dialogId": theirs.conv, "event": map[string]any{"type": "ChatStateEvent",
			"chatState": "COMPOSING"}}, nil, 404, nil},
		{"request conversation", typeRequestConversation, map[string]any{"consumerId": "visitor-9", "channelType": "MESSAGING"}, nil, 200,
			has(`{"conversationId":"`)},
		{"request conversation bad consumer", typeRequestConversation, map[string]any{"consumerId": "a b"}, nil, 400, field("body.consumerId")},
		{"request a taken conversation", typeRequestConversation, map[string]any{"consumerId": "visitor-1"}, nil, 200, nil},
		{"upload", typeUploadURL, map[string]any{"fileSize": 5020, "fileType": "JPEG"}, nil, 501, field("type")},
		{"download", typeDownloadURL, map[string]any{"relativePath": "/x"}, nil, 501, field("type")},
		{"unknown type", ".ams.Nope", map[string]any{}, nil, 400, is(`{"field":"type","msg":"type: \".ams.Nope\" is not a request type of the agent protocol"}`)},
		{"close", typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": []any{
			map[string]any{"field": "ConversationStateField", "conversationState": "CLOSE"}}}, nil, 200, is(`"OK"`)},
		{"close again", typeUpdateField, map[string]any{"conversationId": c.conv, "conversationField": []any{
			map[string]any{"field": "ConversationStateField", "conversationState": "CLOSE"}}}, nil, 409, nil},
		{"publish to a closed one", typePublishEvent, map[string]any{"dialogId": c.conv, "event": map[string]any{"type": "ContentEvent",
			"contentType": "text/plain", "message": "late"}}, nil, 409, nil},
		{"history of a closed one", typeQueryMessages, map[string]any{"dialogId": c.conv}, nil, 200, has(`"message":"hi"`, `"message":"hello"`,
			`"metadata":[{"id":"X","type":"ExternalId"}]`, `"type":"RichContentEvent"`, `{"type":"AcceptStatusEvent","status":"READ","sequenceList":[0]}`,
			`"originatorId":"acme.`+ann.ID+`","originatorPId":"`+ann.PID+`"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := w.requestWith(tt.typ, tt.body, tt.extra)
			if f.Code != tt.code || f.Type != tt.typ+"$Response" {
				t.Fatalf("%s: code %d type %q (%s), want %d %s$Response", tt.typ, f.Code, f.Type, f.raw, tt.code, tt.typ)
			}
			if len(f.Body) == 0 || string(f.Body) == "null" {
				t.Errorf("no body: %s", f.raw)
			}
			if tt.check != nil {
				tt.check(t, f.Body)
			}
		})
	}

	// Frames that are not requests are answered with the field at fault.
	for _, tt := range []struct{ frame, field string }{
		{`{"kind":"req","type":".GetClock","body":{}}`, "id"},
		{`{"kind":"req","id":"x","body":{}}`, "type"},
		{`{"kind":"resp","id":"x","type":".GetClock"}`, "kind"},
		{`[1,2]`, "frame"},
	} {
		ctx := t.Context()
		if err := w.c.Write(ctx, websocket.MessageText, []byte(tt.frame)); err != nil {
			t.Fatal(err)
		}
		select {
		case f := <-w.stray:
			var b struct{ Field string }
			decode(t, f, &b)
			if f.Code != 400 || b.Field != tt.field {
				t.Errorf("%s: answered %s, want 400 naming %s", tt.frame, f.raw, tt.field)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no answer", tt.frame)
		}
	}
	if f := w.request(typeGetClock, map[string]any{}); f.Code != 200 {
		t.Errorf("after bad frames: %s", f.raw)
	}
}
