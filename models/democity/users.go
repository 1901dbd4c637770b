package democity

import "strings"

// The roles of DOMAIN.md (models.Role values), as the demo users carry them.
const (
	roleInspector       = "inspector"
	roleTownshipOfficer = "township_officer"
	roleDepartment      = "department"
	roleSupervisor      = "supervisor"
	roleAdmin           = "admin"
)

// The kinds of field work of DOMAIN.md (models.Kind values), as the demo users carry them.
const (
	kindProjectVisit   = "project_visit"
	kindPlantingCheck  = "planting_check"
	kindFirePatrol     = "fire_patrol"
	kindAgriInputCheck = "agri_input_check"
)

// User is one demo login. The password is public by design: the server prints it at start so that a
// demo can sign in; it must never be used outside a demo.
type User struct {
	Username   string   // ascii, unique, stable
	Name       string   // Chinese person name
	Password   string   // demo password, deterministic, at least 10 characters
	Role       string   // "inspector" | "township_officer" | "department" | "supervisor" | "admin"
	RegionCode string   // "" = whole city; otherwise a code from Regions()
	Kinds      []string // subset of the four kinds; nil = all kinds
	Note       string   // one line in English saying what this login is for
}

// Users returns the demo logins: at least one per role, each scoped as a real deployment would scope
// that person. Region codes all exist in Regions(). The order and content are the same on every call.
func Users() []User {
	users := []User{
		{
			Username: "admin", Name: "赵立新", Role: roleAdmin,
			Note: "System administrator: manages users, regions, sites and checklists; sees everything.",
		},
		{
			Username: "supervisor", Name: "孙志刚", Role: roleSupervisor,
			Note: "City supervision office (市政府督查室): reviews, re-checks and closes findings city-wide.",
		},
		{
			Username: "supervisor.qinghe", Name: "周海峰", Role: roleSupervisor, RegionCode: "211521",
			Note: "Qinghe county (青河县) supervision office: reviews and closes findings in its county.",
		},
		{
			Username: "inspector", Name: "李明", Role: roleInspector,
			Note: "City inspector: all four kinds of field work anywhere in the city.",
		},
		{
			Username: "inspector.jianan", Name: "王建军", Role: roleInspector, RegionCode: "211523",
			Kinds: []string{kindProjectVisit},
			Note:  "Key-project inspector for Jian'an county (建安县) only: on-site project visits.",
		},
		{
			Username: "ranger.dongsheng", Name: "包金山", Role: roleTownshipOfficer, RegionCode: "211522105",
			Kinds: []string{kindFirePatrol, kindPlantingCheck},
			Note:  "Forest ranger of Dongsheng town (东升镇, 康北县): fire patrols with GPS track, planting checks.",
		},
		{
			Username: "dept.market", Name: "刘淑英", Role: roleDepartment,
			Kinds: []string{kindAgriInputCheck},
			Note:  "Market supervision bureau (市场监管局): agricultural input checks (农资打假) city-wide.",
		},
		{
			Username: "dept.agri", Name: "韩国庆", Role: roleDepartment,
			Kinds: []string{kindPlantingCheck, kindAgriInputCheck},
			Note:  "Agriculture and rural affairs bureau (农业农村局): planting and agri-input checks city-wide.",
		},
		{
			Username: "dept.drc", Name: "陈晓东", Role: roleDepartment,
			Kinds: []string{kindProjectVisit},
			Note:  "Development and reform commission (发改委): key-project visits city-wide.",
		},
	}
	for i := range users {
		users[i].Password = demoPassword(users[i].Username)
	}
	return users
}

// demoPassword derives the printed demo password from a username: "ranger.dongsheng" gives
// "demo-ranger-dongsheng-2026".
func demoPassword(username string) string {
	return "demo-" + strings.ReplaceAll(username, ".", "-") + "-2026"
}
