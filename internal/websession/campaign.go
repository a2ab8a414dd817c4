package websession

// This file writes the blocks of visit.go: eligibility assessments,
// achieved goals and their metadata, and the Campaign, Engagement and Goal
// blocks they and impressions carry.

func appendEligibility(dst []byte, el *Eligibility) []byte {
	dst = append(dst, `{"eligibleCampaigns":`...)
	dst = appendList(dst, el.Campaigns, appendEligibleCampaign)
	dst = append(dst, `,"timestamp":`...)
	dst = appendLong(dst, el.Time)
	return append(dst, '}')
}

func appendEligibleCampaign(dst []byte, ec *EligibleCampaign) []byte {
	dst = append(dst, `{"campaign":`...)
	dst = appendRecordValue(dst, ns+"Campaign", ec.Campaign, appendCampaign)
	dst = append(dst, `,"engagements":`...)
	dst = appendList(dst, ec.Engagements, appendEngagement)
	dst = append(dst, `,"goal":`...)
	dst = appendRecordValue(dst, ns+"Goal", ec.Goal, appendGoal)
	dst = append(dst, `,"controlGroupType":{"`+ns+`ControlGroupEnum":"`...)
	dst = append(dst, controlGroup(ec.ControlGroup)...)
	return append(dst, `"}}`...)
}

// controlGroup returns g if it is a control group type (NA, TEST or
// CONTROL), else NA.
func controlGroup(g string) string {
	switch g {
	case "TEST", "CONTROL":
		return g
	}
	return "NA"
}

func appendCampaign(dst []byte, c *Campaign) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendOpt(dst, c.ID, appendLong)
	dst = append(dst, `,"visitorProfiles":`...)
	dst = appendList(dst, c.VisitorProfiles, appendVisitorProfile)
	return append(dst, '}')
}

func appendVisitorProfile(dst []byte, p *VisitorProfile) []byte {
	return appendIDRevision(dst, p.ID, p.Revision)
}

func appendVisitorBehavior(dst []byte, b *VisitorBehavior) []byte {
	return appendIDRevision(dst, b.ID, b.Revision)
}

// appendIDRevision appends a VisitorProfile or VisitorBehavior record.
func appendIDRevision(dst []byte, id, revision Opt[int64]) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendOpt(dst, id, appendLong)
	dst = append(dst, `,"revision":`...)
	dst = appendOpt(dst, revision, appendLong)
	return append(dst, '}')
}

func appendEngagement(dst []byte, e *Engagement) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendOpt(dst, e.ID, appendLong)
	dst = append(dst, `,"channel":`...)
	dst = appendOptString(dst, e.Channel)
	dst = append(dst, `,"type":`...)
	dst = appendOptString(dst, e.Type)
	dst = append(dst, `,"visitorBehaviors":`...)
	dst = appendList(dst, e.VisitorBehaviors, appendVisitorBehavior)
	dst = append(dst, `,"skillId":`...)
	dst = appendOpt(dst, e.SkillID, appendInt)
	dst = append(dst, `,"skillName":`...)
	dst = appendOptString(dst, e.SkillName)
	dst = append(dst, `,"surveySkills":`...)
	dst = appendList(dst, e.SurveySkills, appendSkill)
	dst = append(dst, `,"isOffsiteEngagement":`...)
	dst = appendOpt(dst, e.IsOffsiteEngagement, appendBoolean)
	dst = append(dst, `,"availabilityPolicy":`...)
	dst = appendOptString(dst, e.AvailabilityPolicy)
	dst = append(dst, `,"interactionType":`...)
	dst = appendOpt(dst, e.InteractionType, appendInt)
	dst = append(dst, `,"renderingType":`...)
	dst = appendOpt(dst, e.RenderingType, appendInt)
	return append(dst, '}')
}

func appendSkill(dst []byte, s *Skill) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendOpt(dst, s.ID, appendLong)
	dst = append(dst, `,"name":`...)
	dst = appendOptString(dst, s.Name)
	return append(dst, '}')
}

