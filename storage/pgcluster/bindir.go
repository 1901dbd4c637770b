package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// errNoBinaries is returned when no PostgreSQL server binaries are installed.
var errNoBinaries = errors.New("pgcluster: PostgreSQL server binaries (initdb, pg_ctl) not found; " +
	"install them with `apt-get install postgresql` (Debian/Ubuntu) or set FIELDSYNC_DATABASE_URL " +
	"to use an existing server")

// binaries are the programs a bin directory must hold.
var binaries = []string{"initdb", "pg_ctl", "postgres"}

// binGlobs are the well-known install locations, each searched highest version first.
var binGlobs = []string{
	"/usr/lib/postgresql/*/bin",         // Debian, Ubuntu
	"/usr/pgsql-*/bin",                  // RHEL, Fedora (PGDG packages)
	"/usr/local/pgsql/bin",              // built from source
	"/opt/homebrew/opt/postgresql*/bin", // Homebrew on Apple silicon
	"/usr/local/opt/postgresql*/bin",    // Homebrew on Intel
}

// FindBinDir returns the directory holding the PostgreSQL server binaries (initdb, pg_ctl and
// postgres): the directory of initdb and pg_ctl found on PATH (symlinks resolved), else the highest
// version in the usual install locations (/usr/lib/postgresql/<ver>/bin, /usr/pgsql-<ver>/bin,
// /usr/local/pgsql/bin, Homebrew). The error for missing binaries names the package to install.
func FindBinDir() (string, error) {
	dirs := binDirCandidates()
	if len(dirs) == 0 {
		return "", errNoBinaries
	}
	return dirs[0], nil
}

// binDirCandidates lists every directory that holds the server binaries, in FindBinDir's order.
func binDirCandidates() []string {
	var dirs []string
	add := func(dir string) {
		if hasBinaries(dir) && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	initdb, err1 := exec.LookPath("initdb")
	pgctl, err2 := exec.LookPath("pg_ctl")
	if err1 == nil && err2 == nil {
		a, err1 := filepath.EvalSymlinks(initdb)
		b, err2 := filepath.EvalSymlinks(pgctl)
		if err1 == nil && err2 == nil && filepath.Dir(a) == filepath.Dir(b) {
			add(filepath.Dir(a))
		}
	}
	for _, pattern := range binGlobs {
		matches, _ := filepath.Glob(pattern) // the patterns are valid
		slices.SortStableFunc(matches, func(a, b string) int { return lastNumber(b) - lastNumber(a) })
		for _, m := range matches {
			if resolved, err := filepath.EvalSymlinks(m); err == nil {
				add(resolved)
			}
		}
	}
	return dirs
}

// hasBinaries reports whether dir holds every program in binaries as an executable file.
func hasBinaries(dir string) bool {
	for _, name := range binaries {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

var digitsRE = regexp.MustCompile(`[0-9]+`)

// lastNumber returns the last run of digits in path (the major version of a versioned install
// directory), or 0.
func lastNumber(path string) int {
	all := digitsRE.FindAllString(path, -1)
	if len(all) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(all[len(all)-1])
	return n
}

// chooseBinDir returns the bin directory to use: binDir if set, else the first candidate whose
// major version equals dataVersion (the version of an existing cluster, "" for a new one), else
// the first candidate. It checks that the binaries can run a cluster of dataVersion.
func chooseBinDir(binDir, dataVersion string) (string, error) {
	if binDir != "" {
		if !hasBinaries(binDir) {
			return "", fmt.Errorf("pgcluster: %s does not hold the PostgreSQL server binaries (%s)",
				binDir, strings.Join(binaries, ", "))
		}
	} else {
		dirs := binDirCandidates()
		if len(dirs) == 0 {
			return "", errNoBinaries
		}
		binDir = dirs[0]
		for _, d := range dirs {
			if v, err := binVersion(d); err == nil && v == dataVersion {
				binDir = d
				break
			}
		}
	}
	if dataVersion == "" {
		return binDir, nil
	}
	v, err := binVersion(binDir)
	if err != nil {
		return "", err
	}
	if v != dataVersion {
		return "", fmt.Errorf("pgcluster: the cluster was created by PostgreSQL %s but %s holds PostgreSQL %s; "+
			"install PostgreSQL %s (e.g. `apt-get install postgresql-%s`) or upgrade the cluster with pg_upgrade",
			dataVersion, binDir, v, dataVersion, dataVersion)
	}
	return binDir, nil
}

var versionRE = regexp.MustCompile(`\(PostgreSQL\) ([0-9]+)`)

// binVersion returns the major version of the postgres binary in binDir, e.g. "15".
func binVersion(binDir string) (string, error) {
	out, err := exec.Command(filepath.Join(binDir, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("pgcluster: %s/postgres --version: %w", binDir, err)
	}
	m := versionRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("pgcluster: unexpected output from %s/postgres --version: %q", binDir, out)
	}
	return string(m[1]), nil
}

// dataVersion returns the major version recorded in dataDir/PG_VERSION, or "" if the cluster has
// not been initialised.
func dataVersion(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pgcluster: read cluster version: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}
