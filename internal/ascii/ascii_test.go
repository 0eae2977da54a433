package ascii

import "testing"

func TestIs(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"example.com", true},
		{"\x00\t\x7f", true},
		{"bücher", false},
		{"\x80", false},
		{"\xff", false},
		{"abc\xc3", false},
	}
	for _, tt := range tests {
		if got := Is(tt.in); got != tt.want {
			t.Errorf("Is(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
