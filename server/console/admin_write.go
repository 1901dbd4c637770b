package console

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// adminWrite sends one admin API write as the session's user and returns to the form's page with
// a message: the API's own words (and field errors) when it refuses.
func (k *Console) adminWrite(c *fiber.Ctx, s *session, method, path string, body any, done string) error {
	back := safeNext(c.FormValue("back", "/admin/users"))
	lang := requestLang(c)
	if err := k.api.send(c, s.Token, method, path, body, nil); err != nil {
		ae, ok := err.(*apiError)
		if !ok || ae.Status >= 500 || ae.Status == fiber.StatusUnauthorized {
			return err
		}
		msg := message(lang, "admin.refused") + ": " + ae.Detail
		for _, fe := range ae.Errors {
			msg += " · " + fe.Field + ": " + fe.Message
		}
		k.flash(c, msg)
		return redirect(c, back)
	}
	k.flash(c, message(lang, done))
	return redirect(c, back)
}

func formValues(c *fiber.Ctx, name string) []string {
	out := []string{}
	for _, v := range c.Context().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	return out
}

func (k *Console) adminCreateUser(c *fiber.Ctx, s *session) error {
	body := map[string]any{"username": strings.TrimSpace(c.FormValue("username")), "name": strings.TrimSpace(c.FormValue("name")),
		"password": c.FormValue("password"), "role": c.FormValue("role"), "kinds": formValues(c, "kinds")}
	if code := strings.TrimSpace(c.FormValue("region_code")); code != "" {
		body["region_code"] = code
	}
	return k.adminWrite(c, s, fiber.MethodPost, "/v1/admin/users", body, "admin.user_created")
}

func (k *Console) adminUpdateUser(c *fiber.Ctx, s *session) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	body := map[string]any{"name": strings.TrimSpace(c.FormValue("name")), "role": c.FormValue("role"),
		"region_code": strings.TrimSpace(c.FormValue("region_code")), "kinds": formValues(c, "kinds"),
		"active": c.FormValue("active") == "true"}
	if pw := c.FormValue("password"); pw != "" {
		body["password"] = pw
	}
	return k.adminWrite(c, s, fiber.MethodPatch, "/v1/admin/users/"+id, body, "admin.user_updated")
}

func (k *Console) adminDisableUser(c *fiber.Ctx, s *session) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	return k.adminWrite(c, s, fiber.MethodPost, "/v1/admin/users/"+id+"/disable", nil, "admin.user_disabled")
}

func (k *Console) adminRevokeDevice(c *fiber.Ctx, s *session) error {
	id := c.Params("id")
	if id == "" || len(id) > 128 {
		return &apiError{Status: fiber.StatusNotFound, Title: "Not found", Detail: "No such device."}
	}
	return k.adminWrite(c, s, fiber.MethodPost, "/v1/admin/devices/"+url.PathEscape(id)+"/revoke", nil, "admin.device_revoked")
}

func (k *Console) adminCreateRegion(c *fiber.Ctx, s *session) error {
	body := map[string]any{"code": strings.TrimSpace(c.FormValue("code")), "name": strings.TrimSpace(c.FormValue("name")),
		"level": c.FormValue("level")}
	if p := strings.TrimSpace(c.FormValue("parent_code")); p != "" {
		body["parent_code"] = p
	}
	return k.adminWrite(c, s, fiber.MethodPost, "/v1/admin/regions", body, "admin.region_created")
}

func (k *Console) adminUpdateRegion(c *fiber.Ctx, s *session) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	body := map[string]any{"name": strings.TrimSpace(c.FormValue("name"))}
	return k.adminWrite(c, s, fiber.MethodPatch, "/v1/admin/regions/"+id, body, "admin.region_updated")
}

// adminCreateSite sends the fields the form filled; the API says which ones a kind needs.
func (k *Console) adminCreateSite(c *fiber.Ctx, s *session) error {
	body := map[string]any{"kind": c.FormValue("kind"), "name": strings.TrimSpace(c.FormValue("name")),
		"region_code": strings.TrimSpace(c.FormValue("region_code"))}
	lat, lerr := strconv.ParseFloat(strings.TrimSpace(c.FormValue("lat")), 64)
	lon, oerr := strconv.ParseFloat(strings.TrimSpace(c.FormValue("lon")), 64)
	if lerr == nil && oerr == nil {
		body["location"] = map[string]float64{"lat": lat, "lon": lon}
	}
	for _, f := range []string{"stage", "crop", "responsible_person", "lead_unit", "responsible_leader"} {
		if v := strings.TrimSpace(c.FormValue(f)); v != "" {
			body[f] = v
		}
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(c.FormValue("planned_area_mu")), 64); err == nil {
		body["planned_area_mu"] = v
	}
	if b := strings.TrimSpace(c.FormValue("boundary")); b != "" {
		if !json.Valid([]byte(b)) {
			k.flash(c, message(requestLang(c), "admin.refused")+": boundary: not JSON")
			return redirect(c, safeNext(c.FormValue("back", "/admin/sites")))
		}
		body["boundary"] = json.RawMessage(b)
	}
	return k.adminWrite(c, s, fiber.MethodPost, "/v1/admin/sites", body, "admin.site_created")
}

func (k *Console) adminArchiveSite(c *fiber.Ctx, s *session) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	return k.adminWrite(c, s, fiber.MethodPost, "/v1/admin/sites/"+id+"/archive", nil, "admin.site_archived")
}
