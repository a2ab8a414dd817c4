package admin

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sightline/sightline/internal/campaign"
)

// collection serves a list of objects of type T in the definitions:
// campaigns, a campaign's engagements, profiles, behaviors or goals.
type collection[T any] struct {
	h    *Handler
	what string // what an object is, for messages: "campaign"
	// idParam is the path parameter of an object's ID.
	idParam string
	// items returns the list in d that the request is about.
	items func(d *campaign.Definitions, r *http.Request) (*[]T, error)
	// meta returns an object's ID, to set, and its revision.
	meta func(*T) (id *int64, revision int64)
}

// registerCollection adds the routes of c below path.
func registerCollection[T any](route func(string, handlerFunc), path, idParam string, c collection[T]) {
	c.idParam = idParam
	item := path + "/{" + idParam + "}"
	route("GET "+path, c.list)
	route("POST "+path, c.create)
	route("GET "+item, c.get)
	route("PUT "+item, c.replace)
	route("DELETE "+item, c.remove)
}

func (c collection[T]) id(t *T) int64 {
	id, _ := c.meta(t)
	return *id
}

func (c collection[T]) revision(t *T) int64 {
	_, rev := c.meta(t)
	return rev
}

// find returns the index of the request's object in d's list.
func (c collection[T]) find(d *campaign.Definitions, r *http.Request) (*[]T, int, error) {
	items, err := c.items(d, r)
	if err != nil {
		return nil, 0, err
	}
	i, err := c.index(*items, r)
	return items, i, err
}

// index returns the index of the request's object in items.
func (c collection[T]) index(items []T, r *http.Request) (int, error) {
	id, err := pathID(r, c.idParam, c.what)
	if err != nil {
		return 0, err
	}
	i := slices.IndexFunc(items, func(t T) bool { return c.id(&t) == id })
	if i < 0 {
		return 0, notFound("no %s %d", c.what, id)
	}
	return i, nil
}

// store updates the definitions with change, which adds or replaces an
// object of the request's list and returns its index, and returns the
// object as stored: Update assigns IDs and revisions in place, keeping the
// order.
func (c collection[T]) store(r *http.Request, account string, change func(items *[]T) (int, error)) (*T, error) {
	var index int
	d, err := c.h.update(r, account, func(d *campaign.Definitions) error {
		items, err := c.items(d, r)
		if err != nil {
			return err
		}
		index, err = change(items)
		return err
	})
	if err != nil {
		return nil, err
	}
	items, err := c.items(d, r)
	if err != nil {
		return nil, err
	}
	return &(*items)[index], nil
}

func (c collection[T]) list(w http.ResponseWriter, r *http.Request, account string) error {
	d, err := c.h.defs.Definitions(r.Context(), account)
	if err != nil {
		return err
	}
	items, err := c.items(d, r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, "", nonNil(*items))
	return nil
}

func (c collection[T]) get(w http.ResponseWriter, r *http.Request, account string) error {
	d, err := c.h.defs.Definitions(r.Context(), account)
	if err != nil {
		return err
	}
	items, i, err := c.find(d, r)
	if err != nil {
		return err
	}
	t := &(*items)[i]
	writeJSON(w, http.StatusOK, etag(c.revision(t)), t)
	return nil
}

// create adds the body's object. Its id is 0 (or absent) for the next
// free one, or a positive one no object has.
func (c collection[T]) create(w http.ResponseWriter, r *http.Request, account string) error {
	var t T
	if err := decode(w, r, &t); err != nil {
		return err
	}
	stored, err := c.store(r, account, func(items *[]T) (int, error) {
		*items = append(*items, t)
		return len(*items) - 1, nil
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+strconv.FormatInt(c.id(stored), 10))
	writeJSON(w, http.StatusCreated, etag(c.revision(stored)), stored)
	return nil
}

// replace replaces the object with the body's, whose id is the path's or
// absent. Its revision grows only if its content changed.
func (c collection[T]) replace(w http.ResponseWriter, r *http.Request, account string) error {
	id, err := pathID(r, c.idParam, c.what)
	if err != nil {
		return err
	}
	var t T
	if err := decode(w, r, &t); err != nil {
		return err
	}
	p, _ := c.meta(&t)
	if *p != 0 && *p != id {
		return &campaign.FieldError{Field: "id", Msg: fmt.Sprintf("%d is not the %s's id %d in the path (leave it out)", *p, c.what, id)}
	}
	*p = id
	stored, err := c.store(r, account, func(items *[]T) (int, error) {
		i, err := c.index(*items, r)
		if err != nil {
			return 0, err
		}
		if err := checkIfMatch(r, c.revision(&(*items)[i]), fmt.Sprintf("%s %d", c.what, id)); err != nil {
			return 0, err
		}
		(*items)[i] = t
		return i, nil
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, etag(c.revision(stored)), stored)
	return nil
}

// remove deletes the object: it fails validation while other definitions
// refer to it.
func (c collection[T]) remove(w http.ResponseWriter, r *http.Request, account string) error {
	_, err := c.h.update(r, account, func(d *campaign.Definitions) error {
		items, i, err := c.find(d, r)
		if err != nil {
			return err
		}
		if err := checkIfMatch(r, c.revision(&(*items)[i]), fmt.Sprintf("%s %s", c.what, r.PathValue(c.idParam))); err != nil {
			return err
		}
		*items = slices.Delete(*items, i, i+1)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
