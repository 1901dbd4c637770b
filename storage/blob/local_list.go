package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// List walks the directory tree in key order, visiting only the directories that can hold keys
// with the prefix after the key after, and stops at limit.
func (l *Local) List(ctx context.Context, prefix, after string, limit int) ([]Info, error) {
	if err := checkList(prefix, after, limit); err != nil {
		return nil, err
	}
	w := lister{ctx: ctx, prefix: prefix, after: after, limit: min(limit, MaxListLimit)}
	base := prefix[:strings.LastIndexByte(prefix, '/')+1] // the directory part of the prefix
	if err := w.walk(filepath.Join(l.dir, filepath.FromSlash(base)), base); err != nil && !errors.Is(err, errListFull) {
		return nil, err
	}
	return w.out, nil
}

// errListFull stops the walk once limit objects are found.
var errListFull = errors.New("list full")

type lister struct {
	ctx           context.Context
	prefix, after string
	limit         int
	out           []Info
}

// entry is a directory entry with the key-space string it stands for: the key of an object
// file, or the key prefix ("a/b/") of a directory. Sorting entries by it gives key order.
type entry struct {
	rep  string
	name string
	dir  bool
}

// walk lists the objects under dir, whose keys start with keyPrefix.
func (w *lister) walk(dir, keyPrefix string) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("blob: list: %w", err)
	}
	entries := make([]entry, 0, len(des))
	for _, de := range des {
		name := de.Name()
		switch {
		case de.IsDir() && checkKey(name) == nil && !strings.Contains(name, "/"):
			entries = append(entries, entry{rep: keyPrefix + name + "/", name: name, dir: true})
		case de.Type().IsRegular() && strings.HasSuffix(name, objSuffix):
			if seg := strings.TrimSuffix(name, objSuffix); checkKey(seg) == nil {
				entries = append(entries, entry{rep: keyPrefix + seg, name: name})
			}
		}
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.rep, b.rep) })
	for _, e := range entries {
		if !strings.HasPrefix(e.rep, w.prefix) && !(e.dir && strings.HasPrefix(w.prefix, e.rep)) {
			continue
		}
		if e.dir {
			// Every key below is e.rep+something: all at or before after when after is past
			// e.rep without starting with it.
			if w.after != "" && e.rep < w.after && !strings.HasPrefix(w.after, e.rep) {
				continue
			}
			if err := w.walk(filepath.Join(dir, e.name), e.rep); err != nil {
				return err
			}
			continue
		}
		if e.rep <= w.after {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.name))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("blob: list: %w", err)
		}
		info, _, err := readHead(f, e.rep)
		_ = f.Close()
		if err != nil {
			return err
		}
		w.out = append(w.out, info)
		if len(w.out) == w.limit {
			return errListFull
		}
	}
	return nil
}
