package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Forms carry an anti-CSRF token that needs no cookie and no session: an
// HMAC, under a key shared by every instance through the database, of the
// client's address and the current hour. Another site can get a token for
// its own address, but not for its visitors', so it cannot make their
// browsers start scans (spending their rate limit in their name). A token
// stays valid for one to two hours. Requests carrying Sec-Fetch-Site:
// cross-site or a foreign Origin are refused before the token is even
// looked at.

const (
	csrfField  = "csrf_token"
	csrfWindow = time.Hour
)

func (s *Server) csrfToken(client string, now time.Time) string {
	return s.csrfTokenAt(client, now.Unix()/int64(csrfWindow/time.Second))
}

func (s *Server) csrfTokenAt(client string, window int64) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(strconv.FormatInt(window, 10)))
	m.Write([]byte{0})
	m.Write([]byte(client))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
}

// csrfValid reports whether token was issued to client in this window or
// the previous one.
func (s *Server) csrfValid(token, client string, now time.Time) bool {
	w := now.Unix() / int64(csrfWindow/time.Second)
	for _, win := range []int64{w, w - 1} {
		if hmac.Equal([]byte(token), []byte(s.csrfTokenAt(client, win))) {
			return true
		}
	}
	return false
}

// crossSite reports whether the browser says the request comes from
// another site: Sec-Fetch-Site, or else an Origin whose host is not ours.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	case "same-origin", "none":
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	return err != nil || u.Host != r.Host
}
