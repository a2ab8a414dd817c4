package websession

// This file writes the Impression entries of LP_OFFERS events
// (spec/engagement-events.md).

// impressionType returns the impressionType of the LP_OFFERS event called
// name, "" for an event that is no impression.
func impressionType(name string) string {
	switch name {
	case "OFFER_IMPRESSION":
		return "Show"
	case "OFFER_CLICK":
		return "Accept"
	case "OFFER_DECLINED":
		return "Close"
	case "OFFER_TIMEOUT":
		return "Timeout"
	}
	return ""
}

// The properties of LP_OFFERS data an impression reads.
const (
	offerCampaign = iota
	offerEngagement
	offerEngagementType
	offerState
	offerContext
	offerContexts
	offerProperties
)

var offerKeys = []string{
	offerCampaign:       "campaignId",
	offerEngagement:     "engagementId",
	offerEngagementType: "engagementType",
	offerState:          "state",
	offerContext:        "contextId",
	offerContexts:       "contexts",
}

// appendImpression appends the Impression entry of the LP_OFFERS event e,
// of type typ. Its engagement, campaign and goal blocks are those of the
// visit's eligibility assessments el for the engagement (see eligibleFor);
// when the visit has none, they hold what the event says: the campaign and engagement IDs
// and the engagement's type.
func appendImpression(dst []byte, e *Event, typ string, el []Eligibility) []byte {
	var props [offerProperties]string
	members(bytesString(e.Data), offerKeys, props[:])
	campaign := Campaign{ID: optInteger(props[offerCampaign])}
	engagement := Engagement{ID: optInteger(props[offerEngagement])}
	engagement.Type, _ = text(props[offerEngagementType])
	var goal *Goal
	c, eng := &campaign, &engagement
	if ec := eligibleFor(el, e.Time, campaign.ID); ec != nil {
		c, goal = ec.Campaign, ec.Goal
		if found := ec.engagement(engagement.ID); found != nil {
			eng = found
		}
	}

	dst = append(dst, `{"timestamp":`...)
	dst = appendLong(dst, e.Time)
	dst = append(dst, `,"engagementInstanceId":`...)
	dst = appendOptString(dst, engagementInstance(props[offerContext], props[offerContexts]))
	dst = append(dst, `,"impressionType":`...)
	dst = appendStringValue(dst, typ)
	dst = append(dst, `,"state":`...)
	dst = appendStringValue(dst, impressionState(props[offerState]))
	dst = append(dst, `,"engagement":`...)
	dst = appendRecordValue(dst, ns+"Engagement", eng, appendEngagement)
	dst = append(dst, `,"campaign":`...)
	dst = appendRecordValue(dst, ns+"Campaign", c, appendCampaign)
	dst = append(dst, `,"goal":`...)
	dst = appendRecordValue(dst, ns+"Goal", goal, appendGoal)
	return append(dst, '}')
}

// optInteger returns the integer raw holds, if any.
func optInteger(raw string) Opt[int64] {
	n, ok := integer(raw, 64)
	return Opt[int64]{V: n, Valid: ok}
}

// impressionState returns an impression's state from the agents' state of
// LP_OFFERS data (1 online, 2 offline, 4 busy): "1" chatonline, "2"
// chatoffline (busy included: no chat can start), "0" content (no state:
// not a chat engagement). The codes are those of the Data Access API's
// example, where the table names the states.
func impressionState(raw string) string {
	n, _ := integer(raw, 64)
	switch n {
	case 1:
		return "1"
	case 2, 4:
		return "2"
	}
	return "0"
}

// engagementInstance returns the engagement context ID (impression ID) of
// LP_OFFERS data: its contextId, else the id of the EngagementContext of
// its contexts.
func engagementInstance(contextID, contexts string) string {
	if id, ok := text(contextID); ok {
		return id
	}
	r := reader{s: contexts}
	for n := 0; r.next(&n, '['); {
		if ctx := member(r.value(), "EngagementContext"); ctx != "" {
			id, _ := text(member(ctx, "id"))
			return id
		}
	}
	return ""
}

// eligibleFor returns the eligible campaign of the assessment of el (in
// time order) that was the latest at time t to list the campaign
// campaignID, or the first to list it if none did before t; nil when none
// lists it.
func eligibleFor(el []Eligibility, t int64, campaignID Opt[int64]) *EligibleCampaign {
	if !campaignID.Valid {
		return nil
	}
	var found *EligibleCampaign
	for i := range el {
		a := &el[i]
		if found != nil && a.Time > t {
			break
		}
		for j := range a.Campaigns {
			if c := a.Campaigns[j].Campaign; c != nil && c.ID == campaignID {
				found = &a.Campaigns[j]
			}
		}
	}
	return found
}

// engagement returns the engagement of ec with the ID id, or nil.
func (ec *EligibleCampaign) engagement(id Opt[int64]) *Engagement {
	for i := range ec.Engagements {
		if id.Valid && ec.Engagements[i].ID == id {
			return &ec.Engagements[i]
		}
	}
	return nil
}
