package lpagent

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/messaging/wire"
)

// profile is a consumer's profile as .ams.userprofile.GetUserProfile
// answers it; the SDK turns it into a list of engagement attributes
// (claims' and authenticatedData's lp_sdes as they are, privateData's ids
// as a ctmrinfo, the names and contacts as a personal).
type profile struct {
	FirstName         string       `json:"firstName,omitempty"`
	LastName          string       `json:"lastName,omitempty"`
	PrivateData       *privateData `json:"privateData,omitempty"`
	AuthenticatedData *sdes        `json:"authenticatedData,omitempty"`
	Claims            *claims      `json:"claims,omitempty"`
	ACR               string       `json:"acr,omitempty"`
}

type privateData struct {
	Email     string `json:"email,omitempty"`
	MobileNum string `json:"mobileNum,omitempty"`
	UserID    string `json:"userId,omitempty"`
}

type sdes struct {
	SDEs []json.RawMessage `json:"lp_sdes"`
}

type claims struct {
	Issuer  string `json:"iss"`
	Subject string `json:"sub"`
}

// userProfile answers a consumer's profile: what their latest
// conversation in the account knows of them from its engagement
// attributes (personal, ctmrinfo) and proven identity. The body is the
// consumer's id, a JSON string, as the SDK sends it (or an object with
// consumerId).
func (s *session) userProfile(ctx context.Context, req wire.Frame) (any, func(), error) {
	var id string
	if json.Unmarshal(req.Body, &id) != nil {
		var b struct {
			ConsumerID string `json:"consumerId"`
		}
		if err := wire.DecodeBody(req, &b); err != nil {
			return nil, nil, wire.Errorf("body", "must be the consumer's id, a string")
		}
		id = b.ConsumerID
	}
	if id == "" || len(id) > 64 {
		return nil, nil, wire.Errorf("body", "the consumer's id: required, at most 64 bytes")
	}
	c := s.h.svc.Open(s.account, id)
	if c == nil {
		list, err := s.h.svc.Store().List(ctx, s.account, conversation.Query{ConsumerID: id, Limit: 1})
		if err != nil {
			return nil, nil, err
		}
		if len(list) == 0 {
			return nil, nil, fmt.Errorf("consumer %.64q has no conversation in account %s: %w", id, s.account, conversation.ErrNotFound)
		}
		c = list[0]
	}
	return profileOf(c), nil, nil
}

// profileOf builds a consumer's profile from their conversation. Later
// attributes win; authenticated ones win over the others.
func profileOf(c *conversation.Conversation) profile {
	var p profile
	var pd privateData
	var auth []json.RawMessage
	for _, pass := range []bool{false, true} {
		for _, a := range c.Attributes {
			if a.Authenticated != pass {
				continue
			}
			if pass {
				auth = append(auth, a.Data)
			}
			var d struct {
				Type     string `json:"type"`
				Personal struct {
					FirstName string `json:"firstname"`
					LastName  string `json:"lastname"`
					Contacts  []struct {
						Email string `json:"email"`
						Phone string `json:"phone"`
					} `json:"contacts"`
				} `json:"personal"`
				Info struct {
					CustomerID string `json:"customerId"`
					IMEI       string `json:"imei"`
				} `json:"info"`
			}
			if json.Unmarshal(a.Data, &d) != nil {
				continue
			}
			switch d.Type {
			case "personal":
				set(&p.FirstName, d.Personal.FirstName)
				set(&p.LastName, d.Personal.LastName)
				if len(d.Personal.Contacts) > 0 {
					set(&pd.Email, d.Personal.Contacts[0].Email)
					set(&pd.MobileNum, d.Personal.Contacts[0].Phone)
				}
			case "ctmrinfo":
				set(&pd.UserID, d.Info.CustomerID)
				if pd.MobileNum == "" {
					set(&pd.MobileNum, d.Info.IMEI)
				}
			}
		}
	}
	if pd != (privateData{}) {
		p.PrivateData = &pd
	}
	if len(auth) > 0 {
		p.AuthenticatedData = &sdes{SDEs: auth}
	}
	if c.Identity != nil {
		p.Claims = &claims{Issuer: c.Identity.Issuer, Subject: c.Identity.Subject}
		p.ACR = c.Identity.ACR
	}
	return p
}

func set(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}
