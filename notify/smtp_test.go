package notify

import (
	"bufio"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// smtpServer is a minimal SMTP server (RFC 5321 commands only, no TLS, no
// AUTH) on 127.0.0.1 that keeps every mail it accepts.
type smtpServer struct {
	addr string
	mu   sync.Mutex
	got  []received
	// failRcpt answers 550 to the next RCPTs while positive.
	failRcpt int
}

type received struct {
	From, To string
	Data     string // as sent, headers and encoded body
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{addr: ln.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { io.WriteString(c, line+"\r\n") }
	say("220 test ESMTP")
	var m received
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-test")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = received{From: strings.Fields(line[len("MAIL FROM:"):])[0]} // then parameters: BODY=8BITMIME
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			s.mu.Lock()
			fail := s.failRcpt > 0
			s.failRcpt--
			s.mu.Unlock()
			if fail {
				say("550 no such mailbox")
				continue
			}
			m.To = strings.Trim(strings.TrimSpace(line[len("RCPT TO:"):]), "<>")
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(strings.TrimPrefix(l, ".")) // dot-stuffing
			}
			m.Data = b.String()
			s.mu.Lock()
			s.got = append(s.got, m)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "RSET", cmd == "NOOP":
			say("250 ok")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not implemented")
		}
	}
}

func (s *smtpServer) mails() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.got...)
}

// decoded returns a mail's subject and its body, decoded.
func decoded(t *testing.T, m received) (subject, body string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatalf("mail: %v\n%s", err, m.Data)
	}
	subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatal(err)
	}
	return subject, string(b)
}

func TestParseSMTPURL(t *testing.T) {
	c, err := ParseSMTPURL("smtp://ent%40example.fr:s%C3%A9cret@mail.example.fr?from=ent@example.fr")
	if err != nil {
		t.Fatal(err)
	}
	want := SMTPConfig{Host: "mail.example.fr", Port: "587", Username: "ent@example.fr", Password: "sécret", From: "ent@example.fr"}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	c, err = ParseSMTPURL("smtps://relay.example.fr:2465?from=Pr%C3%A9au%20%3Cent@example.fr%3E")
	if err != nil || c.Port != "2465" || !c.ImplicitTLS || c.From != "ent@example.fr" || c.Username != "" {
		t.Errorf("smtps: %+v %v", c, err)
	}
	for _, bad := range []string{
		"http://mail.example.fr?from=ent@example.fr",
		"smtp://mail.example.fr",
		"smtp://mail.example.fr?from=pas-une-adresse",
		"smtp://?from=ent@example.fr",
		"smtp://mail.example.fr?from=ent@example.fr&tls=off",
	} {
		if _, err := ParseSMTPURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// TestSMTPMailer: one mail through the test server, its headers encoded.
func TestSMTPMailer(t *testing.T) {
	srv := startSMTP(t)
	host, port, _ := net.SplitHostPort(srv.addr)
	m := NewSMTPMailer(SMTPConfig{Host: host, Port: port, From: "ent@example.fr"})
	err := m.Send(context.Background(), Mail{To: "parent@example.fr", Subject: "Préau : 2 messages non lus",
		Body: "Ligne 1\n.ligne qui commence par un point\n"})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.mails()
	if len(got) != 1 || got[0].To != "parent@example.fr" || got[0].From != "<ent@example.fr>" {
		t.Fatalf("mails %+v", got)
	}
	subject, body := decoded(t, got[0])
	if subject != "Préau : 2 messages non lus" || !strings.Contains(body, "\r\n.ligne qui commence") {
		t.Errorf("subject %q, body %q", subject, body)
	}
	if err := m.Send(context.Background(), Mail{To: "x@example.fr\r\nBcc: y@example.fr", Subject: "s", Body: "b"}); err == nil {
		t.Error("a recipient with a header in it was accepted")
	}
}
