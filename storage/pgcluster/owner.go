package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
)

// account is the OS user PostgreSQL runs as.
type account struct {
	name     string
	uid, gid int
	groups   []int // all group ids of the user, for the search permission check
	// switchUser is true when the process is root and runs initdb and postgres as this user.
	switchUser bool
}

// runAccount returns the user PostgreSQL will run as: the current user, or the "postgres" system
// user when the process runs as root (PostgreSQL refuses to run as root).
func runAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{name: "current user", uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return account{}, fmt.Errorf("pgcluster: running as root, so PostgreSQL must run as the "+
			"\"postgres\" system user, but looking it up failed (`apt-get install postgresql` creates it, "+
			"or run fieldsync as a non-root user): %w", err)
	}
	a := account{name: "postgres", switchUser: true}
	if a.uid, err = strconv.Atoi(u.Uid); err != nil {
		return account{}, fmt.Errorf("pgcluster: postgres user: uid %q: %w", u.Uid, err)
	}
	if a.gid, err = strconv.Atoi(u.Gid); err != nil {
		return account{}, fmt.Errorf("pgcluster: postgres user: gid %q: %w", u.Gid, err)
	}
	a.groups = []int{a.gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err == nil {
				a.groups = append(a.groups, n)
			}
		}
	}
	return a, nil
}

// prepareDir creates the cluster directory dir (mode 0700) and any missing parents (mode 0755),
// and, when switching users, hands dir to acct and checks that acct can reach it.
func prepareDir(dir string, acct account) error {
	var missing []string
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pgcluster: cluster directory: %w", err)
		}
		missing = append(missing, p)
		if p == filepath.Dir(p) {
			break
		}
	}
	for _, p := range slices.Backward(missing) {
		// Chmod after Mkdir so that a restrictive umask does not lock the postgres user out.
		if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("pgcluster: create %s: %w", p, err)
		} else if err == nil {
			if err := os.Chmod(p, 0o755); err != nil {
				return fmt.Errorf("pgcluster: chmod %s: %w", p, err)
			}
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("pgcluster: create cluster directory: %w", err)
	}
	if !acct.switchUser {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		if err := checkSearchable(p, acct); err != nil {
			return err
		}
		if p == filepath.Dir(p) {
			break
		}
	}
	uid, _, err := fileOwner(dir)
	if err != nil {
		return err
	}
	if uid != acct.uid {
		if err := os.Chown(dir, acct.uid, acct.gid); err != nil {
			return fmt.Errorf("pgcluster: chown cluster directory to the postgres user: %w", err)
		}
	}
	return os.Chmod(dir, 0o700)
}

// checkSearchable returns an error naming dir if acct may not enter it.
func checkSearchable(dir string, acct account) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	uid, gid, err := fileOwner(dir)
	if err != nil {
		return err
	}
	perm := fi.Mode().Perm()
	switch {
	case uid == acct.uid:
		if perm&0o100 != 0 {
			return nil
		}
	case slices.Contains(acct.groups, gid):
		if perm&0o010 != 0 {
			return nil
		}
	case perm&0o001 != 0:
		return nil
	}
	return fmt.Errorf("pgcluster: running as root, PostgreSQL runs as the %q user, which cannot enter %s "+
		"(mode %04o, owner uid %d): put the data directory where that user can reach it "+
		"(e.g. /var/lib/fieldsync), or allow it with `chmod o+x %s`", acct.name, dir, perm, uid, dir)
}

// checkOwner makes sure the existing cluster directory belongs to acct: when switching users it
// chowns the whole tree (e.g. a cluster created earlier by a non-root run); otherwise a foreign
// owner is an error, since postgres refuses a data directory it does not own.
func checkOwner(dir string, acct account) error {
	dataDir := filepath.Join(dir, "data")
	uid, _, err := fileOwner(dataDir)
	if err != nil {
		return err
	}
	if uid == acct.uid {
		return nil
	}
	if !acct.switchUser {
		return fmt.Errorf("pgcluster: %s belongs to uid %d but PostgreSQL would run as uid %d; "+
			"run fieldsync as that user or `chown -R` the directory", dataDir, uid, acct.uid)
	}
	err = filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, acct.uid, acct.gid)
	})
	if err != nil {
		return fmt.Errorf("pgcluster: chown cluster directory to the postgres user: %w", err)
	}
	return nil
}
