package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sightline/sightline/internal/account"
	"github.com/sightline/sightline/internal/campaign"
	"github.com/sightline/sightline/internal/conversation"
	"github.com/sightline/sightline/internal/conversation/boltstore"
	"github.com/sightline/sightline/internal/identity"
	"github.com/sightline/sightline/internal/messaging"
	"github.com/sightline/sightline/internal/messaging/consumer"
	"github.com/sightline/sightline/internal/messaging/lpagent"
	"github.com/sightline/sightline/internal/user"
)

const (
	conversationsFile = "conversations.db"
	usersDir          = "users"
	agentKeyFile      = "agent-token.key"
)

// ConversationsFile returns the embedded conversation store of a data
// directory.
func ConversationsFile(dataDir string) string { return filepath.Join(dataDir, conversationsFile) }

// UsersDir returns where the users (agents, bots) of a data directory live.
func UsersDir(dataDir string) string { return filepath.Join(dataDir, usersDir) }

// conversations is the conversation side of a server: the store, the
// users who serve conversations, the messaging service, and the
// handlers of the chat window and of LivePerson's agent protocol.
type conversations struct {
	store conversation.Store
	users *user.Store
	svc   *messaging.Service
}

// openConversations opens the conversation store and the users and takes
// the open conversations up again.
func openConversations(ctx context.Context, logger *slog.Logger, cfg Config, campaigns *campaign.Service) (*conversations, error) {
	store, err := boltstore.Open(ConversationsFile(cfg.DataDir))
	if err != nil {
		return nil, fmt.Errorf("cannot open conversations: %w", err)
	}
	users, err := user.OpenStore(logger, UsersDir(cfg.DataDir))
	if err != nil {
		store.Close()
		return nil, err
	}
	mc := cfg.Messaging
	if cfg.Now != nil {
		mc.Now = cfg.Now
	}
	svc := messaging.New(mc, logger.With("component", "messaging"), store, skillsOf(campaigns))
	if err := svc.Resume(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("cannot take open conversations up: %w", err)
	}
	return &conversations{store: store, users: users, svc: svc}, nil
}

// Register adds the routes of the chat window's protocol and of
// LivePerson's agent protocol to mux; the agents' journeys carry the
// pages of visits (nil: none).
func (c *conversations) Register(mux *http.ServeMux, reg prometheus.Registerer, cfg Config, accounts *account.Store,
	campaigns *campaign.Service, devices consumer.Devices, visits lpagent.Visits, logger *slog.Logger) error {
	verifier := identity.NewVerifier(accounts, nil)
	consumer.New(c.svc, accounts, engagementsOf(campaigns), verifier.Identify, devices, logger.With("component", "consumer")).Register(mux)
	key, err := loadSecret(filepath.Join(cfg.DataDir, agentKeyFile), lpagent.MinKeyLen)
	if err != nil {
		return fmt.Errorf("agent token key: %w", err)
	}
	lc := lpagent.DefaultConfig()
	lc.TokenKey, lc.Now = key, cfg.Now
	if u, err := url.Parse(cfg.PublicURL); err == nil && cfg.PublicURL != "" {
		lc.PublicHost = u.Host
	}
	agents, err := lpagent.New(lc, logger.With("component", "lpagent"), reg, c.svc, accounts, c.users)
	if err != nil {
		return err
	}
	if visits != nil {
		agents.UseVisits(visits)
	}
	agents.Register(mux)
	return nil
}

// Close closes the store.
func (c *conversations) Close() error { return c.store.Close() }

// skillsOf lists an account's skills: those its engagements name.
func skillsOf(campaigns *campaign.Service) func(account string) []messaging.Skill {
	return func(account string) []messaging.Skill {
		d, err := campaigns.Definitions(context.Background(), account)
		if err != nil {
			return nil
		}
		var out []messaging.Skill
		seen := map[string]bool{}
		for _, c := range d.Campaigns {
			for _, en := range c.Engagements {
				if en.SkillName == "" || seen[en.SkillName] {
					continue
				}
				seen[en.SkillName] = true
				out = append(out, messaging.Skill{ID: int64(en.SkillID), Name: en.SkillName})
			}
		}
		return out
	}
}

// engagementsOf looks an engagement that starts conversations up in an
// account's campaigns.
func engagementsOf(campaigns *campaign.Service) consumer.Engagements {
	return func(ctx context.Context, account string, campaignID, engagementID int64) (consumer.Engagement, error) {
		d, err := campaigns.Definitions(ctx, account)
		if err != nil {
			return consumer.Engagement{}, err
		}
		for _, c := range d.Campaigns {
			if c.ID != campaignID {
				continue
			}
			for _, en := range c.Engagements {
				if en.ID != engagementID {
					continue
				}
				if en.Interaction != "chat" && en.Interaction != "messaging" {
					return consumer.Engagement{}, fmt.Errorf("engagement %d of campaign %d is %q, not chat or messaging", engagementID, campaignID, en.Interaction)
				}
				out := consumer.Engagement{SkillID: int64(en.SkillID), SkillName: en.SkillName, Campaign: conversation.Campaign{
					CampaignID: strconv.FormatInt(c.ID, 10), CampaignName: c.Name, EngagementID: strconv.FormatInt(en.ID, 10),
					EngagementName: en.Name, GoalID: strconv.FormatInt(c.GoalID, 10), Source: "WEB_SITE"}}
				for _, g := range d.Goals {
					if g.ID == c.GoalID {
						out.Campaign.GoalName = g.Name
					}
				}
				return out, nil
			}
		}
		return consumer.Engagement{}, fmt.Errorf("no engagement %d in campaign %d", engagementID, campaignID)
	}
}
