package notify

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// SMTPConfig is where digests are sent from, parsed from an SMTP URL.
type SMTPConfig struct {
	Host, Port         string
	Username, Password string // empty: no AUTH
	From               string // the envelope and From address
	ImplicitTLS        bool   // smtps://: TLS from the first byte (port 465)
}

// ParseSMTPURL reads smtp://[user[:password]@]host[:port]?from=address
// (STARTTLS when the server offers it; port 587 by default) or smtps://…
// (implicit TLS, port 465 by default). from is required.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	var c SMTPConfig
	u, err := url.Parse(raw)
	if err != nil {
		return c, fmt.Errorf("notify: smtp url: %w", err)
	}
	switch u.Scheme {
	case "smtp":
		c.Port = "587"
	case "smtps":
		c.Port, c.ImplicitTLS = "465", true
	default:
		return c, fmt.Errorf("notify: smtp url: scheme %q: want smtp:// or smtps://", u.Scheme)
	}
	if c.Host = u.Hostname(); c.Host == "" {
		return c, errors.New("notify: smtp url: no host")
	}
	if p := u.Port(); p != "" {
		c.Port = p
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q := u.Query()
	for k := range q {
		if k != "from" {
			return c, fmt.Errorf("notify: smtp url: unknown parameter %q (only from)", k)
		}
	}
	from, err := mail.ParseAddress(q.Get("from"))
	if err != nil {
		return c, fmt.Errorf("notify: smtp url: from=%q: want an email address: %w", q.Get("from"), err)
	}
	c.From = from.Address
	return c, nil
}

// SMTPMailer sends mail with net/smtp, one connection per mail.
type SMTPMailer struct {
	cfg SMTPConfig
	// Timeout bounds one whole mail, from dialling to QUIT (default 30 s).
	Timeout time.Duration
	// TLS, when set, replaces the default TLS configuration (tests).
	TLS *tls.Config
}

var _ Mailer = (*SMTPMailer)(nil)

// NewSMTPMailer returns a mailer for cfg.
func NewSMTPMailer(cfg SMTPConfig) *SMTPMailer {
	return &SMTPMailer{cfg: cfg, Timeout: 30 * time.Second}
}

// Send delivers m to the SMTP server (RFC 5321): EHLO, STARTTLS when
// offered, AUTH PLAIN when a user is set (net/smtp refuses it on an
// unencrypted connection except to localhost), MAIL, RCPT, DATA, QUIT.
func (s *SMTPMailer) Send(ctx context.Context, m Mail) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("notify: recipient %q: %w", m.To, err)
	}
	msg, err := message(s.cfg.From, to.Address, m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	addr := net.JoinHostPort(s.cfg.Host, s.cfg.Port)
	tlsCfg := s.TLS
	if tlsCfg == nil {
		tlsCfg = &tls.Config{ServerName: s.cfg.Host, MinVersion: tls.VersionTLS12}
	}
	var conn net.Conn
	if s.cfg.ImplicitTLS {
		conn, err = (&tls.Dialer{Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("notify: smtp %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl) // every read and write of the session
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("notify: smtp %s: %w", addr, err)
	}
	defer c.Close()
	if err := s.session(c, tlsCfg, to.Address, msg); err != nil {
		return fmt.Errorf("notify: smtp %s: %w", addr, err)
	}
	return nil
}

func (s *SMTPMailer) session(c *smtp.Client, tlsCfg *tls.Config, to string, msg []byte) error {
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !s.cfg.ImplicitTLS {
		if err := c.StartTLS(tlsCfg); err != nil {
			return err
		}
	}
	if s.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return err
		}
	}
	if err := c.Mail(s.cfg.From); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message formats a plain-text mail in UTF-8 (RFC 5322 headers, an RFC 2047
// subject, a quoted-printable body), with CRLF line ends. Addresses come
// parsed, and no other caller text reaches a header unencoded.
func message(from, to string, m Mail) ([]byte, error) {
	var id [12]byte
	rand.Read(id[:])
	domain := from[strings.LastIndexByte(from, '@')+1:]
	var b strings.Builder
	h := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	h("From", (&mail.Address{Name: "Préau", Address: from}).String())
	h("To", "<"+to+">")
	h("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	h("Date", time.Now().Format(time.RFC1123Z))
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+domain+">")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	h("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies, please
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(m.Body, "\n", "\r\n"))); err != nil {
		return nil, fmt.Errorf("notify: message: %w", err)
	}
	if err := qp.Close(); err != nil {
		return nil, fmt.Errorf("notify: message: %w", err)
	}
	return []byte(b.String()), nil
}
