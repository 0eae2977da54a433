package localca

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// EncodePEM returns the certificate chain and the private key of cert in
// PEM form: CERTIFICATE blocks, and a PKCS #8 "PRIVATE KEY" block that every
// web server and language reads.
func EncodePEM(cert *tls.Certificate) (certPEM, keyPEM []byte, err error) {
	if cert == nil || len(cert.Certificate) == 0 {
		return nil, nil, errors.New("no certificate to encode")
	}
	for _, der := range cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding private key: %w", err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// WriteFiles writes cert's chain to certFile (mode 0644) and its private key
// to keyFile (mode 0600, readable by its owner alone). Each file is written
// to a temporary name and moved into place, so a reader never sees half a
// key. Unless overwrite is set, WriteFiles refuses, before writing anything,
// when either file exists; the error wraps fs.ErrExist.
func WriteFiles(cert *tls.Certificate, certFile, keyFile string, overwrite bool) error {
	if certFile == "" || keyFile == "" {
		return errors.New("certificate and key file names must not be empty")
	}
	if filepath.Clean(certFile) == filepath.Clean(keyFile) {
		return fmt.Errorf("certificate and key would both be written to %s; give two different files", certFile)
	}
	certPEM, keyPEM, err := EncodePEM(cert)
	if err != nil {
		return err
	}
	if !overwrite {
		for _, f := range []string{certFile, keyFile} {
			if _, err := os.Lstat(f); err == nil {
				return fmt.Errorf("%s already exists (use --force to replace it): %w", f, fs.ErrExist)
			}
		}
		if err := writeFileNew(keyFile, keyPEM, 0o600); err != nil {
			return fmt.Errorf("writing key: %w", err)
		}
		if err := writeFileNew(certFile, certPEM, 0o644); err != nil {
			os.Remove(keyFile) // we created it a moment ago; leave no orphan key
			return fmt.Errorf("writing certificate: %w", err)
		}
		return nil
	}
	if err := writeFileReplace(keyFile, keyPEM, 0o600); err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	if err := writeFileReplace(certFile, certPEM, 0o644); err != nil {
		return fmt.Errorf("writing certificate: %w", err)
	}
	return nil
}

// DefaultFileNames returns the file names "httpsguard cert" uses for names:
// the first name, with "+N" when there are more and "_wildcard" for "*", as
// in "localhost+2.pem" and "localhost+2-key.pem" (mkcert's convention, so
// existing scripts and .gitignore entries keep working).
func DefaultFileNames(names []Name) (certFile, keyFile string) {
	if len(names) == 0 {
		return "cert.pem", "cert-key.pem"
	}
	base := names[0].String()
	if names[0].IsWildcard() {
		base = "_wildcard" + base[1:]
	}
	// Colons in IPv6 addresses are not allowed in Windows file names.
	b := []byte(base)
	for i, c := range b {
		if c == ':' {
			b[i] = '_'
		}
	}
	base = string(b)
	if len(names) > 1 {
		base = fmt.Sprintf("%s+%d", base, len(names)-1)
	}
	return base + ".pem", base + "-key.pem"
}
