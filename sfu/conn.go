package sfu

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

const (
	joinTimeout  = 10 * time.Second // the join must come this soon after the handshake
	idleTimeout  = 75 * time.Second // clients ping every 30 s
	writeTimeout = 5 * time.Second
	sendQueue    = 64 // events queued per connection before it is closed as too slow
	rateBurst    = 40 // signaling messages in a burst (trickled candidates come in bursts)
	ratePerSec   = 10
)

// frenchMessages are the texts shown to users for each error code.
var frenchMessages = map[string]string{
	"bad_message":   "Message de signalisation invalide.",
	"bad_grant":     "Autorisation d'accès invalide.",
	"expired":       "Autorisation d'accès expirée, veuillez recharger la page.",
	"wrong_room":    "Cette autorisation ne concerne pas cette salle.",
	"unknown_room":  "Cette salle n'existe pas ou est terminée.",
	"locked":        "La salle est verrouillée.",
	"kicked":        "Vous avez été retiré de la salle.",
	"forbidden":     "Action non autorisée.",
	"not_found":     "Participant introuvable.",
	"track_refused": "Publication refusée : vous n'avez pas la parole.",
	"rate_limited":  "Trop de messages, connexion fermée.",
	"bad_sdp":       "Description de session invalide.",
	"slow_client":   "Connexion trop lente.",
	"replaced":      "Vous avez rejoint la salle depuis un autre appareil.",
	"denied":        "L'enseignant n'a pas accepté votre entrée dans la salle.",
	"internal":      "Erreur interne du serveur.",
	"revoked":       "Session terminée : reconnectez-vous.",
	"draining":      "Le serveur redémarre : la salle va se fermer dans quelques instants.",
}

func errorEvent(code string) Event {
	return Event{Type: TypeError, Code: code, Message: frenchMessages[code]}
}

// joinErrorCode maps Join and Verify errors to an error code.
func joinErrorCode(err error) string {
	switch {
	case errors.Is(err, ErrExpired):
		return "expired"
	case errors.Is(err, ErrWrongRoom):
		return "wrong_room"
	case errors.Is(err, ErrUnknownRoom):
		return "unknown_room"
	case errors.Is(err, ErrRoomLocked):
		return "locked"
	case errors.Is(err, ErrKicked):
		return "kicked"
	case errors.Is(err, ErrBadGrant):
		return "bad_grant"
	}
	return "internal"
}

// serveWS accepts the socket (coder/websocket checks Origin against Host by
// default), reads the join, then runs the participant until it leaves.
func (m *Manager) serveWS(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		http.Error(w, "service indisponible", http.StatusServiceUnavailable)
		return
	}
	m.conns.Add(1)
	m.mu.Unlock()
	defer m.conns.Done()

	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	c.SetReadLimit(MaxFrame)
	ctx := context.WithoutCancel(r.Context())

	refuse := func(code string) {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		_ = c.Write(wctx, websocket.MessageText, encode(errorEvent(code)))
		cancel()
		c.Close(websocket.StatusPolicyViolation, code)
	}
	rctx, cancel := context.WithTimeout(ctx, joinTimeout)
	typ, b, err := c.Read(rctx)
	cancel()
	if err != nil {
		c.CloseNow()
		return
	}
	msg, err := Decode(b)
	if typ != websocket.MessageText || err != nil || msg.Type != TypeJoin {
		refuse("bad_message")
		return
	}
	g, err := m.signer.Verify(msg.Grant, msg.Room, m.cfg.Now())
	if err != nil {
		refuse(joinErrorCode(err))
		return
	}
	if m.cfg.SessionUser != nil {
		if user, err := m.cfg.SessionUser(r); err != nil || user != g.UserID {
			refuse("bad_grant")
			return
		}
	}
	room := m.Room(g.Room)
	if room == nil {
		refuse("unknown_room")
		return
	}
	p, err := room.join(ctx, g, c)
	if err != nil {
		refuse(joinErrorCode(err))
		return
	}
	p.readLoop()
	p.close()
	p.wg.Wait()
}

// readLoop is the connection's one reader. It returns on any socket error,
// malformed message or flood; the caller closes the participant.
func (p *Participant) readLoop() {
	bucket := tokenBucket{tokens: rateBurst, last: time.Now()}
	for {
		// Not p.ctx: a cancelled Read closes the socket before the writer
		// has flushed the last events; the writer closes it instead.
		rctx, cancel := context.WithTimeout(context.Background(), idleTimeout)
		typ, b, err := p.conn.Read(rctx)
		cancel()
		if err != nil {
			return // includes frames over MaxFrame: the library closes with 1009
		}
		if !bucket.take(time.Now()) {
			p.fail("rate_limited")
			return
		}
		msg, err := Decode(b)
		if typ != websocket.MessageText || err != nil || msg.Type == TypeJoin {
			p.fail("bad_message")
			return
		}
		if !p.handle(msg) {
			return
		}
	}
}

// writeLoop is the connection's one writer. When the participant closes it
// flushes what is queued (the "ended" or "kicked" event), then closes the
// socket.
func (p *Participant) writeLoop() {
	defer p.wg.Done()
	write := func(b []byte, d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return p.conn.Write(ctx, websocket.MessageText, b)
	}
	for {
		select {
		case b := <-p.out:
			if err := write(b, writeTimeout); err != nil {
				go p.close()
				p.conn.CloseNow()
				return
			}
		case <-p.ctx.Done():
			for flushing := true; flushing; {
				select {
				case b := <-p.out:
					if write(b, time.Second) != nil {
						flushing = false
					}
				default:
					flushing = false
				}
			}
			p.closeSocket()
			return
		}
	}
}

func (p *Participant) closeSocket() {
	code, reason := websocket.StatusNormalClosure, ""
	p.mu.Lock()
	if p.closeCode != "" {
		code, reason = websocket.StatusPolicyViolation, p.closeCode
	}
	p.mu.Unlock()
	// Close waits for the peer's close frame for a few seconds at most; the
	// reader, still running, receives it.
	_ = p.conn.Close(code, reason)
}

// tokenBucket limits signaling messages per connection.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (b *tokenBucket) take(now time.Time) bool {
	b.tokens += now.Sub(b.last).Seconds() * ratePerSec
	if b.tokens > rateBurst {
		b.tokens = rateBurst
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
