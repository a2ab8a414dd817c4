package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Service keeps the accounts' definitions in a Store and the decision
// Engine compiled from each account's current ones. Updates go through
// it, so that its engines are never stale; other processes change the
// definitions through the server's admin API.
type Service struct {
	store   Store
	mu      sync.Mutex // serialises updates and engine loads
	engines sync.Map   // account -> *Engine
}

// NewService returns a service over store.
func NewService(store Store) *Service { return &Service{store: store} }

// Definitions returns the definitions of account.
func (s *Service) Definitions(ctx context.Context, account string) (*Definitions, error) {
	return s.store.Load(ctx, account)
}

// Update loads the definitions of account, lets change modify them, and
// stores them once they are valid: objects with ID 0 get the next free
// ID, every object whose content changed (or that is new) gets the next
// revision, and Version grows by one. change's error, a *FieldError or
// ErrConflict is returned as is, and nothing is stored.
func (s *Service) Update(ctx context.Context, account string, change func(d *Definitions) error) (*Definitions, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.store.Load(ctx, account)
	if err != nil {
		return nil, err
	}
	d, err := clone(old)
	if err != nil {
		return nil, err
	}
	if err := change(d); err != nil {
		return nil, err
	}
	d.Version, d.NextID = old.Version+1, max(old.NextID, 1)
	assignIDs(d)
	if err := d.Validate(); err != nil {
		return nil, err
	}
	bumpRevisions(old, d)
	if same(old, d) { // an identical PUT or apply: no new version
		return old, nil
	}
	if err := s.store.Save(ctx, account, d); err != nil {
		return nil, err
	}
	if _, err := s.compile(account, d); err != nil {
		return nil, err
	}
	return d, nil
}

// Engine returns the decision engine of account's current definitions.
func (s *Service) Engine(ctx context.Context, account string) (*Engine, error) {
	if e, ok := s.engines.Load(account); ok {
		return e.(*Engine), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.engines.Load(account); ok {
		return e.(*Engine), nil
	}
	d, err := s.store.Load(ctx, account)
	if err != nil {
		return nil, err
	}
	return s.compile(account, d)
}

// compile compiles d, the definitions of account, into the engine the
// account's decisions use from now on.
func (s *Service) compile(account string, d *Definitions) (*Engine, error) {
	e, err := Compile(d)
	if err != nil {
		return nil, fmt.Errorf("campaign definitions of %s: %w", account, err)
	}
	s.engines.Store(account, e)
	return e, nil
}

// same reports whether a and b define the same, whatever their versions.
func same(a, b *Definitions) bool {
	x, y := *a, *b
	x.Version, y.Version, x.NextID, y.NextID = 0, 0, 0, 0
	ja, _ := json.Marshal(&x)
	jb, _ := json.Marshal(&y)
	return string(ja) == string(jb)
}

func clone(d *Definitions) (*Definitions, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	c := new(Definitions)
	return c, json.Unmarshal(b, c)
}

// assignIDs gives the objects with ID 0 the next IDs, after every ID in
// use.
func assignIDs(d *Definitions) {
	var ids []*int64
	for i := range d.Campaigns {
		c := &d.Campaigns[i]
		ids = append(ids, &c.ID)
		for j := range c.Engagements {
			ids = append(ids, &c.Engagements[j].ID)
		}
	}
	for i := range d.Profiles {
		ids = append(ids, &d.Profiles[i].ID)
	}
	for i := range d.Behaviors {
		ids = append(ids, &d.Behaviors[i].ID)
	}
	for i := range d.Goals {
		ids = append(ids, &d.Goals[i].ID)
	}
	for _, id := range ids {
		d.NextID = max(d.NextID, *id+1)
	}
	for _, id := range ids {
		if *id == 0 {
			*id = d.NextID
			d.NextID++
		}
	}
}

// bumpRevisions sets the revision of every object of d: that of old when
// its content is the same, else one more than old's (1 for a new object).
// A campaign changes when any of its engagements does.
func bumpRevisions(old, d *Definitions) {
	oldEngs := map[int64]*Engagement{}
	oldCampaigns := map[int64]*Campaign{}
	for i := range old.Campaigns {
		c := &old.Campaigns[i]
		oldCampaigns[c.ID] = c
		for j := range c.Engagements {
			oldEngs[c.Engagements[j].ID] = &c.Engagements[j]
		}
	}
	for i := range d.Campaigns {
		c := &d.Campaigns[i]
		for j := range c.Engagements {
			e := &c.Engagements[j]
			e.Revision = revise(oldEngs[e.ID], e, func(e *Engagement) *int64 { return &e.Revision })
		}
		c.Revision = revise(oldCampaigns[c.ID], c, func(c *Campaign) *int64 { return &c.Revision })
	}
	ruleSet := func(rs *RuleSet) (int64, *int64) { return rs.ID, &rs.Revision }
	d.Profiles = reviseAll(old.Profiles, d.Profiles, ruleSet)
	d.Behaviors = reviseAll(old.Behaviors, d.Behaviors, ruleSet)
	d.Goals = reviseAll(old.Goals, d.Goals, func(g *Goal) (int64, *int64) { return g.ID, &g.Revision })
}

func reviseAll[T any](old, cur []T, key func(*T) (int64, *int64)) []T {
	byID := map[int64]*T{}
	for i := range old {
		id, _ := key(&old[i])
		byID[id] = &old[i]
	}
	for i := range cur {
		id, rev := key(&cur[i])
		*rev = revise(byID[id], &cur[i], func(t *T) *int64 { _, r := key(t); return r })
	}
	return cur
}

// revise returns cur's revision: old's if they are equal but for it, else
// old's plus one, 1 when there is no old.
func revise[T any](old, cur *T, rev func(*T) *int64) int64 {
	if old == nil {
		return 1
	}
	was := *rev(old)
	a, b := *old, *cur
	*rev(&a), *rev(&b) = 0, 0
	ja, _ := json.Marshal(&a)
	jb, _ := json.Marshal(&b)
	if string(ja) == string(jb) {
		return was
	}
	return was + 1
}
