package sync

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// registerPullTypes registers the record types of protocol v1. Sites, checklists, photos and
// tracks join here as their features land. A bootstrap sends, besides the records in scope, the
// open conflicts the user is party to and the rejections of the pulling app install.
func registerPullTypes(r *Registry) {
	r.Type(PullType{Name: models.TypeRegion, Load: loadRegions, Scan: scanRegions})
	r.Type(PullType{Name: models.TypeUser, Load: loadUsers, Scan: scanUsers})
	r.Type(recordPullType(models.TypeSite))
	r.Type(checklistPullType())
	r.Type(recordPullType(models.TypeVisit))
	r.Type(recordPullType(models.TypeFinding))
	r.Type(recordPullType(models.TypeTrack))
	r.Type(recordPullType(models.TypePhoto))
	r.Type(PullType{Name: models.TypeConflict, Load: loadConflicts, Scan: scanConflicts})
	r.Type(PullType{Name: models.TypeRejection, Load: loadRejections, Scan: scanRejections})
}

func parseIDs(ids []string) []uuid.UUID {
	out := make([]uuid.UUID, 0, len(ids))
	for _, s := range ids {
		if id, err := uuid.Parse(s); err == nil {
			out = append(out, id)
		}
	}
	return out
}

func afterID(s string) uuid.UUID {
	id, _ := uuid.Parse(s)
	return id
}

// RegionData is a region as phones receive it.
type RegionData struct {
	ID       uuid.UUID          `json:"id"`
	Code     string             `json:"code"`
	Name     string             `json:"name"`
	Level    models.RegionLevel `json:"level"`
	ParentID *uuid.UUID         `json:"parent_id"`
	Centre   *models.Point      `json:"centre"`
}

func regionLoaded(r models.Region) Loaded {
	data, _ := json.Marshal(RegionData{ID: r.ID, Code: r.Code, Name: r.Name, Level: r.Level, ParentID: r.ParentID, Centre: r.Centre})
	return Loaded{ID: r.ID.String(), Version: r.UpdatedAt.UnixMicro(), Data: data, RegionPath: r.Path}
}

func loadRegions(ctx context.Context, st *storage.Store, _ uuid.UUID, ids []string) (map[string]Loaded, error) {
	rs, err := st.RegionsByIDs(ctx, parseIDs(ids))
	out := map[string]Loaded{}
	for _, r := range rs {
		out[r.ID.String()] = regionLoaded(r)
	}
	return out, err
}

func scanRegions(ctx context.Context, st *storage.Store, q Query, after string, limit int) ([]Loaded, error) {
	rs, err := st.ScanRegions(ctx, q.Scope, afterID(after), limit)
	out := make([]Loaded, len(rs))
	for i, r := range rs {
		out[i] = regionLoaded(r)
	}
	return out, err
}

// UserData is a user as phones receive it: no password, no audit.
type UserData struct {
	ID       uuid.UUID     `json:"id"`
	Username string        `json:"username"`
	Name     string        `json:"name"`
	Role     models.Role   `json:"role"`
	RegionID *uuid.UUID    `json:"region_id"`
	Kinds    []models.Kind `json:"kinds"`
	Active   bool          `json:"active"`
}

func userLoaded(u storage.ScopedUser) Loaded {
	kinds := u.Kinds
	if kinds == nil {
		kinds = []models.Kind{}
	}
	data, _ := json.Marshal(UserData{ID: u.ID, Username: u.Username, Name: u.Name, Role: u.Role, RegionID: u.RegionID,
		Kinds: kinds, Active: u.Active})
	id := u.ID
	return Loaded{ID: u.ID.String(), Version: u.UpdatedAt.UnixMicro(), Data: data, RegionPath: u.RegionPath, OwnerUser: &id}
}

func loadUsers(ctx context.Context, st *storage.Store, _ uuid.UUID, ids []string) (map[string]Loaded, error) {
	us, err := st.UsersByIDs(ctx, parseIDs(ids))
	out := map[string]Loaded{}
	for _, u := range us {
		out[u.ID.String()] = userLoaded(u)
	}
	return out, err
}

