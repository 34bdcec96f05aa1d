package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "preau-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestServeTLS: with --tls-cert/--tls-key Préau serves HTTPS, sends HSTS, and
// the session cookie is __Host- prefixed and Secure.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	base, _ := startServe(t, "--demo", "--data", dir, "--tls-cert", cert, "--tls-key", key)
	base = strings.Replace(base, "http://", "https://", 1)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // a test certificate
	resp, err := c.Post(base+"/api/v1/auth/login", "application/json",
		strings.NewReader(`{"login":"direction.demo","password":"preau-demo-2026"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("login over TLS: %d", resp.StatusCode)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(h, "max-age=") {
		t.Errorf("no HSTS over TLS: %q", h)
	}
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "__Host-preau_session" {
			found = ck.Secure && ck.HttpOnly && ck.Path == "/" && ck.Domain == ""
		}
	}
	if !found {
		t.Errorf("cookies %v: want a Secure, HttpOnly __Host-preau_session", resp.Header.Values("Set-Cookie"))
	}
}

func TestServeFlags(t *testing.T) {
	if _, err := parseServe([]string{"--tls-cert", "x.pem"}); err == nil {
		t.Error("--tls-cert without --tls-key accepted")
	}
	t.Setenv("PREAU_ADDR", "127.0.0.1:9999")
	t.Setenv("PREAU_DEMO", "true")
	c, err := parseServe(nil)
	if err != nil || c.Addr != "127.0.0.1:9999" || !c.Demo || c.DemoPassword != "preau-demo-2026" || c.Data != "./data" {
		t.Fatalf("environment defaults: %+v %v", c, err)
	}
	if c, _ := parseServe([]string{"--addr", ":7000"}); c.Addr != ":7000" {
		t.Errorf("a flag does not override the environment: %q", c.Addr)
	}
	if c.ChatSendLimit != 20 {
		t.Errorf("default chat send limit %d, want 20 per 10 s (SECURITY.md)", c.ChatSendLimit)
	}
	for _, bad := range []string{"0", "1001", "beaucoup"} {
		if _, err := parseServe([]string{"--chat-send-limit", bad}); err == nil {
			t.Errorf("--chat-send-limit %s accepted", bad)
		}
	}
	if c, err := parseServe([]string{"--chat-send-limit", "100"}); err != nil || c.ChatSendLimit != 100 {
		t.Errorf("--chat-send-limit 100: %d, %v", c.ChatSendLimit, err)
	}
	if _, err := parseProxies("10.0.0.1, 192.168.0.0/16"); err != nil {
		t.Error(err)
	}
	if _, err := parseProxies("pas une adresse"); err == nil {
		t.Error("bad proxy address accepted")
	}
}
