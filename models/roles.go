// Package models holds fieldsync's domain types and rules: roles, kinds of field work, scopes,
// regions, users, devices and their validation. It imports no other package of the project.
package models

import "slices"

// Role is what a user does in the organisation; it decides what they may write and read.
type Role string

// The five roles of DOMAIN.md.
const (
	RoleInspector       Role = "inspector"
	RoleTownshipOfficer Role = "township_officer"
	RoleDepartment      Role = "department"
	RoleSupervisor      Role = "supervisor"
	RoleAdmin           Role = "admin"
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleInspector, RoleTownshipOfficer, RoleDepartment, RoleSupervisor, RoleAdmin}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Kind is one of the four kinds of field work.
type Kind string

// The four kinds of field work of DOMAIN.md.
const (
	KindProjectVisit   Kind = "project_visit"
	KindPlantingCheck  Kind = "planting_check"
	KindFirePatrol     Kind = "fire_patrol"
	KindAgriInputCheck Kind = "agri_input_check"
)

// Kinds lists every kind of field work in a stable order.
var Kinds = []Kind{KindProjectVisit, KindPlantingCheck, KindFirePatrol, KindAgriInputCheck}

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }
