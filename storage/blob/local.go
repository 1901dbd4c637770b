package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Files of the local store. Object key k lives in the file dir/k + objSuffix, which starts with
// a small header holding the content type (so an object and its type are replaced together by
// one rename). '~' is not a key character, so these names never clash with the directories of
// longer keys ("a" and "a/b" can both exist) and a temp file is never taken for an object.
const (
	objSuffix  = ".~obj"
	tempPrefix = ".~tmp-"
	headMagic  = "FSB1" // then a 1-byte content type length and the content type
)

// Local stores objects as files under a directory: the embedded default, for one server.
type Local struct {
	dir string
}

var _ Store = (*Local)(nil)

// NewLocal opens (creating it if needed) a local store in dir.
func NewLocal(dir string) (*Local, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blob: local store: %w", err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("blob: local store: %w", err)
	}
	return &Local{dir: abs}, nil
}

// Name says "local <dir>".
func (l *Local) Name() string { return "local " + l.dir }

// Dir returns the store's directory.
func (l *Local) Dir() string { return l.dir }

// path returns the file of key, which must be valid.
func (l *Local) path(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key)+objSuffix)
}

// Put writes the object to a temp file beside its final name, syncs it and renames it into
// place, so readers see the old object or the new one, never a part.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	contentType, err := checkPut(key, size, contentType)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	final := l.path(key)
	f, err := l.createTemp(filepath.Dir(final))
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	head := make([]byte, 0, len(headMagic)+1+len(contentType))
	head = append(append(append(head, headMagic...), byte(len(contentType))), contentType...)
	if _, err := f.Write(head); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	n, err := io.Copy(f, ctxReader{ctx, io.LimitReader(r, size)})
	if err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if n < size {
		return shortRead(key, n, size)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	if err := os.Rename(f.Name(), final); err != nil {
		return fmt.Errorf("blob: put %s: %w", key, err)
	}
	committed = true
	syncDir(filepath.Dir(final))
	return nil
}

// createTemp creates a temp file in dir, making dir first; it retries when a concurrent Delete
// removes the freshly made (still empty) directory.
func (l *Local) createTemp(dir string) (*os.File, error) {
	for attempt := 0; ; attempt++ {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		f, err := os.CreateTemp(dir, tempPrefix+"*")
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 5 {
			return f, err
		}
	}
}

// syncDir makes a rename in dir durable; failures are ignored (some file systems refuse it).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// open opens key's file and reads its header.
func (l *Local) open(key string) (*os.File, Info, int64, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, 0, err
	}
	f, err := os.Open(l.path(key))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) || isNotDir(err) {
		return nil, Info{}, 0, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	if err != nil {
		return nil, Info{}, 0, fmt.Errorf("blob: open %s: %w", key, err)
	}
	info, headLen, err := readHead(f, key)
	if err != nil {
		_ = f.Close()
		return nil, Info{}, 0, err
	}
	return f, info, headLen, nil
}

// readHead reads the header of an object file.
func readHead(f *os.File, key string) (Info, int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return Info{}, 0, fmt.Errorf("blob: stat %s: %w", key, err)
	}
	var b [len(headMagic) + 1 + MaxContentTypeLen]byte
	n, err := f.ReadAt(b[:], 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return Info{}, 0, fmt.Errorf("blob: read %s: %w", key, err)
	}
	if n < len(headMagic)+1 || string(b[:len(headMagic)]) != headMagic || n < len(headMagic)+1+int(b[len(headMagic)]) {
		return Info{}, 0, fmt.Errorf("blob: %s: object file %s has no valid header", key, f.Name())
	}
	ctLen := int(b[len(headMagic)])
	headLen := int64(len(headMagic) + 1 + ctLen)
	return Info{
		Key:         key,
		Size:        fi.Size() - headLen,
		ContentType: string(b[len(headMagic)+1 : int(headLen)]),
		Modified:    fi.ModTime().UTC(),
	}, headLen, nil
}

// isNotDir reports an ENOTDIR-like error: a path component is a file (an old-layout leftover).
func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "not a directory")
}

// Get opens the object.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	f, info, headLen, err := l.open(key)
	if err != nil {
		return nil, Info{}, err
	}
	return sectionFile{io.NewSectionReader(f, headLen, info.Size), f}, info, nil
}

// GetRange opens length bytes from offset (length < 0: to the end); a range past the end is
// cut at the end.
func (l *Local) GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	if err := checkRange(key, offset); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, info, headLen, err := l.open(key)
	if err != nil {
		return nil, err
	}
	offset = min(offset, info.Size)
	if length < 0 || length > info.Size-offset {
		length = info.Size - offset
	}
	return sectionFile{io.NewSectionReader(f, headLen+offset, length), f}, nil
}

// Stat describes the object.
func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	f, info, _, err := l.open(key)
	if err != nil {
		return Info{}, err
	}
	_ = f.Close()
	return info, nil
}

// Delete removes the object and then the directories it leaves empty.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p := l.path(key)
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) && !isNotDir(err) {
		return fmt.Errorf("blob: delete %s: %w", key, err)
	}
	for dir := filepath.Dir(p); dir != l.dir && strings.HasPrefix(dir, l.dir); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil { // not empty (or already gone): stop
			break
		}
	}
	return nil
}

// PresignGet returns ok false: the caller streams the object.
func (l *Local) PresignGet(ctx context.Context, key string, ttl time.Duration, disposition, contentType string) (string, bool, error) {
	if err := checkKey(key); err != nil {
		return "", false, err
	}
	if err := checkDisposition(disposition); err != nil {
		return "", false, err
	}
	return "", false, nil
}

// Ping checks that the directory takes a file.
func (l *Local) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(l.dir, tempPrefix+"ping-*")
	if err != nil {
		return fmt.Errorf("%w: local directory %s: %v", ErrUnavailable, l.dir, err)
	}
	_ = f.Close()
	_ = os.Remove(f.Name())
	return nil
}

// sectionFile reads a section of a file and closes the file.
type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s sectionFile) Close() error { return s.f.Close() }

// ctxReader stops reading when ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
