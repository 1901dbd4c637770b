// Package ownership checks the rule that makes fieldsync's writes easy to follow: the sync engine
// (package sync) is the one owner of every synced write. Records, regions, users, conflicts, the
// change log, the audit log and sessions are written by storage's write primitives, and only
// package sync calls them; SQL that writes those tables is written only in package storage.
//
// Two rules, checked on the non-test Go files of the module with full type information:
//
//   - sql: a string literal that writes an owned table (INSERT INTO, UPDATE, DELETE FROM,
//     TRUNCATE, COPY) appears only in package storage.
//   - call: a storage write primitive (an exported *storage.Store method whose body, or a storage
//     function it calls, holds such SQL for an owned or session table) is used only in package
//     sync: not in the server, the commands, the test helpers, nor sync's own sub-packages, which
//     go through the engine's exported API.
//
// The primitive list is computed from storage's source, so a new write primitive is covered the
// day it is written. The few exceptions are listed below, each with its reason.
package ownership

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"
)

// The packages the rules name.
const (
	Module     = "github.com/fieldsync/fieldsync"
	StoragePkg = Module + "/storage"
	OwnerPkg   = Module + "/sync"
)

// OwnedTables are the tables only the owner writes (through storage): the synced data, the change
// log, conflicts and the audit log.
var OwnedTables = []string{"records", "change_log", "audit_log", "conflicts", "regions", "users"}

// SessionTables are written at login, logout and revocation, which the owner audits; rule call
// covers their primitives too.
var SessionTables = []string{"devices", "tokens"}

// SQLAllowed lists the packages outside storage whose SQL may name an owned table, and why.
var SQLAllowed = map[string]string{
	Module + "/cmd/fieldctl/device": "the reference phone client's own SQLite replica, whose tables share names with the " +
		"server's (records, conflicts); it imports no server package and never opens the server's database",
}

// CallAllowed lists the functions outside sync that may use a write primitive, and why.
var CallAllowed = []Exception{
	{Pkg: Module + "/storage/storagetest", Func: "StoreSites", Primitive: "SaveRecords",
		Why: "test fixture, linked only into tests: four sites written without change-log rows, one of them a patrol " +
			"area without a boundary that the owner's validation refuses, so tests get sites no phone pulls"},
}

// Housekeeping are write primitives any package may call: they change no synced or audited fact.
var Housekeeping = map[string]string{
	"TouchDevice": "moves a device's last_seen (at most once a minute) on authenticated requests",
	"PruneTokens": "the janitor deletes sessions that already ended (expired or revoked)",
}

// Exception allows one function of a package to use one write primitive.
type Exception struct {
	Pkg, Func, Primitive, Why string
}

// Violation is one place that breaks a rule.
type Violation struct {
	Pos  token.Position
	Pkg  string
	Rule string // "sql" or "call"
	What string // the SQL that writes, or the primitive used
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s (package %s): %s", v.Pos, v.Rule, v.Pkg, v.What)
}

// writeSQL finds a statement that writes a table, with the table's name.
var writeSQL = regexp.MustCompile(`(?i)\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?|COPY)\s+(?:ONLY\s+)?(?:"?public"?\.)?"?([a-z_][a-z0-9_]*)"?`)

// sqlWrites returns the statements in s that write one of tables ("INSERT INTO change_log").
func sqlWrites(s string, tables []string) []string {
	var out []string
	for _, m := range writeSQL.FindAllStringSubmatch(s, -1) {
		if slices.Contains(tables, strings.ToLower(m[2])) {
			out = append(out, strings.Join(strings.Fields(m[1]), " ")+" "+m[2])
		}
	}
	return out
}

// Load loads the packages matching patterns from dir: their non-test files with syntax and types.
func Load(dir string, patterns ...string) ([]*packages.Package, error) {
	cfg := &packages.Config{Dir: dir, Mode: packages.NeedName | packages.NeedFiles | packages.NeedSyntax |
		packages.NeedTypes | packages.NeedTypesInfo | packages.NeedImports}
	pkgs, err := packages.Load(cfg, patterns...)
	if err != nil {
		return nil, err
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("ownership: loading %v: %s", patterns, strings.Join(errs, "; "))
	}
	return pkgs, nil
}

