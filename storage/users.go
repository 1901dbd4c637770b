package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

type userRow struct {
	ID           uuid.UUID
	Username     string
	Name         string
	PasswordHash string
	Role         string
	RegionID     uuid.NullUUID
	Kinds        []byte
	Active       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (r userRow) model() models.User {
	u := models.User{ID: r.ID, Username: r.Username, Name: r.Name, PasswordHash: r.PasswordHash,
		Role: models.Role(r.Role), Active: r.Active, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if r.RegionID.Valid {
		id := r.RegionID.UUID
		u.RegionID = &id
	}
	_ = json.Unmarshal(r.Kinds, &u.Kinds)
	if u.Kinds == nil {
		u.Kinds = []models.Kind{}
	}
	return u
}

const userCols = `id, username, name, password_hash, role, region_id, kinds, active, created_at, updated_at`

func kindsJSON(k []models.Kind) string {
	if k == nil {
		k = []models.Kind{}
	}
	b, _ := json.Marshal(k)
	return string(b)
}

// CreateUser inserts u (ID filled when zero). A taken username is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *models.User) error {
	if u.ID == uuid.Nil {
		u.ID = uuid.New()
	}
	var row userRow
	err := s.q(ctx).Raw(`INSERT INTO users (id, username, name, password_hash, role, region_id, kinds, active)
		VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?) RETURNING `+userCols,
		u.ID, u.Username, u.Name, u.PasswordHash, string(u.Role), u.RegionID, kindsJSON(u.Kinds), u.Active).Scan(&row).Error
	if err != nil {
		return fmt.Errorf("storage: create user: %w", classify(err))
	}
	*u = row.model()
	return nil
}

func (s *Store) getUser(ctx context.Context, where string, arg any) (models.User, error) {
	var rows []userRow
	if err := s.q(ctx).Raw(`SELECT `+userCols+` FROM users WHERE `+where, arg).Scan(&rows).Error; err != nil {
		return models.User{}, fmt.Errorf("storage: get user: %w", classify(err))
	}
	if len(rows) == 0 {
		return models.User{}, fmt.Errorf("storage: user %v: %w", arg, ErrNotFound)
	}
	return rows[0].model(), nil
}

// GetUser loads a user by id.
func (s *Store) GetUser(ctx context.Context, id uuid.UUID) (models.User, error) {
	return s.getUser(ctx, "id = ?", id)
}

// GetUserByUsername loads a user by (normalised) username.
func (s *Store) GetUserByUsername(ctx context.Context, username string) (models.User, error) {
	return s.getUser(ctx, "username = ?", models.NormalizeUsername(username))
}

// UserFilter narrows ListUsers. After is the last username of the previous page.
type UserFilter struct {
	Role   models.Role
	Active *bool
	Scope  models.Scope // users whose region lies inside the scope (whole-city users only for a whole-city scope)
	Query  string       // substring of username or name
	After  string
	Limit  int
}

// ListUsers returns one page of users ordered by username.
func (s *Store) ListUsers(ctx context.Context, f UserFilter) ([]models.User, error) {
	conds, args := []string{"TRUE"}, []any{}
	if f.Role != "" {
		conds, args = append(conds, "u.role = ?"), append(args, string(f.Role))
	}
	if f.Active != nil {
		conds, args = append(conds, "u.active = ?"), append(args, *f.Active)
	}
	if f.Scope.RegionPath != "" {
		clause, a := RegionScopeClause(f.Scope, "r.path")
		conds, args = append(conds, clause), append(args, a...)
	}
	if f.Query != "" {
		conds = append(conds, "(u.username LIKE ? ESCAPE '\\' OR u.name LIKE ? ESCAPE '\\')")
		p := "%" + strings.TrimSuffix(likePrefix(f.Query), "%") + "%"
		args = append(args, p, p)
	}
	if f.After != "" {
		conds, args = append(conds, "u.username > ?"), append(args, f.After)
	}
	args = append(args, f.Limit)
	cols := "u." + strings.ReplaceAll(userCols, ", ", ", u.")
	var rows []userRow
	err := s.q(ctx).Raw(`SELECT `+cols+` FROM users u LEFT JOIN regions r ON r.id = u.region_id
		WHERE `+strings.Join(conds, " AND ")+` ORDER BY u.username LIMIT ?`, args...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("storage: list users: %w", classify(err))
	}
	out := make([]models.User, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// UserPatch names the fields UpdateUser changes; nil leaves a field alone.
type UserPatch struct {
	Name         *string
	Role         *models.Role
	RegionID     *uuid.UUID
	WholeCity    bool // set region to none (whole city)
	Kinds        *[]models.Kind
	Active       *bool
	PasswordHash *string
}

// UpdateUser applies p to user id and returns the user as stored. It writes the users row only:
// the rules around it (the last admin, ending sessions, the change log) are the caller's.
func (s *Store) UpdateUser(ctx context.Context, id uuid.UUID, p UserPatch) (models.User, error) {
	sets, args := []string{"updated_at = now()"}, []any{}
	if p.Name != nil {
		sets, args = append(sets, "name = ?"), append(args, *p.Name)
	}
	if p.Role != nil {
		sets, args = append(sets, "role = ?"), append(args, string(*p.Role))
	}
	if p.WholeCity {
		sets = append(sets, "region_id = NULL")
	} else if p.RegionID != nil {
		sets, args = append(sets, "region_id = ?"), append(args, *p.RegionID)
	}
	if p.Kinds != nil {
		sets, args = append(sets, "kinds = ?::jsonb"), append(args, kindsJSON(*p.Kinds))
	}
	if p.Active != nil {
		sets, args = append(sets, "active = ?"), append(args, *p.Active)
	}
	if p.PasswordHash != nil {
		sets, args = append(sets, "password_hash = ?"), append(args, *p.PasswordHash)
	}
	args = append(args, id)
	res := s.q(ctx).Exec(`UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = ?`, args...)
	if res.Error != nil {
		return models.User{}, fmt.Errorf("storage: update user: %w", classify(res.Error))
	}
	if res.RowsAffected == 0 {
		return models.User{}, fmt.Errorf("storage: user %s: %w", id, ErrNotFound)
	}
	return s.GetUser(ctx, id)
}

// CountActiveAdmins returns how many active users have the admin role.
func (s *Store) CountActiveAdmins(ctx context.Context) (int64, error) {
	var n int64
	if err := s.q(ctx).Raw(`SELECT count(*) FROM users WHERE role = 'admin' AND active`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("storage: count admins: %w", classify(err))
	}
	return n, nil
}

// UserScope computes a user's scope from their assignment.
func (s *Store) UserScope(ctx context.Context, u models.User) (models.Scope, error) {
	sc := models.Scope{RegionID: u.RegionID, Kinds: u.Kinds}
	if u.RegionID != nil {
		r, err := s.GetRegion(ctx, *u.RegionID)
		if err != nil {
			return models.Scope{}, err
		}
		sc.RegionPath = r.Path
	}
	return sc, nil
}

// CountUsers returns how many users exist (the server loads the demo city into an empty database).
func (s *Store) CountUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.q(ctx).Raw(`SELECT count(*) FROM users`).Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("storage: count users: %w", classify(err))
	}
	return n, nil
}

// ScopedUser is a user as phones see them, with the path of their region ("" = whole city).
type ScopedUser struct {
	models.User
	RegionPath string
}

const scopedUserCols = `u.id, u.username, u.name, u.role, u.region_id, u.kinds, u.active, u.created_at, u.updated_at,
	coalesce(r.path, '') AS region_path`

type scopedUserRow struct {
	ID         uuid.UUID
	Username   string
	Name       string
	Role       string
	RegionID   uuid.NullUUID
	Kinds      []byte
	Active     bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
	RegionPath string
}

func (r scopedUserRow) model() ScopedUser {
	u := userRow{ID: r.ID, Username: r.Username, Name: r.Name, Role: r.Role, RegionID: r.RegionID, Kinds: r.Kinds,
		Active: r.Active, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}.model()
	return ScopedUser{User: u, RegionPath: r.RegionPath}
}

// UsersByIDs loads users with their region paths (no password hashes).
func (s *Store) UsersByIDs(ctx context.Context, ids []uuid.UUID) ([]ScopedUser, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []scopedUserRow
	if err := s.q(ctx).Raw(`SELECT `+scopedUserCols+` FROM users u LEFT JOIN regions r ON r.id = u.region_id
		WHERE u.id IN ?`, ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: users by id: %w", classify(err))
	}
	out := make([]ScopedUser, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// ScanUsers returns one bootstrap page of the users a phone may know: those assigned inside the
// scope (every user for a whole-city scope) and the caller, ordered by id after after.
func (s *Store) ScanUsers(ctx context.Context, scope models.Scope, self, after uuid.UUID, limit int) ([]ScopedUser, error) {
	var rows []scopedUserRow
	if err := s.q(ctx).Raw(`SELECT `+scopedUserCols+` FROM users u LEFT JOIN regions r ON r.id = u.region_id
		WHERE u.id > ? AND (u.id = ? OR ? = '' OR r.path LIKE ? ESCAPE '\') ORDER BY u.id LIMIT ?`,
		after, self, scope.RegionPath, likePrefix(scope.RegionPath), limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("storage: scan users: %w", classify(err))
	}
	out := make([]ScopedUser, len(rows))
	for i, r := range rows {
		out[i] = r.model()
	}
	return out, nil
}

// UserRegionPath returns the path of a user's region ("" = whole city).
func (s *Store) UserRegionPath(ctx context.Context, id uuid.UUID) (string, error) {
	us, err := s.UsersByIDs(ctx, []uuid.UUID{id})
	if err != nil {
		return "", err
	}
	if len(us) == 0 {
		return "", fmt.Errorf("storage: user %s: %w", id, ErrNotFound)
	}
	return us[0].RegionPath, nil
}
