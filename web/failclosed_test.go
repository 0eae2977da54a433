package web_test

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/httpsguard/httpsguard/internal/testnet"
	"github.com/httpsguard/httpsguard/localca/localcatest"
	"github.com/httpsguard/httpsguard/scan"
	"github.com/httpsguard/httpsguard/web"
	"github.com/httpsguard/httpsguard/web/store"
	"github.com/httpsguard/httpsguard/web/store/storetest"
)

// TestUnfetchablePageIsAFailedScan submits sites whose page cannot be
// fetched through the API: the scan is stored as failed, with the cause and
// its fix, no score and no grade, and its pages still render.
func TestUnfetchablePageIsAFailedScan(t *testing.T) {
	ca := localcatest.New(t)
	cert := localcatest.Issue(t, ca, "hostile.test")
	cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, NextProtos: []string{"http/1.1"}}
	garbage := testnet.ServeConns(t, cfg, func(c net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
			io.WriteString(c, "THIS IS NOT HTTP\r\n\r\n")
		}
	})
	closed, err := testnet.ClosedAddr()
	if err != nil {
		t.Fatal(err)
	}
	dns, err := testnet.NewDNSServer(dnsmessage.RCodeNameError, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dns.Close()
	opts := scan.Options{
		RootCAs: ca.Pool(), Timeout: 20 * time.Second, Resolver: dns.Resolver(),
		Resolve: map[string]string{
			"hostile.test:443": "127.0.0.1:" + strconv.Itoa(garbage),
			"hostile.test:80":  closed,
		},
	}
	storetest.ForEach(t, func(t *testing.T, _ string, db *store.DB) {
		a := startApp(t, web.Config{Store: db, ScanOptions: opts, AllowPrivate: true, RescanAfter: -1})
		for target, kind := range map[string]scan.ErrorKind{"hostile.test": scan.KindNotHTTP, "nowhere.invalid": scan.KindDNS} {
			v := a.wait(a.submitAPI(target).ID)
			if v.State != "failed" || v.Score != nil || v.Grade != "" ||
				!strings.Contains(v.Error, "No grade ("+string(kind)+")") || !strings.Contains(v.Error, "Fix: ") {
				t.Errorf("%s: stored as %s, score %v, grade %q, error %q; want failed, no grade, the %s cause and its fix",
					target, v.State, v.Score, v.Grade, v.Error, kind)
			}
			var doc map[string]any
			if err := json.Unmarshal(v.Result, &doc); err != nil {
				t.Fatalf("%s: result document: %v", target, err)
			}
			if doc["grade"] != nil || doc["score"] != nil {
				t.Errorf("%s: the stored document has grade %v score %v", target, doc["grade"], doc["score"])
			}
			page := readBody(t, a.do("GET", "/scans/"+v.ID, "", nil))
			if !strings.Contains(page, "Scan failed") || !strings.Contains(page, string(kind)) {
				t.Errorf("%s: the result page does not show the failure:\n%.2000s", target, page)
			}
		}
	})
}
