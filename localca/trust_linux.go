package localca

import (
	"path/filepath"

	"github.com/smallstep/truststore"
)

// systemStoreNote says where the root went, for the install report.
func systemStoreNote() string {
	if truststore.SystemTrustFilename == "" {
		return ""
	}
	return " (" + filepath.Dir(truststore.SystemTrustFilename) + ")"
}
