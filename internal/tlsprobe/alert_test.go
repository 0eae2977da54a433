package tlsprobe

import "testing"

func TestAlertName(t *testing.T) {
	for d, want := range map[byte]string{
		0: "close_notify", 40: "handshake_failure", 48: "unknown_ca", 70: "protocol_version",
		112: "unrecognized_name", 120: "no_application_protocol", 201: "alert_201",
	} {
		if got := AlertName(d); got != want {
			t.Errorf("AlertName(%d) = %q, want %q", d, got, want)
		}
	}
}