func appendGoal(dst []byte, g *Goal) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendOpt(dst, g.ID, appendLong)
	dst = append(dst, `,"type":`...)
	dst = appendOpt(dst, g.Type, appendInt)
	dst = append(dst, `,"indicatorType":`...)
	dst = appendOpt(dst, g.IndicatorType, appendInt)
	return append(dst, '}')
}

func appendGoalAchieved(dst []byte, g *GoalAchieved) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendOptString(dst, g.ID)
	dst = append(dst, `,"timestamp":`...)
	dst = appendLong(dst, g.Time)
	dst = append(dst, `,"campaignGoalRevision":`...)
	dst = appendOpt(dst, g.CampaignGoalRevision, appendLong)
	dst = append(dst, `,"campaignGoalId":`...)
	dst = appendOpt(dst, g.CampaignGoalID, appendLong)
	dst = append(dst, `,"campaignGoalType":`...)
	dst = appendOpt(dst, g.CampaignGoalType, appendInt)
	dst = append(dst, `,"goalMetaData":`...)
	if g.Metadata == nil {
		dst = appendNull(dst)
	} else {
		dst = g.Metadata.appendGoalMetadata(dst)
	}
	return append(dst, '}')
}

func (m URLGoalMetadata) appendGoalMetadata(dst []byte) []byte {
	dst = append(appendBranch(dst, ns+"UrlGoalMetadata"), `{"url":`...)
	dst = appendOptString(dst, m.URL)
	return append(dst, "}}"...)
}

func (m PurchaseMetadata) appendGoalMetadata(dst []byte) []byte {
	dst = append(appendBranch(dst, ns+"PurchaseMetadata"), `{"total":`...)
	dst = appendOpt(dst, m.Total, appendDoubleValue)
	dst = append(dst, `,"orderId":`...)
	dst = appendOptString(dst, m.OrderID)
	dst = append(dst, `,"cartStatus":`...)
	dst = appendValue(dst, &purchaseCart, m.Cart)
	return append(dst, "}}"...)
}

// purchaseCart is PurchaseMetadata's cartStatus: the page's cart, read as
// the cart attribute is.
var purchaseCart = recordField("cartStatus", cartStatus)

func (m ReduceAbandonmentGoalMetadata) appendGoalMetadata(dst []byte) []byte {
	dst = append(appendBranch(dst, ns+"ReduceAbandonmentGoalMetadata"), `{"numberOfPages":`...)
	dst = appendOpt(dst, m.NumberOfPages, appendInt)
	return append(dst, "}}"...)
}

func (m LeadMetadata) appendGoalMetadata(dst []byte) []byte {
	dst = append(appendBranch(dst, ns+"LeadMetaData"), `{"topic":`...)
	dst = appendOptString(dst, m.Topic)
	dst = append(dst, `,"leadId":`...)
	dst = appendOptString(dst, m.LeadID)
	dst = append(dst, `,"value":`...)
	dst = appendOpt(dst, m.Value, appendDoubleValue)
	return append(dst, "}}"...)
}

func (m ServiceActivityMetadata) appendGoalMetadata(dst []byte) []byte {
	dst = append(appendBranch(dst, ns+"ServiceActivityMetaData"), `{"topic":`...)
	dst = appendOptString(dst, m.Topic)
	dst = append(dst, `,"status":`...)
	dst = appendOpt(dst, m.Status, appendInt)
	dst = append(dst, `,"category":`...)
	dst = appendOptString(dst, m.Category)
	dst = append(dst, `,"serviceId":`...)
	dst = appendOptString(dst, m.ServiceID)
	return append(dst, "}}"...)
}

func (m IncreaseInteractionGoalMetadata) appendGoalMetadata(dst []byte) []byte {
	dst = append(appendBranch(dst, ns+"IncreaseInteractionGoalMetadata"), `{"engagement":`...)
	dst = appendRecordValue(dst, ns+"Engagement", m.Engagement, appendEngagement)
	dst = append(dst, `,"campaign":`...)
	dst = appendRecordValue(dst, ns+"Campaign", m.Campaign, appendCampaign)
	return append(dst, "}}"...)
}
