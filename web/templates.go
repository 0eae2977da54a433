package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/httpsguard/httpsguard/report"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// asset is one static file, served from memory.
type asset struct {
	body  []byte
	ctype string
	hash  string // first 12 hex digits of its SHA-256: the cache buster
}

var assets = loadAssets()

func loadAssets() map[string]asset {
	m := map[string]asset{}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		m[strings.TrimPrefix(p, "static/")] = asset{body: b, ctype: ctype, hash: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		panic("web: reading embedded static files: " + err.Error())
	}
	return m
}

// assetURL is the address of a static file, with its content hash so it
// can be cached forever.
func assetURL(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("web: no static file " + name)
	}
	return "/static/" + name + "?v=" + a.hash
}

// staticHandler serves the embedded files, and nothing else (no directory
// listings). A request with the current hash may be cached for a year.
func staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		a, ok := assets[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.ctype)
		h.Set("ETag", `"`+a.hash+`"`)
		if r.URL.Query().Get("v") == a.hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "public, max-age=300")
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
	})
}

// templates holds one template set per page, each with the shared layout.
type templates struct {
	pages map[string]*template.Template
}

var funcs = template.FuncMap{
	"asset":       assetURL,
	"statusLabel": report.StatusLabel,
	"gradeClass":  report.GradeClass,
	"when":        report.FormatTime,
	"duration":    report.FormatDuration,
	"impact":      report.FormatImpact,
	"sitePath":    sitePath,
	"shortID":     func(id string) string { return truncate(id, 8) },
	"clean":       report.CleanText,
	"tlsFacts":    report.NewTLSFacts,
	"daysLeft":    daysLeftText,
	"plural":      plural,
	"chart":       gradeChart,
	"eventTitle":  eventTitle,
	"intervals":   func() any { return watchIntervals },
	"abs": func(n int) int {
		if n < 0 {
			return -n
		}
		return n
	},
}

func parseTemplates() (*templates, error) {
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("web: parsing the layout: %w", err)
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, page := range []string{"start", "scan", "site", "error", "watches", "watch"} {
		c, err := layout.Clone()
		if err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
		if _, err := c.ParseFS(templateFS, "templates/"+page+".html"); err != nil {
			return nil, fmt.Errorf("web: parsing the %s page: %w", page, err)
		}
		t.pages[page] = c
	}
	return t, nil
}

// daysLeftText is a certificate's days left, or how long ago it expired.
func daysLeftText(days int) string {
	if days < 0 {
		return "expired " + plural(-days, "day", "days") + " ago"
	}
	return plural(days, "day", "days") + " left"
}
