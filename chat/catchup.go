package chat

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Catch-up: a connection gets from the store what the broker did not bring
// it, without reconnecting. The broker loses payloads when Redis goes away
// (nothing published meanwhile reaches the other nodes), when a node dies
// between a commit and its publish, or when a subscriber's buffer is full.
// Two signals start a catch-up of one conversation on one connection:
//
//   - the broker says a subscription was re-established after a cut
//     (Resumer): every local connection of the topic reads what follows
//     the last seq it holds in order;
//   - a live message leaves a hole (seq above the next expected) that is
//     still open gapWait later.
//
// A hole needs a later message to show. So that the last messages a node
// failed to publish do not stay unseen elsewhere, the node publishes again,
// every republishEvery until it works, the last such message of each
// conversation (republishLoop): other nodes skip it or see the hole below.
//
// A catch-up is a replay like a subscription's (sync): live frames wait in
// the connection's state meanwhile and seqs already sent are skipped, so
// each message still reaches a connection once. After a resumption the
// replayed messages come in order, before the live ones; a hole's messages
// come after the later message that showed it (clients order by seq).

// Resumer is a Broker whose subscriptions can be cut and re-established
// (RedisBroker, when its connection to Redis drops and comes back). What
// was published meanwhile never arrives: the hub replays it from the store.
type Resumer interface {
	// OnResume calls fn with a topic each time its subscription is
	// established again after a cut, before any payload published after
	// that is delivered. fn must not block. stop unregisters fn.
	OnResume(fn func(topic string)) (stop func())
}

var _ Resumer = (*RedisBroker)(nil)

// gapWait is how long a hole in a conversation's seqs may stay open
// before the store is read: live messages of concurrent senders overtake
// each other by far less.
const gapWait = time.Second

// maxAhead bounds the seqs a connection holds above a hole; beyond, it is
// closed as too slow and recovers by reconnecting.
const maxAhead = 4096

// maxOverflows is how many replay rounds in a row may find live messages
// dropped (the connection's pending frames full) before the connection is
// closed as too slow.
const maxOverflows = 8

const reasonCatchUp = "Messages manquants : reconnexion nécessaire."

// noteLocked records that seq is sent to the connection; false when it
// already was (a duplicate: do not send it). A hole left below seq arms the
// gap timer. c.mu is held.
func (c *client) noteLocked(conv int64, st *convState, seq int64) bool {
	if seq <= st.replayed {
		return false
	}
	if _, dup := st.ahead[seq]; dup {
		return false
	}
	if seq == st.replayed+1 {
		st.replayed = seq
		for len(st.ahead) > 0 {
			if _, ok := st.ahead[st.replayed+1]; !ok {
				break
			}
			delete(st.ahead, st.replayed+1)
			st.replayed++
		}
		if len(st.ahead) == 0 {
			st.stopGap()
		}
		return true
	}
	if st.ahead == nil {
		st.ahead = map[int64]struct{}{}
	}
	st.ahead[seq] = struct{}{}
	if len(st.ahead) > maxAhead {
		c.slow()
	}
	if st.gap == nil {
		var t *time.Timer
		t = time.AfterFunc(gapWait, func() {
			c.mu.Lock()
			if st.gap == t {
				st.gap = nil
			}
			c.mu.Unlock()
			c.catchUp(conv, true)
		})
		st.gap = t
	}
	return true
}

// stopGap disarms the gap timer; c.mu is held.
func (st *convState) stopGap() {
	if st.gap != nil {
		st.gap.Stop()
		st.gap = nil
	}
}

// resumed is the Resumer's callback: every local connection of the topic's
// conversation catches up. It only marks and starts goroutines: it runs on
// the broker's reader.
func (h *Hub) resumed(name string) {
	id, ok := strings.CutPrefix(name, h.cfg.Namespace+":chat:conv:")
	if !ok {
		return
	}
	conv, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return
	}
	h.mu.Lock()
	var cs []*client
	if t := h.topics[conv]; t != nil {
		cs = t.clients
	}
	h.mu.Unlock()
	if len(cs) > 0 {
		h.log.Info("chat: broker subscription back; catching up from the store", "conversation", conv, "connections", len(cs))
	}
	for _, c := range cs {
		c.catchUp(conv, false)
	}
}

// catchUp replays to c what it lacks of conv from the store, in a goroutine
// of its own. gapOnly: only if a hole is still open. Otherwise live frames
// are held from now on, so that they follow what is replayed.
func (c *client) catchUp(conv int64, gapOnly bool) {
	h := c.h
	c.mu.Lock()
	st := c.convs[conv]
	if st != nil && !gapOnly {
		st.syncing = true
	}
	c.mu.Unlock()
	if st == nil {
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.catchWG.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.catchWG.Done()
		c.replayMu.Lock()
		defer c.replayMu.Unlock()
		c.mu.Lock()
		if c.convs[conv] != st || (gapOnly && len(st.ahead) == 0) {
			c.mu.Unlock()
			return
		}
		st.syncing = true
		after := st.replayed
		c.mu.Unlock()
		select {
		case <-c.dead:
			return
		default:
		}
		if err := c.sync(h.ctx, 0, conv, st, after, false); err != nil && !errors.Is(err, errKilled) {
			h.log.Warn("chat: catch-up failed; the connection recovers by reconnecting", "conversation", conv, "user", c.user, "err", err)
			c.kill(websocket.StatusTryAgainLater, reasonCatchUp)
		}
	}()
}

