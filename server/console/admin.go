package console

import (
	"net/url"

	"github.com/gofiber/fiber/v2"
)

// The admin pages list and change users, devices, regions and sites through the admin API
// (/v1/admin/...): its role check, validation, audit and synced writes are the only ones.

type adminUser struct {
	ID       string   `json:"id"`
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	RegionID *string  `json:"region_id"`
	Kinds    []string `json:"kinds"`
	Active   bool     `json:"active"`
}

type adminDevice struct {
	ID         string  `json:"id"`
	UserID     string  `json:"user_id"`
	Name       string  `json:"name"`
	Platform   string  `json:"platform"`
	AppVersion string  `json:"app_version"`
	FirstSeen  string  `json:"first_seen"`
	LastSeen   string  `json:"last_seen"`
	Revoked    bool    `json:"revoked"`
	RevokedAt  *string `json:"revoked_at"`
}

type adminSite struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	RegionID string `json:"region_id"`
	Location *struct {
		Lat float64 `json:"lat"`
		Lon float64 `json:"lon"`
	} `json:"location"`
	Status     string  `json:"status"`
	ArchivedAt *string `json:"archived_at"`
}

// adminData feeds every admin page: the list, the next page, names for ids, and the form's last error.
type adminData struct {
	Tab     string
	Q       url.Values
	Users   []adminUser
	Devices []adminDevice
	Regions []region
	Sites   []adminSite
	Next    string
	First   string
	Back    string
	Names   map[string]string // region id → name, user id → username
	Kinds   []string
	Roles   []string
}

var roles = []string{"inspector", "township_officer", "department", "supervisor", "admin"}

func (k *Console) adminHome(c *fiber.Ctx, _ *session) error {
	return c.Redirect("/admin/users", fiber.StatusSeeOther)
}

// adminList reads one page of an admin list (path with this request's query string) into out and
// fills the pager.
func (k *Console) adminList(c *fiber.Ctx, s *session, tab, path string, out any, next **string) (adminData, error) {
	raw := string(c.Request().URI().QueryString())
	q, _ := url.ParseQuery(raw)
	d := adminData{Tab: tab, Q: q, Back: "/admin/" + tab + encodeRaw(raw), Names: map[string]string{}, Kinds: kinds, Roles: roles}
	if err := k.api.getRaw(c, s.Token, path+encodeRaw(raw), out); err != nil {
		return d, err
	}
	if *next != nil {
		d.Next = withParam(raw, "cursor", **next)
	}
	if q.Get("cursor") != "" {
		if d.First = withParam(raw, "cursor", ""); d.First == "" {
			d.First = "?"
		}
	}
	var regions struct {
		Regions []region `json:"regions"`
	}
	if err := k.api.getJSON(c, s.Token, "/v1/admin/regions", url.Values{"max_level": {"township"}}, &regions); err != nil {
		return d, err
	}
	d.Regions = regions.Regions
	for _, r := range regions.Regions {
		d.Names[r.ID] = r.Name
	}
	return d, nil
}

func (k *Console) adminUsers(c *fiber.Ctx, s *session) error {
	var page struct {
		Users      []adminUser `json:"users"`
		NextCursor *string     `json:"next_cursor"`
	}
	d, err := k.adminList(c, s, "users", "/v1/admin/users", &page, &page.NextCursor)
	if err != nil {
		return err
	}
	d.Users = page.Users
	return k.render(c, s, "admin", "admin", d)
}

func (k *Console) adminDevices(c *fiber.Ctx, s *session) error {
	var page struct {
		Devices    []adminDevice `json:"devices"`
		NextCursor *string       `json:"next_cursor"`
	}
	d, err := k.adminList(c, s, "devices", "/v1/admin/devices", &page, &page.NextCursor)
	if err != nil {
		return err
	}
	d.Devices = page.Devices
	var users struct {
		Users []adminUser `json:"users"`
	}
	if err := k.api.getJSON(c, s.Token, "/v1/admin/users", url.Values{"limit": {"1000"}}, &users); err != nil {
		return err
	}
	for _, u := range users.Users {
		d.Names[u.ID] = u.Username
	}
	return k.render(c, s, "admin", "admin", d)
}

func (k *Console) adminRegions(c *fiber.Ctx, s *session) error {
	var none *string
	var all struct {
		Regions []region `json:"regions"`
	}
	d, err := k.adminList(c, s, "regions", "/v1/admin/regions", &all, &none)
	if err != nil {
		return err
	}
	d.Regions = all.Regions
	for _, r := range all.Regions {
		d.Names[r.ID] = r.Name
	}
	return k.render(c, s, "admin", "admin", d)
}

func (k *Console) adminSites(c *fiber.Ctx, s *session) error {
	var page struct {
		Sites      []adminSite `json:"sites"`
		NextCursor *string     `json:"next_cursor"`
	}
	d, err := k.adminList(c, s, "sites", "/v1/admin/sites", &page, &page.NextCursor)
	if err != nil {
		return err
	}
	d.Sites = page.Sites
	return k.render(c, s, "admin", "admin", d)
}