// Primitives returns the write primitives of package storage (which must be among pkgs), by full
// name ("(*github.com/fieldsync/fieldsync/storage.Store).SaveRecords"), with the statement that
// makes each one a writer.
func Primitives(pkgs []*packages.Package) (map[string]string, error) {
	var st *packages.Package
	for _, p := range pkgs {
		if p.PkgPath == StoragePkg {
			st = p
		}
	}
	if st == nil {
		return nil, fmt.Errorf("ownership: package %s is not loaded", StoragePkg)
	}
	tables := append(slices.Clone(OwnedTables), SessionTables...)
	writes := map[*types.Func]string{} // storage functions that write, directly or through a callee
	calls := map[*types.Func][]*types.Func{}
	for _, f := range st.Syntax {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			fn, _ := st.TypesInfo.Defs[fd.Name].(*types.Func)
			if fn == nil {
				continue
			}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if s, ok := stringLit(n); ok {
						if w := sqlWrites(s, tables); len(w) > 0 && writes[fn] == "" {
							writes[fn] = w[0]
						}
					}
				case *ast.Ident:
					if callee, ok := st.TypesInfo.Uses[n].(*types.Func); ok && callee.Pkg() == st.Types {
						calls[fn] = append(calls[fn], callee)
					}
				}
				return true
			})
		}
	}
	for changed := true; changed; { // a function that calls a writer writes
		changed = false
		for fn, callees := range calls {
			for _, c := range callees {
				if w := writes[c]; w != "" && writes[fn] == "" {
					writes[fn], changed = w+" (through "+c.Name()+")", true
				}
			}
		}
	}
	out := map[string]string{}
	for fn, w := range writes {
		if fn.Exported() && isStoreMethod(fn) {
			if _, ok := Housekeeping[fn.Name()]; !ok {
				out[fn.FullName()] = w
			}
		}
	}
	return out, nil
}

func isStoreMethod(fn *types.Func) bool {
	sig := fn.Type().(*types.Signature)
	if sig.Recv() == nil {
		return false
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Name() == "Store"
}

func stringLit(b *ast.BasicLit) (string, bool) {
	if b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}

// Report is what Check found: the violations, and the exceptions that were needed (an exception
// no longer needed should be removed).
type Report struct {
	Violations []Violation
	UsedCalls  []Exception // entries of CallAllowed that excused a use
	UsedSQL    []string    // packages of SQLAllowed whose SQL names an owned table
}

// Check applies the two rules to pkgs (the primitives from Primitives).
func Check(pkgs []*packages.Package, primitives map[string]string) Report {
	var r Report
	usedCalls, usedSQL := map[int]bool{}, map[string]bool{}
	for _, p := range pkgs {
		for _, f := range p.Syntax {
			vs := checkSQL(p, f)
			if _, ok := SQLAllowed[p.PkgPath]; ok {
				if len(vs) > 0 {
					usedSQL[p.PkgPath] = true
				}
				vs = nil
			}
			r.Violations = append(r.Violations, vs...)
			vs, ex := checkCalls(p, f, primitives)
			r.Violations = append(r.Violations, vs...)
			for _, i := range ex {
				usedCalls[i] = true
			}
		}
	}
	for i := range CallAllowed {
		if usedCalls[i] {
			r.UsedCalls = append(r.UsedCalls, CallAllowed[i])
		}
	}
	for pkg := range usedSQL {
		r.UsedSQL = append(r.UsedSQL, pkg)
	}
	sort.Slice(r.Violations, func(i, j int) bool { return r.Violations[i].String() < r.Violations[j].String() })
	return r
}

// checkSQL applies rule sql to one file.
func checkSQL(p *packages.Package, f *ast.File) []Violation {
	if p.PkgPath == StoragePkg {
		return nil
	}
	var out []Violation
	ast.Inspect(f, func(n ast.Node) bool {
		if b, ok := n.(*ast.BasicLit); ok {
			if s, ok := stringLit(b); ok {
				for _, w := range sqlWrites(s, OwnedTables) {
					out = append(out, Violation{Pos: p.Fset.Position(b.Pos()), Pkg: p.PkgPath, Rule: "sql", What: w})
				}
			}
		}
		return true
	})
	return out
}

// checkCalls applies rule call to one file; it returns the violations and the indexes of the
// CallAllowed entries that excused a use.
func checkCalls(p *packages.Package, f *ast.File, primitives map[string]string) ([]Violation, []int) {
	if p.PkgPath == OwnerPkg || p.PkgPath == StoragePkg {
		return nil, nil
	}
	var out []Violation
	var excused []int
	for _, d := range f.Decls {
		fnName := ""
		if fd, ok := d.(*ast.FuncDecl); ok {
			fnName = fd.Name.Name
		}
		ast.Inspect(d, func(n ast.Node) bool {
			id, ok := n.(*ast.Ident)
			if !ok {
				return true
			}
			fn, ok := p.TypesInfo.Uses[id].(*types.Func)
			if !ok {
				return true
			}
			if _, ok := primitives[fn.FullName()]; !ok {
				return true
			}
			for i, ex := range CallAllowed {
				if ex.Pkg == p.PkgPath && ex.Func == fnName && ex.Primitive == fn.Name() {
					excused = append(excused, i)
					return true
				}
			}
			out = append(out, Violation{Pos: p.Fset.Position(id.Pos()), Pkg: p.PkgPath, Rule: "call",
				What: "storage." + fn.Name() + " (a write primitive: " + primitives[fn.FullName()] + ")"})
			return true
		})
	}
	return out, excused
}