// sync replays conv to c from the store after seq after, skipping what c
// already holds, then sends what arrived live meanwhile (st.pending) and
// goes live. announce: a subscription's replay, ended by "subscribed"
// (request id). The caller holds c.replayMu and has set st.syncing. A
// non-nil error ends the connection.
func (c *client) sync(ctx context.Context, id, conv int64, st *convState, after int64, announce bool) error {
	// fresh records m as sent unless the connection already has it.
	fresh := func(seq int64) bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.noteLocked(conv, st, seq)
	}
	// Rounds: read the store from after, then send what arrived live
	// meanwhile; read the store again when live messages had to be
	// dropped (pending full), up to maxOverflows rounds in a row: a
	// connection that stays behind the live rate is too slow.
	overflows := 0
	for reread := true; ; {
		for reread {
			opCtx, cancel := context.WithTimeout(ctx, opTimeout)
			ms, err := c.h.store.Since(opCtx, conv, after, replayPage)
			cancel()
			if err != nil {
				if announce {
					c.fail(id, err)
				}
				return err
			}
			if !c.subscribedTo(conv, st) {
				return nil // removed meanwhile: nothing more of it
			}
			for _, m := range ms {
				after = m.Seq
				if !fresh(m.Seq) {
					continue
				}
				if held, err := c.holdOrOverflow(st, encodeMessage(m), time.UnixMilli(m.CreatedAtMs)); held || err != nil {
					if err != nil {
						return err
					}
					continue
				}
				if err := c.replayFrame(encodeMessage(m)); err != nil {
					return err
				}
			}
			reread = len(ms) == replayPage
		}
		if announce {
			announce = false
			if err := c.replayFrame(encode(TypeSubscribed, id, SubscribedData{Conversation: conv, Seq: after})); err != nil {
				return err
			}
		}
		// What arrived live during the replay, then live.
		c.mu.Lock()
		p := st.pending
		st.pending = nil
		reread, st.overflow = st.overflow, false
		if len(p) == 0 && !reread {
			st.syncing = false
			c.mu.Unlock()
			return nil
		}
		c.mu.Unlock()
		if !reread {
			overflows = 0
		} else if overflows++; overflows > maxOverflows {
			c.slow()
			return errKilled
		}
		// By message, a change after the message it changes.
		slices.SortStableFunc(p, func(a, b pendingFrame) int {
			return cmp.Or(cmp.Compare(abs(a.seq), abs(b.seq)), cmp.Compare(b.seq, a.seq))
		})
		for _, f := range p {
			if f.seq > 0 {
				if !fresh(f.seq) {
					continue
				}
				if held, err := c.holdOrOverflow(st, f.frame, f.at); held || err != nil {
					if err != nil {
						return err
					}
					continue
				}
			}
			if err := c.replayFrame(f.frame); err != nil {
				return err
			}
		}
	}
}

// republishEvery is how often messages whose publish failed are tried
// again; maxUnsent bounds the conversations remembered (beyond, their
// other nodes' clients catch up at their next message or reconnection).
const (
	republishEvery = 500 * time.Millisecond
	maxUnsent      = 10000
)

// unsentMsg is a broker payload whose publish failed.
type unsentMsg struct {
	seq     int64
	payload []byte
}

// keepUnsent remembers the payload of message seq of conv after a failed
// publish, unless a later one of the conversation is already kept.
func (h *Hub) keepUnsent(conv, seq int64, payload []byte) {
	h.unsentMu.Lock()
	defer h.unsentMu.Unlock()
	if u, ok := h.unsent[conv]; (ok && u.seq >= seq) || (!ok && len(h.unsent) >= maxUnsent) {
		return
	}
	h.unsent[conv] = unsentMsg{seq, payload}
}

// republishLoop publishes the kept payloads again until each goes through,
// until the hub ends.
func (h *Hub) republishLoop() {
	defer h.republishWG.Done()
	t := time.NewTicker(republishEvery)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.unsentMu.Lock()
		todo := make(map[int64]unsentMsg, len(h.unsent))
		for conv, u := range h.unsent {
			todo[conv] = u
		}
		h.unsentMu.Unlock()
		for conv, u := range todo {
			ctx, cancel := context.WithTimeout(h.ctx, 2*time.Second)
			err := h.broker.Publish(ctx, h.topicName(conv), u.payload)
			cancel()
			if err != nil {
				break // still away: try again at the next tick
			}
			h.unsentMu.Lock()
			if h.unsent[conv].seq == u.seq {
				delete(h.unsent, conv)
			}
			h.unsentMu.Unlock()
		}
	}
}
