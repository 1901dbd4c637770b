package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fieldsync/fieldsync/models"
	"github.com/fieldsync/fieldsync/storage"
	"github.com/google/uuid"
)

// withStore parses the settings flags plus extra ones, opens the database and runs fn.
func withStore(ctx context.Context, name string, args []string, stderr io.Writer,
	extra func(fs *flag.FlagSet), fn func(st *storage.Store) error) error {
	var cfg config
	fs, err := newFlags(name, stderr, &cfg)
	if err != nil {
		return err
	}
	if extra != nil {
		extra(fs)
	}
	if err := parseFlags(fs, args, &cfg); err != nil {
		return err
	}
	db, err := openDatabase(ctx, &cfg, newLogger(stderr, "warn"), true)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db.Store)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withStore(ctx, "migrate", args, stderr, nil, func(*storage.Store) error {
		fmt.Fprintln(stdout, "database schema is up to date")
		return nil
	})
}

func cmdDemoLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withStore(ctx, "demo load", args, stderr, nil, func(st *storage.Store) error {
		res, act, err := loadDemo(ctx, st, time.Now(), newLogger(stderr, "warn"))
		if err != nil {
			return err
		}
		switch {
		case res.Regions+res.Users+res.Checklists+res.Sites()+act.Applied == 0:
			fmt.Fprintln(stdout, "demo city already loaded; nothing changed")
		case res.Regions+res.Users+res.Checklists == 0:
			fmt.Fprintf(stdout, "demo city already loaded; nothing changed in regions, users and checklists; "+
				"added %d sites and %d mutations of field work\n", res.Sites(), act.Applied)
		default:
			fmt.Fprintf(stdout, "demo city loaded: %d regions, %d users, %d checklists, %d sites, %d mutations of field work\n",
				res.Regions, res.Users, res.Checklists, res.Sites(), act.Applied)
		}
		if err := printDemoCounts(ctx, st, stdout); err != nil {
			return err
		}
		printDemoLogins(stdout)
		return nil
	})
}

// cliAudit records an admin action taken from the command line.
func cliAudit(action, targetType, targetID string, details map[string]any) models.AuditEntry {
	return models.AuditEntry{DeviceID: "cli", IP: "local", Action: action, TargetType: targetType, TargetID: targetID,
		Details: details}
}

func cmdUserAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var username, password, role, name, region, kinds string
	return withStore(ctx, "user add", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "login name (required)")
		fs.StringVar(&password, "password", "", "password, at least 8 characters (required)")
		fs.StringVar(&role, "role", "", "inspector, township_officer, department, supervisor or admin (required)")
		fs.StringVar(&name, "name", "", "display name (default: the username)")
		fs.StringVar(&region, "region", "", "region code of the user's scope (default: whole city)")
		fs.StringVar(&kinds, "kinds", "", "comma-separated kinds of field work (default: all)")
	}, func(st *storage.Store) error {
		u := models.User{Username: models.NormalizeUsername(username), Name: name, Role: models.Role(role), Active: true}
		if u.Name == "" {
			u.Name = u.Username
		}
		var ve models.ValidationError
		models.ValidateUsername(&ve, "--username", u.Username)
		models.ValidatePassword(&ve, "--password", password)
		models.ValidateRole(&ve, "--role", u.Role)
		ve.CheckText("--name", u.Name, true, 100)
		u.Kinds = models.ValidateKinds(&ve, "--kinds", splitList(kinds))
		if region != "" {
			r, err := st.GetRegionByCode(ctx, region)
			if errors.Is(err, storage.ErrNotFound) {
				ve.Add("--region", "unknown", "no region has code %q", region)
			} else if err != nil {
				return err
			} else {
				u.RegionID = &r.ID
			}
		}
		if err := ve.Err(); err != nil {
			return err
		}
		hash, err := models.HashPassword(password, models.DefaultPasswordParams)
		if err != nil {
			return err
		}
		u.PasswordHash = hash
		err = st.InTx(ctx, func(tx *storage.Store) error {
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			if err := tx.Audit(ctx, cliAudit("user.create", "user", u.ID.String(), map[string]any{"username": u.Username, "role": u.Role})); err != nil {
				return err
			}
			return tx.RecordUserChange(ctx, u.ID, nil)
		})
		if errors.Is(err, storage.ErrConflict) {
			return fmt.Errorf("user %q already exists", u.Username)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s) id %s\n", u.Username, u.Role, u.ID)
		return nil
	})
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func cmdUserList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var role string
	var all bool
	return withStore(ctx, "user list", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&role, "role", "", "only users of this role")
		fs.BoolVar(&all, "all", false, "include disabled users")
	}, func(st *storage.Store) error {
		f := storage.UserFilter{Role: models.Role(role), Limit: 500}
		if !all {
			active := true
			f.Active = &active
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USERNAME\tNAME\tROLE\tREGION\tKINDS\tACTIVE\tID")
		regions := map[uuid.UUID]string{}
		for {
			users, err := st.ListUsers(ctx, f)
			if err != nil {
				return err
			}
			for _, u := range users {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%t\t%s\n", u.Username, u.Name, u.Role, regionCode(ctx, st, regions, u.RegionID),
					kindList(u.Kinds), u.Active, u.ID)
			}
			if len(users) < f.Limit {
				break
			}
			f.After = users[len(users)-1].Username
		}
		return tw.Flush()
	})
}

