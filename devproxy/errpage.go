package devproxy

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

// errorPage is what the browser is shown when the proxy cannot show the
// application.
type errorPage struct {
	Status  int
	Title   string
	Lead    string   // one paragraph: what happened
	Steps   []string // what to do, one paragraph each
	Code    string   // configuration to copy, if any
	Detail  string   // the raw error, for the curious
	Refresh bool     // reload every few seconds until the application answers
}

func loopPage(e *loopError) errorPage {
	return errorPage{
		Status: http.StatusLoopDetected,
		Title:  "Redirect loop stopped",
		Lead: fmt.Sprintf("The application answered %s with a %d redirect to %s. It forces HTTPS, but believes this request came over plain HTTP: httpsguard serve talks HTTP to it and tells it the browser used HTTPS with the header X-Forwarded-Proto: https, which the application does not trust yet. Your browser would have followed the redirect until \"too many redirects\".",
			e.URL, e.Status, e.Location),
		Steps: []string{
			"Make the application trust X-Forwarded-Proto from the proxy (the proxy removes any such header a browser sends, so only it can set it), then reload this page:",
		},
		Code: fixText(e.Framework, e.Origin),
	}
}

func downPage(upstream string, r *http.Request) errorPage {
	return errorPage{
		Status: http.StatusBadGateway,
		Title:  "The application is not running",
		Lead:   fmt.Sprintf("httpsguard serve is running, but nothing answers on %s, where it forwards %s.", upstream, r.URL.Path),
		Steps: []string{
			"Start the application on that address, for example:",
			"This page reloads itself every two seconds and shows the application as soon as it answers.",
		},
		Code:    startCommands(upstream),
		Refresh: r.Method == http.MethodGet || r.Method == http.MethodHead,
	}
}

func failedPage(upstream string, r *http.Request, err error) errorPage {
	return errorPage{
		Status: http.StatusBadGateway,
		Title:  "The application did not answer",
		Lead:   fmt.Sprintf("httpsguard serve forwarded %s %s to %s, but the application closed the connection or sent an invalid response. It may have crashed, or be restarting; look at its terminal.", r.Method, r.URL.Path, upstream),
		Detail: err.Error(),
	}
}

// startCommands suggests how to start common development servers on the
// upstream address.
func startCommands(upstream string) string {
	host, port := splitHostPortDefault(upstream, "80")
	django := upstream
	if host == "localhost" || host == "127.0.0.1" {
		django = port
	}
	return fmt.Sprintf(`Django:  python manage.py runserver %s
Flask:   flask run --port %s
Rails:   bin/rails server -p %s
Node:    PORT=%s npm start
Go:      go run .    # listening on %s`, django, port, port, port, upstream)
}

var errorTemplate = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="2">
{{end}}<title>{{.Title}} · httpsguard serve</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:3rem auto;padding:0 1rem;color:#222;background:#fff}
h1{font-size:1.5rem;margin-bottom:.5rem}
.status{color:#b00;font-weight:600}
pre{background:#f4f4f4;border:1px solid #ddd;border-radius:4px;padding:1rem;overflow-x:auto;font-size:.9rem}
footer{margin-top:2rem;color:#666;font-size:.85rem}
@media (prefers-color-scheme:dark){body{color:#ddd;background:#161616}pre{background:#222;border-color:#333}.status{color:#f66}}
</style>
</head>
<body>
<p class="status">{{.Status}} · httpsguard serve</p>
<h1>{{.Title}}</h1>
<p>{{.Lead}}</p>
{{range $i, $s := .Steps}}<p>{{$s}}</p>
{{if eq $i 0}}{{with $.Code}}<pre>{{.}}</pre>
{{end}}{{end}}{{end}}{{with .Detail}}<p>Error:</p><pre>{{.}}</pre>
{{end}}<footer>This page comes from httpsguard serve, the HTTPS proxy in front of your application; the same message is in its terminal.</footer>
</body>
</html>
`))

// writeErrorPage sends page as HTML to browsers and as plain text to other
// clients (curl, fetch without Accept), never cached.
func writeErrorPage(w http.ResponseWriter, r *http.Request, page errorPage) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	var body bytes.Buffer
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		h.Set("Content-Type", "text/html; charset=utf-8")
		if err := errorTemplate.Execute(&body, page); err != nil {
			body.Reset()
			body.WriteString(template.HTMLEscapeString(page.Title))
		}
	} else {
		h.Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(&body, "%d %s (httpsguard serve)\n\n%s\n", page.Status, page.Title, page.Lead)
		for i, s := range page.Steps {
			fmt.Fprintf(&body, "\n%s\n", s)
			if i == 0 && page.Code != "" {
				fmt.Fprintf(&body, "\n%s\n", indent(page.Code, "    "))
			}
		}
		if page.Detail != "" {
			fmt.Fprintf(&body, "\nError: %s\n", page.Detail)
		}
	}
	h.Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(page.Status)
	if r.Method != http.MethodHead {
		w.Write(body.Bytes())
	}
}
