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
	fsync "github.com/fieldsync/fieldsync/sync"
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
		res, err := loadDemo(ctx, st, time.Now(), newLogger(stderr, "warn"))
		if err != nil {
			return err
		}
		city := res.City
		switch {
		case !res.Changed():
			fmt.Fprintln(stdout, "demo city already loaded; nothing changed")
		case city.Regions+city.Users+city.Checklists == 0:
			fmt.Fprintf(stdout, "demo city already loaded; nothing changed in regions, users and checklists; "+
				"added %d sites and %d mutations of field work\n", res.Sites.SiteCount(), res.Activity.Applied)
		default:
			fmt.Fprintf(stdout, "demo city loaded: %d regions, %d users, %d checklists, %d sites, %d mutations of field work\n",
				city.Regions, city.Users, city.Checklists, res.Sites.SiteCount(), res.Activity.Applied)
		}
		if err := printDemoCounts(ctx, st, stdout); err != nil {
			return err
		}
		printDemoLogins(stdout)
		return nil
	})
}

// engineFor is the engine the admin commands write through, as the command-line actor.
func engineFor(st *storage.Store) *fsync.Engine { return fsync.New(st, fsync.DefaultConfig()) }

// cliFlags names the flags of `user add` after the engine's field names, so an error says which
// flag to fix.
var cliFlags = map[string]string{"username": "--username", "password": "--password", "role": "--role", "name": "--name",
	"kinds": "--kinds", "region_id": "--region", "region_code": "--region"}

// flagErrors rewrites the field names of a validation error to the flags the user typed.
func flagErrors(err error) error {
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	for i, fe := range ve.Errors {
		name, rest, _ := strings.Cut(fe.Field, "[")
		if flag, ok := cliFlags[name]; ok {
			ve.Errors[i].Field = flag
			if rest != "" {
				ve.Errors[i].Field += "[" + rest
			}
		}
	}
	return ve
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
		nu := fsync.NewUser{Username: username, Name: name, Password: password, Role: role, Kinds: splitList(kinds)}
		if nu.Name == "" {
			nu.Name = models.NormalizeUsername(username)
		}
		if region != "" {
			nu.RegionCode = &region
		}
		u, err := engineFor(st).CreateUser(ctx, fsync.CLIActor(), nu)
		if errors.Is(err, models.ErrConflict) {
			return fmt.Errorf("user %q already exists", models.NormalizeUsername(username))
		}
		if err != nil {
			return flagErrors(err)
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
		if _, err := engineFor(st).DisableUser(ctx, fsync.CLIActor(), u.ID); err != nil {
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
		_, err := engineFor(st).RevokeDevice(ctx, fsync.CLIActor(), id)
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
