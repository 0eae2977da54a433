package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// The development page: index.html, main.js importing features modules,
// each importing leaves modules: 1 + features + features×leaves = 300 ES
// modules, fetched in three waves as the browser discovers the imports, as
// from Vite's dev server.
const (
	features = 23
	leaves   = 12
	modules  = 1 + features + features*leaves
)

// pageMark is in the page, so that a target that answers something else is
// caught before it is measured.
const pageMark = "<!-- httpsguard pageload -->"

// counter is the first line of every module: the page counts the modules
// that ran.
const counter = "globalThis.__modules = (globalThis.__modules || 0) + 1;\n"

func pageFiles() map[string]string {
	files := map[string]string{
		"/": `<!doctype html>
<html><head><meta charset="utf-8"><title>dev page</title>
` + pageMark + `
<script type="module" src="/src/main.js"></script>
</head><body><div id="app">loading</div></body></html>
`,
	}
	var main strings.Builder
	for f := range features {
		fmt.Fprintf(&main, "import { feature%d } from \"/src/features/feature%d.js\";\n", f, f)
	}
	main.WriteString(counter)
	main.WriteString("let total = 0;\n")
	for f := range features {
		fmt.Fprintf(&main, "total += feature%d(%d);\n", f, f)
	}
	main.WriteString("document.getElementById(\"app\").textContent = \"rendered \" + total;\nwindow.__done = performance.now();\n")
	files["/src/main.js"] = main.String()
	for f := range features {
		var fb strings.Builder
		for l := range leaves {
			fmt.Fprintf(&fb, "import { component%d_%d } from \"/src/components/%d/component%d.js\";\n", f, l, f, l)
		}
		fb.WriteString(counter)
		fmt.Fprintf(&fb, "export function feature%d(x) {\n  let s = 0;\n", f)
		for l := range leaves {
			fmt.Fprintf(&fb, "  s += component%d_%d(x + %d);\n", f, l, l)
		}
		fb.WriteString("  return s;\n}\n")
		files[fmt.Sprintf("/src/features/feature%d.js", f)] = fb.String()
		for l := range leaves {
			// About 1 KiB, like a small component after a dev server's
			// transform.
			files[fmt.Sprintf("/src/components/%d/component%d.js", f, l)] = counter + fmt.Sprintf(`const styles = { color: "#333", margin: "%dpx", padding: "%dpx", border: "1px solid #ccc" };
const labels = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"];
// component %d.%d of the benchmark page: a stand-in for a transformed
// component module (props, a render function, a few helpers), so that the
// browser parses and runs a realistic amount of code per module.
function helper(v) {
  let acc = 0;
  for (let i = 0; i < labels.length; i++) acc += (v * (i + 1) + labels[i].length) %% 97;
  return acc;
}
export function component%d_%d(x) {
  const node = { tag: "div", props: { class: "c%d-%d", style: styles }, children: labels.slice(0, (x %% 8) + 1) };
  return helper(x) + node.children.length + Object.keys(node.props.style).length;
}
`, f, l, f, l, f, l, f, l)
		}
	}
	return files
}

// appServer is the application: net/http's server on 127.0.0.1, HTTP/1.1
// only, with a 5 s keep-alive timeout as Node's (and so Vite's) server.
type appServer struct {
	Addr string
	srv  *http.Server
	hang chan struct{} // a request to /hang arrived
}

func startApp() (*appServer, error) {
	files := pageFiles()
	if n := strings.Count(strings.Join(slices.Collect(maps.Values(files)), ""), counter); n != modules {
		return nil, fmt.Errorf("page has %d modules, want %d", n, modules)
	}
	etags := map[string]string{}
	for p, body := range files {
		sum := sha256.Sum256([]byte(body))
		etags[p] = `"` + hex.EncodeToString(sum[:8]) + `"`
	}
	a := &appServer{hang: make(chan struct{}, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hang", func(w http.ResponseWriter, r *http.Request) {
		a.hang <- struct{}{}
		<-r.Context().Done()
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if strings.HasSuffix(r.URL.Path, ".js") {
			h.Set("Content-Type", "text/javascript; charset=utf-8")
		} else {
			h.Set("Content-Type", "text/html; charset=utf-8")
		}
		h.Set("Cache-Control", "no-cache")
		h.Set("Etag", etags[r.URL.Path])
		if r.Header.Get("If-None-Match") == etags[r.URL.Path] {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", fmt.Sprint(len(body)))
		w.Write([]byte(body))
	})
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Second, Protocols: new(http.Protocols)}
	a.srv.Protocols.SetHTTP1(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a.Addr = ln.Addr().String()
	go a.srv.Serve(ln)
	return a, nil
}

func (a *appServer) Close() { a.srv.Close() }
