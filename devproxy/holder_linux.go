package devproxy

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// portHolder names the process listening on addr ("IP:PORT"), such as
// "node (pid 4242)", from /proc: the kernel's socket tables give the
// listening socket's inode and owner, and the file descriptors of each
// process lead to the inode. It is best effort: a process of another user
// whose descriptors cannot be read is named by its user only, and "" means
// the system did not say.
func portHolder(addr string) string {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	ip := net.ParseIP(host)
	port, err := strconv.Atoi(portStr)
	if ip == nil || err != nil {
		return ""
	}
	var socks []listeningSocket
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		for _, s := range parseProcNetTCP(io.LimitReader(f, 64<<20)) {
			if s.port == port && (s.ip.Equal(ip) || s.ip.IsUnspecified()) {
				socks = append(socks, s)
			}
		}
		f.Close()
	}
	if len(socks) == 0 {
		return ""
	}
	want := map[string]bool{}
	for _, s := range socks {
		want["socket:["+s.inode+"]"] = true
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid := p.Name()
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		fds, err := os.ReadDir(filepath.Join("/proc", pid, "fd"))
		if err != nil {
			continue // gone, or another user's
		}
		for _, fd := range fds {
			if link, err := os.Readlink(filepath.Join("/proc", pid, "fd", fd.Name())); err == nil && want[link] {
				comm, _ := os.ReadFile(filepath.Join("/proc", pid, "comm"))
				if name := strings.TrimSpace(string(comm)); name != "" {
					return fmt.Sprintf("%s (pid %s)", name, pid)
				}
				return "pid " + pid
			}
		}
	}
	uid := socks[0].uid
	if u, err := user.LookupId(uid); err == nil {
		return fmt.Sprintf("a process of user %s", u.Username)
	}
	return fmt.Sprintf("a process of uid %s", uid)
}
