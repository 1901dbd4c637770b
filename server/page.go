package server

import (
	"context"
	"sync"

	"github.com/fieldsync/fieldsync/server/cursor"
	"github.com/gofiber/fiber/v2"
)

// Page limits of the lists.
const (
	defaultPageLimit = 100
	maxPageLimit     = 1000
)

// cursorSecret names the server_secrets row holding the key that signs list cursors.
const cursorSecret = "list-cursor-hmac"

// cursorKeys holds the cursor codec once its key has been read from the database.
type cursorKeys struct {
	mu    sync.Mutex
	codec *cursor.Codec
}

// cursorCodec returns the codec of list cursors. Its key lives in PostgreSQL (server_secrets,
// made on first use), so every server process on the database shares it and a restart keeps it.
func (s *Server) cursorCodec(ctx context.Context) (*cursor.Codec, error) {
	s.cursors.mu.Lock()
	defer s.cursors.mu.Unlock()
	if s.cursors.codec != nil {
		return s.cursors.codec, nil
	}
	key, err := s.store.ServerSecret(ctx, cursorSecret, cursor.KeySize)
	if err != nil {
		return nil, err
	}
	codec, err := cursor.New(key)
	if err != nil {
		return nil, err
	}
	s.cursors.codec = codec
	return codec, nil
}

// errBadCursor is the 400 of a cursor the server did not issue for this list and these filters.
func errBadCursor() *Problem {
	p := problem(fiber.StatusBadRequest, "bad-cursor", "Bad cursor",
		"cursor: not one this server issued for this list with these filters; start again without a cursor.")
	p.Extra = map[string]any{"param": "cursor"}
	return p
}

// pager pages one list request: it checked the request's cursor (after is the key it carries, ""
// on the first page) and seals the next page's. Cursors are bound to the route and to the
// request's filters (query.filter), so a cursor continues only the list that issued it.
type pager struct {
	codec        *cursor.Codec
	list, filter string
	limit        int
	after        string
}

// newPager opens q's cursor, if any, for c's route.
func (s *Server) newPager(c *fiber.Ctx, q *query) (*pager, error) {
	codec, err := s.cursorCodec(c.UserContext())
	if err != nil {
		return nil, err
	}
	p := &pager{codec: codec, list: c.Route().Path, filter: q.filter()}
	if v := q.get("cursor"); v != "" {
		if p.after, err = codec.Open(p.list, p.filter, v); err != nil {
			return nil, errBadCursor()
		}
	}
	return p, nil
}

// listQuery reads a list's query string: the filters it names plus limit (1–1000, default 100)
// and cursor.
func (s *Server) listQuery(c *fiber.Ctx, filters ...string) (*query, *pager, error) {
	q, err := readQuery(c, append(filters, "limit", "cursor")...)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.newPager(c, q)
	if err != nil {
		return nil, nil, err
	}
	if p.limit, err = q.limit(defaultPageLimit, maxPageLimit); err != nil {
		return nil, nil, err
	}
	return q, p, nil
}

// trimPage cuts rows fetched with p.limit+1 down to one page and returns the cursor of the next
// page (nil on the last page), sealing key of the page's last row.
func trimPage[T any](p *pager, rows []T, key func(T) string) ([]T, *string) {
	if len(rows) <= p.limit {
		return rows, nil
	}
	rows = rows[:p.limit]
	next := p.codec.Seal(p.list, p.filter, key(rows[p.limit-1]))
	return rows, &next
}
