package models

import (
	"strings"
	"testing"
	"time"
)

func TestDeadlineLight(t *testing.T) {
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const deadline = "2026-04-01"
	cases := []struct {
		name, deadline, status, now string
		light                       string
		overdue                     bool
	}{
		{"5 days left", deadline, FindingOpen, "2026-03-27T09:00:00+08:00", LightGreen, false},
		{"4 days left", deadline, FindingOpen, "2026-03-28T09:00:00+08:00", LightGreen, false},
		{"4 days left, last second", deadline, FindingRectifying, "2026-03-28T23:59:59+08:00", LightGreen, false},
		{"3 days left, first second", deadline, FindingRectifying, "2026-03-29T00:00:00+08:00", LightYellow, false},
		{"3 days left, given in UTC", deadline, FindingOpen, "2026-03-28T16:00:00Z", LightYellow, false},
		{"1 day left", deadline, FindingOpen, "2026-03-31T12:00:00+08:00", LightYellow, false},
		{"same day, morning", deadline, FindingOpen, "2026-04-01T00:00:00+08:00", LightYellow, false},
		{"same day, last second", deadline, FindingOpen, "2026-04-01T23:59:59+08:00", LightYellow, false},
		{"same day, last second in UTC", deadline, FindingOpen, "2026-04-01T15:59:59Z", LightYellow, false},
		{"overdue from midnight CST", deadline, FindingOpen, "2026-04-02T00:00:00+08:00", LightRed, true},
		{"overdue from midnight CST, given in UTC", deadline, FindingOpen, "2026-04-01T16:00:00Z", LightRed, true},
		{"overdue by one day", deadline, FindingRectifying, "2026-04-02T12:00:00+08:00", LightRed, true},
		{"overdue by a month", deadline, FindingOpen, "2026-05-02T12:00:00+08:00", LightRed, true},
		{"awaiting re-check past the deadline", deadline, FindingAwaitingRecheck, "2026-04-03T12:00:00+08:00", LightRed, true},
		{"closed before the deadline", deadline, FindingClosed, "2026-03-20T12:00:00+08:00", LightNone, false},
		{"closed after the deadline", deadline, FindingClosed, "2026-04-03T12:00:00+08:00", LightNone, false},
		{"no deadline", "", FindingOpen, "2026-04-03T12:00:00+08:00", LightNone, false},
		{"unreadable deadline", "01/04/2026", FindingOpen, "2026-04-03T12:00:00+08:00", LightNone, false},
	}
	for _, c := range cases {
		light, overdue := DeadlineLight(c.deadline, c.status, at(c.now))
		if light != c.light || overdue != c.overdue {
			t.Errorf("%s: DeadlineLight(%q, %s, %s) = %s, %v; want %s, %v", c.name, c.deadline, c.status, c.now,
				light, overdue, c.light, c.overdue)
		}
	}
}

func TestFindingTransition(t *testing.T) {
	statuses := []string{FindingOpen, FindingRectifying, FindingAwaitingRecheck, FindingClosed}
	legal := map[string]string{ // step/passed/from → to; every other combination is illegal
		"start/false/open":               "rectifying",
		"rectify/false/open":             "awaiting_recheck",
		"rectify/false/rectifying":       "awaiting_recheck",
		"recheck/true/awaiting_recheck":  "closed",
		"recheck/false/awaiting_recheck": "rectifying",
		"start/true/open":                "rectifying", // passed means nothing outside recheck
		"rectify/true/open":              "awaiting_recheck",
		"rectify/true/rectifying":        "awaiting_recheck",
	}
	for _, step := range []string{FindingStepStart, FindingStepRectify, FindingStepRecheck} {
		for _, passed := range []bool{false, true} {
			for _, from := range statuses {
				key := step + "/" + map[bool]string{false: "false", true: "true"}[passed] + "/" + from
				to, err := FindingTransition(step, from, passed)
				want, ok := legal[key]
				switch {
				case ok && (err != nil || to != want):
					t.Errorf("%s: got %q, %v; want %s", key, to, err, want)
				case !ok && err == nil:
					t.Errorf("%s: legal (to %s), want illegal", key, to)
				case !ok && !strings.Contains(err.Error(), from+" → "+to):
					t.Errorf("%s: message %q does not name the transition", key, err)
				}
			}
		}
	}
	if _, err := FindingTransition(FindingStepCreate, FindingOpen, false); err == nil {
		t.Error("create is not a transition")
	}
}

func TestFindingStepRoles(t *testing.T) {
	want := map[Role][3]bool{ // start, rectify, recheck
		RoleInspector:       {false, false, false},
		RoleTownshipOfficer: {true, true, false},
		RoleDepartment:      {true, true, false},
		RoleSupervisor:      {true, true, true},
		RoleAdmin:           {false, false, false},
	}
	for role, w := range want {
		for i, step := range []string{FindingStepStart, FindingStepRectify, FindingStepRecheck} {
			if got := MayTakeFindingStep(role, step); got != w[i] {
				t.Errorf("%s %s: %v, want %v", role, step, got, w[i])
			}
		}
	}
}