func scanUsers(ctx context.Context, st *storage.Store, q Query, after string, limit int) ([]Loaded, error) {
	us, err := st.ScanUsers(ctx, q.Scope, q.User.ID, afterID(after), limit)
	out := make([]Loaded, len(us))
	for i, u := range us {
		out[i] = userLoaded(u)
	}
	return out, err
}

func recordLoaded(r models.Record) Loaded {
	l := Loaded{ID: r.ID.String(), Version: r.Version, Data: r.Data, RegionPath: r.RegionPath, Kind: r.Kind,
		Deleted: r.DeletedAt != nil}
	if r.Type == models.TypeVisit && !l.Deleted {
		l.Data, l.Withheld = safeVisitData(r.ID, r.Data)
	}
	return l
}

// recordPullType serves a type kept in the records table.
func recordPullType(typ string) PullType {
	return PullType{
		Name: typ,
		Load: func(ctx context.Context, st *storage.Store, _ uuid.UUID, ids []string) (map[string]Loaded, error) {
			m, err := st.GetRecords(ctx, typ, parseIDs(ids))
			out := map[string]Loaded{}
			for id, r := range m {
				out[id.String()] = recordLoaded(r)
			}
			return out, err
		},
		Scan: func(ctx context.Context, st *storage.Store, q Query, after string, limit int) ([]Loaded, error) {
			rs, err := st.ScanRecords(ctx, typ, q.Scope, afterID(after), limit)
			out := make([]Loaded, len(rs))
			for i, r := range rs {
				out[i] = recordLoaded(r)
			}
			return out, err
		},
	}
}

func conflictLoaded(c models.Conflict) Loaded {
	data, withheld := safeConflictData(c)
	version := int64(1)
	if c.ResolvedAt != nil {
		version = 2
	}
	return Loaded{ID: c.ID.String(), Version: version, Data: data, RegionPath: c.RegionPath, Kind: c.Kind, Addressed: true,
		Withheld: withheld}
}

func scanConflicts(ctx context.Context, st *storage.Store, q Query, after string, limit int) ([]Loaded, error) {
	cs, err := st.ScanUserConflicts(ctx, q.User.ID, afterID(after), limit)
	out := make([]Loaded, len(cs))
	for i, c := range cs {
		out[i] = conflictLoaded(c)
	}
	return out, err
}

func scanRejections(ctx context.Context, st *storage.Store, q Query, after string, limit int) ([]Loaded, error) {
	from, _ := strconv.ParseInt(after, 10, 64)
	rs, err := st.ScanRejections(ctx, q.ClientID, from, limit)
	out := make([]Loaded, len(rs))
	for i, r := range rs {
		out[i] = rejectionLoaded(q.ClientID, r.MutationID, r.Name, r.Result)
	}
	return out, err
}

func rejectionLoaded(clientID uuid.UUID, mid int64, name string, res models.MutationResult) Loaded {
	data, _ := json.Marshal(RejectionData{ClientID: clientID, MutationID: mid, Name: name, Error: res.Error})
	id := strconv.FormatInt(mid, 10)
	return Loaded{ID: id, Version: 1, Data: data, Addressed: true}
}

func loadConflicts(ctx context.Context, st *storage.Store, _ uuid.UUID, ids []string) (map[string]Loaded, error) {
	cs, err := st.GetConflicts(ctx, parseIDs(ids))
	out := map[string]Loaded{}
	for id, c := range cs {
		out[id.String()] = conflictLoaded(c)
	}
	return out, err
}

// RejectionData tells a phone that a queued mutation was refused for good, and why.
type RejectionData struct {
	ClientID   uuid.UUID             `json:"client_id"`
	MutationID int64                 `json:"mutation_id"`
	Name       string                `json:"name"`
	Error      *models.MutationError `json:"error"`
}

func loadRejections(ctx context.Context, st *storage.Store, clientID uuid.UUID, ids []string) (map[string]Loaded, error) {
	out := map[string]Loaded{}
	for _, s := range ids {
		mid, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			continue
		}
		res, name, err := st.StoredResult(ctx, clientID, mid)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[s] = rejectionLoaded(clientID, mid, name, res)
	}
	return out, nil
}
