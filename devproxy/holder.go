package devproxy

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"io"
	"net"
	"strconv"
	"strings"
)

// listeningSocket is a socket in the LISTEN state from /proc/net/tcp{,6}.
type listeningSocket struct {
	ip    net.IP
	port  int
	uid   string
	inode string
}

// parseProcNetTCP reads the listening sockets of a /proc/net/tcp or
// /proc/net/tcp6 table. Lines it cannot read are skipped.
func parseProcNetTCP(r io.Reader) []listeningSocket {
	var out []listeningSocket
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" { // 0A: TCP_LISTEN
			continue
		}
		ipHex, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		raw, err := hex.DecodeString(ipHex)
		if err != nil || (len(raw) != 4 && len(raw) != 16) {
			continue
		}
		port, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil {
			continue
		}
		// The address is printed as 32-bit words in the kernel's byte
		// order: turn each word back into network order.
		ip := make(net.IP, len(raw))
		for i := 0; i < len(raw); i += 4 {
			binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
		}
		if _, err := strconv.ParseUint(f[9], 10, 64); err != nil {
			continue
		}
		out = append(out, listeningSocket{ip: ip, port: int(port), uid: f[7], inode: f[9]})
	}
	return out
}
