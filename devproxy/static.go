package devproxy

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
)

// static serves a folder. The folder is opened as an os.Root, so no request
// can reach outside it: ".." is resolved inside the root, and a symbolic
// link pointing outside fails to open (the kernel-backed checks of os.Root
// also cover links swapped in while serving). Such paths get 404, like a
// file that does not exist, so the server does not reveal what lies
// outside.
type static struct {
	root *os.Root
	h    http.Handler
	mark string // MarkHeader
}

func newStatic(dir, mark string) (*static, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("folder to serve: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is a file, not a folder; serve the folder that contains it", dir)
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("opening folder %s: %w", dir, err)
	}
	return &static{root: root, h: http.FileServerFS(confined{root.FS()}), mark: mark}, nil
}

func (st *static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(MarkHeader, st.mark)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
	default:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "a static folder only answers GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	// A development server: always revalidate, so an edited file shows on
	// the next reload. http.FileServer still answers If-Modified-Since with
	// 304, so this costs little.
	w.Header().Set("Cache-Control", "no-cache")
	st.h.ServeHTTP(w, r)
}

func (st *static) close() { st.root.Close() }

// confined maps os.Root's "path escapes from parent" errors to
// fs.ErrNotExist, so that http.FileServer answers 404 rather than 500 for a
// symbolic link leading outside the folder.
type confined struct{ fs.FS }

func (c confined) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f, err
}
