package sync

import (
	"github.com/fieldsync/fieldsync/models"
	"github.com/google/uuid"
)

// Actor is who pushes, pulls or administers: the user, their scope, their device and the address
// the request came from (for the audit log).
type Actor struct {
	User     models.User
	Scope    models.Scope
	DeviceID string
	IP       string
}

// CLIActor is the admin command line (fieldsync user add, device revoke, ...): no user, whole-city
// scope and admin rights; its audit lines say device "cli" and address "local".
func CLIActor() Actor { return systemActor("cli", "local") }

// SystemActor is the server acting on its own behalf (loading the demo city, the janitor): no
// user, device or address, whole-city scope and admin rights.
func SystemActor() Actor { return systemActor("", "") }

func systemActor(device, ip string) Actor {
	return Actor{User: models.User{Role: models.RoleAdmin, Active: true}, DeviceID: device, IP: ip}
}

// auditEntry is an audit line for an action by the actor (no user id for the command line and
// the system).
func (a Actor) auditEntry(action, targetType, targetID string, details map[string]any) models.AuditEntry {
	e := models.AuditEntry{DeviceID: a.DeviceID, IP: a.IP, Action: action, TargetType: targetType, TargetID: targetID,
		Details: details}
	if a.User.ID != uuid.Nil {
		id := a.User.ID
		e.UserID = &id
	}
	return e
}

// errNotAdmin refuses an administrative operation to every role but admin.
var errNotAdmin = models.Forbidden("", "Your role may not use this endpoint.")

// adminScope checks that the actor may administer (the admin role) and returns the scope an
// admin writes in: the whole city, whatever the admin's own assignment (DOMAIN.md: admins manage
// users, regions, sites and checklists everywhere). Every administrative write checks the places
// it touches against this scope with models.Scope, as pushes check theirs.
func adminScope(a Actor) (models.Scope, error) {
	if a.User.Role != models.RoleAdmin {
		return models.Scope{}, errNotAdmin
	}
	return models.Scope{}, nil
}

// checkRegionInScope refuses a write that places something in a region outside scope.
func checkRegionInScope(scope models.Scope, field string, r *models.Region) error {
	if r != nil && !scope.CoversRegion(r.Path) {
		return models.OutOfScope(field, "this region is outside your scope")
	}
	return nil
}
