package h2server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// newRequest builds a stream's request from its HEADERS, with the rules
// of net/http's HTTP/2 server; a malformed request is a stream error.
func (sc *serverConn) newRequest(st *stream, f *http2.MetaHeadersFrame) (*http.Request, error) {
	method := f.PseudoValue("method")
	scheme := f.PseudoValue("scheme")
	authority := f.PseudoValue("authority")
	path := f.PseudoValue("path")
	malformed := http2.StreamError{StreamID: st.id, Code: http2.ErrCodeProtocol}
	if f.PseudoValue("protocol") != "" {
		return nil, malformed // extended CONNECT is not offered
	}
	isConnect := method == "CONNECT"
	if isConnect {
		if path != "" || scheme != "" || authority == "" {
			return nil, malformed
		}
	} else if method == "" || path == "" || (scheme != "https" && scheme != "http") {
		return nil, malformed
	}

	regular := f.RegularFields()
	header := make(http.Header, len(regular))
	for _, hf := range regular {
		k := sc.canonicalHeader(hf.Name)
		header[k] = append(header[k], hf.Value)
	}
	if authority == "" {
		authority = header.Get("Host")
	}
	needsContinue := httpguts.HeaderValuesContainsToken(header["Expect"], "100-continue")
	if needsContinue {
		delete(header, "Expect")
	}
	if cookies := header["Cookie"]; len(cookies) > 1 {
		header["Cookie"] = []string{strings.Join(cookies, "; ")}
	}
	var trailer http.Header
	for _, v := range header["Trailer"] {
		for key := range strings.SplitSeq(v, ",") {
			key = textproto.CanonicalMIMEHeaderKey(textproto.TrimString(key))
			switch key {
			case "Transfer-Encoding", "Trailer", "Content-Length":
				// Not allowed as trailers; ignored, as in HTTP/1.1.
			default:
				if trailer == nil {
					trailer = make(http.Header)
				}
				trailer[key] = nil
			}
		}
	}
	delete(header, "Trailer")
	if strings.IndexByte(authority, '@') != -1 && (scheme == "http" || scheme == "https") {
		return nil, malformed // RFC 9113, section 8.3.1: no userinfo
	}
	var u *url.URL
	var requestURI string
	if isConnect {
		u = &url.URL{Host: authority}
		requestURI = authority
	} else {
		var err error
		if u, err = url.ParseRequestURI(path); err != nil {
			return nil, malformed
		}
		requestURI = path
	}
	body := &requestBody{st: st, needsContinue: needsContinue}
	req := &http.Request{
		Method:     method,
		URL:        u,
		RemoteAddr: sc.remoteAddr,
		Header:     header,
		RequestURI: requestURI,
		Proto:      "HTTP/2.0",
		ProtoMajor: 2,
		ProtoMinor: 0,
		TLS:        sc.tlsState, // whatever :scheme says, as net/http's Server sets it
		Host:       authority,
		Body:       body,
		Trailer:    trailer,
	}
	req = req.WithContext(st.ctx)
	if !f.StreamEnded() {
		if vv, ok := header["Content-Length"]; ok {
			if cl, err := strconv.ParseUint(vv[0], 10, 63); err == nil {
				req.ContentLength = int64(cl)
			} else {
				req.ContentLength = 0
			}
		} else {
			req.ContentLength = -1
		}
		st.body = newPipe()
		body.pipe = st.body
	}
	return req, nil
}

// canonicalHeader is http.CanonicalHeaderKey with a per-connection cache:
// HTTP/2 sends names in lower case, so nearly every name would otherwise
// be a new string per request.
func (sc *serverConn) canonicalHeader(v string) string {
	if s, ok := sc.canon[v]; ok {
		return s
	}
	s := http.CanonicalHeaderKey(v)
	const maxCached, maxEntry = 100, 64
	if sc.canon == nil {
		sc.canon = make(map[string]string)
	}
	if len(sc.canon) < maxCached && len(v) <= maxEntry {
		sc.canon[v] = s
	}
	return s
}

// connHeaders are the header fields RFC 9113 (section 8.2.2) forbids.
var connHeaders = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"}

// checkRequestHeaders reports a request net/http answers with 400.
func checkRequestHeaders(h http.Header) error {
	for _, k := range connHeaders {
		if _, ok := h[k]; ok {
			return fmt.Errorf("request header %q is not valid in HTTP/2", k)
		}
	}
	te := h["Te"]
	if len(te) > 0 && (len(te) > 1 || (te[0] != "trailers" && te[0] != "")) {
		return errors.New(`request header "TE" may only be "trailers" in HTTP/2`)
	}
	return nil
}

func badRequest(err error) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, err.Error(), http.StatusBadRequest)
	}
}

// globalOptions answers "OPTIONS *" as net/http's Server does, rather
// than pass it to the handler: with no body and a Content-Length of 0,
// after reading up to 4 KiB of a request body.
func globalOptions(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Length", "0")
	if r.ContentLength != 0 {
		_, _ = io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, 4<<10))
	}
}

// headerListTooLong answers a request whose header list is over the
// limit (RFC 9113, section 10.5.1), in net/http's words.
func headerListTooLong(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
	_, _ = io.WriteString(w, "<h1>HTTP Error 431</h1><p>Request Header Field(s) Too Large</p>")
}

// write100Continue answers Expect: 100-continue when the handler first
// reads the body.
func (sc *serverConn) write100Continue(st *stream) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if st.state == stateClosed || st.wroteHeaders {
		// A response (or a 1xx) already went out: a 100 now would
		// be out of place (golang.org/issue/14030).
		return
	}
	if sc.writeHeadersLocked(st, false, func(enc *hpack.Encoder) {
		encKV(enc, ":status", "100")
	}) == nil {
		sc.flushLocked()
	}
}
