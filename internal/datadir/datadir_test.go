package datadir

import "testing"

func TestBase(t *testing.T) {
	for _, tc := range []struct {
		goos string
		env  map[string]string
		want string // "" for an error
	}{
		{"linux", map[string]string{"HOME": "/home/u"}, "/home/u/.local/share"},
		{"linux", map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "/data"}, "/data"},
		{"linux", map[string]string{"HOME": "/home/u", "XDG_DATA_HOME": "rel"}, "/home/u/.local/share"},
		{"linux", map[string]string{}, ""},
		{"darwin", map[string]string{"HOME": "/Users/u"}, "/Users/u/Library/Application Support"},
		{"windows", map[string]string{"LocalAppData": `C:\Users\u\AppData\Local`}, `C:\Users\u\AppData\Local`},
		{"windows", map[string]string{"HOME": "/home/u"}, ""},
	} {
		got, err := Base(tc.goos, func(k string) string { return tc.env[k] })
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("Base(%s, %v) = %q, %v; want %q", tc.goos, tc.env, got, err, tc.want)
		}
	}
}