func regionCode(ctx context.Context, st *storage.Store, cache map[uuid.UUID]string, id *uuid.UUID) string {
	if id == nil {
		return "(city)"
	}
	if c, ok := cache[*id]; ok {
		return c
	}
	code := id.String()
	if r, err := st.GetRegion(ctx, *id); err == nil {
		code = r.Code + " " + r.Name
	}
	cache[*id] = code
	return code
}

func kindList(k []models.Kind) string {
	if len(k) == 0 {
		return "(all)"
	}
	s := make([]string, len(k))
	for i, v := range k {
		s[i] = string(v)
	}
	return strings.Join(s, ",")
}

func cmdUserDisable(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var username string
	return withStore(ctx, "user disable", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "login name (required)")
	}, func(st *storage.Store) error {
		u, err := st.GetUserByUsername(ctx, username)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no user %q", username)
		} else if err != nil {
			return err
		}
		inactive := false
		err = st.InTx(ctx, func(tx *storage.Store) error {
			if _, err := tx.UpdateUser(ctx, u.ID, storage.UserPatch{Active: &inactive}); err != nil {
				return err
			}
			if err := tx.Audit(ctx, cliAudit("user.disable", "user", u.ID.String(), nil)); err != nil {
				return err
			}
			return tx.RecordUserChange(ctx, u.ID, nil)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "disabled user %s; their sessions have ended\n", u.Username)
		return nil
	})
}

func cmdDeviceList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var username string
	return withStore(ctx, "device list", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "only this user's devices")
	}, func(st *storage.Store) error {
		f := storage.DeviceFilter{Limit: 500}
		names := map[uuid.UUID]string{}
		if username != "" {
			u, err := st.GetUserByUsername(ctx, username)
			if err != nil {
				return fmt.Errorf("no user %q", username)
			}
			f.UserID = &u.ID
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tPLATFORM\tAPP\tLAST SEEN\tREVOKED")
		for {
			devices, err := st.ListDevices(ctx, f)
			if err != nil {
				return err
			}
			for _, d := range devices {
				if _, ok := names[d.UserID]; !ok {
					names[d.UserID] = d.UserID.String()
					if u, err := st.GetUser(ctx, d.UserID); err == nil {
						names[d.UserID] = u.Username
					}
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%t\n", d.ID, names[d.UserID], d.Name, d.Platform, d.AppVersion,
					d.LastSeen.Local().Format(time.DateTime), d.RevokedAt != nil)
			}
			if len(devices) < f.Limit {
				break
			}
			f.After = storage.DeviceCursor(devices[len(devices)-1])
		}
		return tw.Flush()
	})
}

func cmdDeviceRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var id string
	return withStore(ctx, "device revoke", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&id, "id", "", "device id (required; see 'fieldsync device list')")
	}, func(st *storage.Store) error {
		err := st.InTx(ctx, func(tx *storage.Store) error {
			if _, err := tx.RevokeDevice(ctx, id); err != nil {
				return err
			}
			return tx.Audit(ctx, cliAudit("device.revoke", "device", id, nil))
		})
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no device %q", id)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked device %s; its sessions have ended\n", id)
		return nil
	})
}
