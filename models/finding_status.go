package models

import (
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
)

// The steps of a finding's life, as its history names them. create makes it open; start, rectify
// and recheck are the mutations finding.start, finding.rectify and finding.recheck.
const (
	FindingStepCreate  = "create"
	FindingStepStart   = "start"
	FindingStepRectify = "rectify"
	FindingStepRecheck = "recheck"
)

// Limits of the rectification steps.
const (
	MaxFindingPhotos = 50 // photo ids named by one rectification
)

// FindingEvent is one entry of a finding's history: who took which step, from which status to
// which, when (server time and the phone's clock) and with what evidence. Creation is the first
// entry (From empty). Entries are only ever appended, so every earlier rectification attempt stays
// visible after a failed re-check.
type FindingEvent struct {
	Step        string      `json:"step"`
	From        string      `json:"from,omitempty"`
	To          string      `json:"to"`
	By          uuid.UUID   `json:"by"`
	Device      string      `json:"device"`
	At          time.Time   `json:"at"`
	ClientTime  *time.Time  `json:"client_time,omitempty"`
	Notes       string      `json:"notes,omitempty"`
	PhotoIDs    []uuid.UUID `json:"photo_ids,omitempty"`
	Passed      *bool       `json:"passed,omitempty"`       // recheck only
	Attempt     int         `json:"attempt,omitempty"`      // rectify and recheck: which rectification attempt
	RectifiedAt *time.Time  `json:"rectified_at,omitempty"` // rectify: when the unit says it finished (phone clock)
	CheckedAt   *time.Time  `json:"checked_at,omitempty"`   // recheck: when the re-check was made (phone clock)
}

// FindingTransition is the finding state machine of DOMAIN.md. It returns the status a step leads
// to from status from, or an error naming the illegal from → to:
//
//	start    open                → rectifying        (the responsible unit acknowledges; optional)
//	rectify  open | rectifying   → awaiting_recheck  (the unit sends its rectification)
//	recheck  awaiting_recheck    → closed            (passed)
//	recheck  awaiting_recheck    → rectifying        (failed; the attempt stays in history)
//
// rectify is legal from open as well, so a unit that fixes a problem at once need not
// acknowledge it first. closed is final.
func FindingTransition(step, from string, passed bool) (string, error) {
	var to string
	var legalFrom []string
	switch step {
	case FindingStepStart:
		to, legalFrom = FindingRectifying, []string{FindingOpen}
	case FindingStepRectify:
		to, legalFrom = FindingAwaitingRecheck, []string{FindingOpen, FindingRectifying}
	case FindingStepRecheck:
		to, legalFrom = FindingRectifying, []string{FindingAwaitingRecheck}
		if passed {
			to = FindingClosed
		}
	default:
		return "", fmt.Errorf("models: unknown finding step %q", step)
	}
	if !slices.Contains(legalFrom, from) {
		return to, fmt.Errorf("%s → %s is not a legal transition: %s needs a finding that is %s",
			from, to, step, joinOr(legalFrom))
	}
	return to, nil
}

// findingStepRoles is who may take each step (DOMAIN.md "People"): the responsible side
// (township officers for their township, departments for their kinds) rectifies, supervisors
// review, re-check and close and may also record a rectification or acknowledgement on the
// unit's behalf. Inspectors record findings (finding.create, finding.update) but take no step;
// admins record no field work.
var findingStepRoles = map[string][]Role{
	FindingStepStart:   {RoleTownshipOfficer, RoleDepartment, RoleSupervisor},
	FindingStepRectify: {RoleTownshipOfficer, RoleDepartment, RoleSupervisor},
	FindingStepRecheck: {RoleSupervisor},
}

// MayTakeFindingStep reports whether role may take step. The caller checks scope on top: the
// finding's region and kind must lie in the actor's scope.
func MayTakeFindingStep(role Role, step string) bool {
	return slices.Contains(findingStepRoles[step], role)
}

// FindingStepRoles lists the roles that may take step.
func FindingStepRoles(step string) []Role { return slices.Clone(findingStepRoles[step]) }

func joinOr(list []string) string {
	switch len(list) {
	case 0:
		return ""
	case 1:
		return list[0]
	}
	out := ""
	for i, s := range list[:len(list)-1] {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out + " or " + list[len(list)-1]
}

// Deadline lights (DOMAIN.md): green more than 3 days left, yellow 3 days or fewer, red overdue;
// none for a closed finding.
const (
	LightGreen  = "green"
	LightYellow = "yellow"
	LightRed    = "red"
	LightNone   = "none"
)

// YellowDays is how many days before the deadline the light turns yellow.
const YellowDays = 3

// ChinaStandardTime is UTC+8 (China has no daylight saving time): deadlines are calendar dates there.
var ChinaStandardTime = time.FixedZone("CST", 8*60*60)

// DeadlineLight is the deadline light of a finding at now; it is the source of truth for the
// light and the overdue flag (they change with time, so callers compute them where they read).
//
// A deadline is a date (YYYY-MM-DD) in China Standard Time: the finding is due by the end of that
// day, i.e. it is overdue from 00:00 CST of the next day. Days left counts calendar days in CST
// from today to the deadline: more than YellowDays is green, 0 (due today) to YellowDays is
// yellow, below 0 is red and overdue. A closed finding, or one without a readable deadline, has
// light none and is never overdue; any other status (awaiting_recheck included: the finding is
// not closed until a re-check accepts it) has a light.
func DeadlineLight(deadline string, status string, now time.Time) (light string, overdue bool) {
	if status == FindingClosed {
		return LightNone, false
	}
	d, err := time.ParseInLocation(time.DateOnly, deadline, ChinaStandardTime)
	if err != nil {
		return LightNone, false
	}
	y, m, day := now.In(ChinaStandardTime).Date()
	today := time.Date(y, m, day, 0, 0, 0, 0, ChinaStandardTime)
	left := int(d.Sub(today).Hours() / 24) // both at midnight of a zone without DST: whole days
	switch {
	case left < 0:
		return LightRed, true
	case left <= YellowDays:
		return LightYellow, false
	default:
		return LightGreen, false
	}
}
