package autotls

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// httpHandler serves the plain-HTTP listener: the CA's HTTP-01 challenges,
// and a redirect to the HTTPS listener (on httpsPort) for everything else,
// through the Guard, which answers 400 to a host the policy does not allow.
func (s *Server) httpHandler(httpsPort int) http.Handler {
	port := ""
	if httpsPort != 443 {
		port = ":" + strconv.Itoa(httpsPort)
	}
	redirect := s.plain.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := hostName(r.Host)
		if !ok {
			http.Error(w, "400 Bad Request: invalid Host header", http.StatusBadRequest)
			return
		}
		if s.opts.OnDemand != nil && s.decide(r.Context(), strings.ToLower(name)) != nil {
			// No certificate will ever be served for it: a redirect would
			// only lead to a TLS error, and would make this an open
			// redirect for every name pointed at the server.
			http.Error(w, "400 Bad Request: this server has no certificate for that host", http.StatusBadRequest)
			return
		}
		code := http.StatusPermanentRedirect // keeps the method and the body
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			code = http.StatusMovedPermanently
		}
		uri := r.URL.RequestURI()
		if !strings.HasPrefix(uri, "/") {
			uri = "/"
		}
		if strings.Contains(name, ":") {
			name = "[" + name + "]"
		}
		http.Redirect(w, r, "https://"+name+port+uri, code)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.issuer.HandleHTTPChallenge(w, r) {
			return
		}
		redirect.ServeHTTP(w, r)
	})
}

// httpsHandler serves the HTTPS listener: the application inside the
// Guard. With OnDemand, the Host must be the name the TLS handshake asked
// for (and OnDemand approved): 421 Misdirected Request otherwise, so a
// client cannot use one approved name's connection to reach others.
func (s *Server) httpsHandler() http.Handler {
	h := s.handler
	if s.opts.OnDemand != nil {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if name, ok := hostName(r.Host); r.TLS != nil && r.TLS.ServerName != "" &&
				(!ok || !strings.EqualFold(name, r.TLS.ServerName)) && !slices.Contains(s.domains, strings.ToLower(name)) {
				http.Error(w, "421 Misdirected Request: the Host is not the name this connection was made for", http.StatusMisdirectedRequest)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	return s.guard.Handler(h)
}

// hostName returns the host of a Host header without its port (and without
// the brackets of an IPv6 literal or a trailing dot), when it is a DNS name
// or an IP address that can go into a URL as it is.
func hostName(host string) (string, bool) {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		name = host[1 : len(host)-1]
	}
	if a, err := netip.ParseAddr(name); err == nil {
		return a.WithZone("").String(), a.Zone() == ""
	}
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return "", false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return "", false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", false
			}
		}
	}
	return name, true
}
