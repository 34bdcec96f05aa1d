package chat

import (
	"context"
	"fmt"
	"time"
)

// Quiet hours for notifications ("droit à la déconnexion", SECURITY.md).
// A conversation's opening hours (SetHours) stop its members who are not
// moderators — pupils and families — from posting outside them; moderators
// still may. What such a message must not do is ring at night: a
// subscription made for notifications only (the home page's live badge:
// "notify": true in subscribe) receives the messages posted outside the
// opening hours only once the hours open. The message itself is stored at
// once and shown to anyone who opens the conversation; only the push is
// held.
//
// The hold is per connection: the frames wait in the subscription's state
// (convState.held, bounded like the live queue: beyond, the connection is
// closed as too slow and recovers by reconnecting) and a hub goroutine
// releases them, in seq order, at the conversation's next opening
// (Config.QuietTick). Live messages that come while some are held queue
// behind them, so that the badge still sees seqs in order. Replayed
// messages are held by the same rule, from their own time. The hours are
// read when the connection subscribes; a change (SetHours) reaches live
// subscriptions on every node like a rights change (rights.go), and what
// is held is then due by the new hours.

// heldFrame is a message frame waiting for the conversation to open.
type heldFrame struct {
	at     time.Time // when it may go
	posted time.Time
	frame  []byte
}

// nextOpening returns the first time at or after t when hours from–to
// (minutes after midnight, Europe/Paris) are open: t itself when open.
func nextOpening(t time.Time, from, to int) time.Time {
	if isOpen(t, from, to) {
		return t
	}
	lt := t.In(paris)
	open := time.Date(lt.Year(), lt.Month(), lt.Day(), from/60, from%60, 0, 0, paris)
	if open.Before(t) {
		open = time.Date(lt.Year(), lt.Month(), lt.Day()+1, from/60, from%60, 0, 0, paris)
	}
	return open
}

// holdLocked queues a new-message frame of a quiet subscription (st.quiet)
// when it was posted outside the opening hours that have not opened since,
// or when others wait before it. Called with c.mu held. overflow: too many
// wait; the caller closes the connection.
func (c *client) holdLocked(st *convState, frame []byte, posted, now time.Time) (held, overflow bool) {
	if !st.quiet && len(st.held) == 0 {
		return false, false
	}
	at := posted // no longer quiet (hours lifted): only behind those held
	if st.quiet {
		at = nextOpening(posted, st.openFrom, st.openTo)
	}
	if n := len(st.held); n > 0 {
		if last := st.held[n-1].at; last.After(at) {
			at = last
		}
	} else if !at.After(now) {
		return false, false
	}
	if len(st.held) >= c.h.cfg.SendQueue {
		return false, true
	}
	st.held = append(st.held, heldFrame{at, posted, frame})
	c.h.markHeld(c)
	return true, false
}

// holdOrOverflow is holdLocked for the reader (replays): a full hold closes
// the connection as too slow and ends the replay with errKilled.
func (c *client) holdOrOverflow(st *convState, frame []byte, posted time.Time) (bool, error) {
	c.mu.Lock()
	held, overflow := c.holdLocked(st, frame, posted, c.h.cfg.Now())
	c.mu.Unlock()
	if overflow {
		c.slow()
		return false, errKilled
	}
	return held, nil
}

func (h *Hub) markHeld(c *client) {
	h.heldMu.Lock()
	h.held[c] = struct{}{}
	h.heldMu.Unlock()
}

// quietLoop releases held frames whose time has come, every QuietTick,
// until the hub ends.
func (h *Hub) quietLoop() {
	defer h.quietWG.Done()
	t := time.NewTicker(h.cfg.QuietTick)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.releaseHeld(h.cfg.Now())
		}
	}
}

// releaseHeld sends the held frames due at now, in order, and forgets
// connections with nothing left held.
func (h *Hub) releaseHeld(now time.Time) {
	h.heldMu.Lock()
	cs := make([]*client, 0, len(h.held))
	for c := range h.held {
		cs = append(cs, c)
	}
	h.heldMu.Unlock()
	for _, c := range cs {
		var due [][]byte
		left := false
		c.mu.Lock()
		for _, st := range c.convs {
			n := 0
			for n < len(st.held) && !st.held[n].at.After(now) {
				due = append(due, st.held[n].frame)
				n++
			}
			st.held = st.held[n:]
			if len(st.held) > 0 {
				left = true
			} else {
				st.held = nil
			}
		}
		if !left {
			h.heldMu.Lock()
			delete(h.held, c)
			h.heldMu.Unlock()
		}
		// Queued before c.mu is released (never waiting): a live frame
		// delivered meanwhile comes after them.
		for _, f := range due {
			if c.out.push(f) {
				h.delivered.Add(1)
			} else {
				c.slow()
			}
		}
		c.mu.Unlock()
	}
}

// hoursChanged is the store's hook (SetHours): every node's notification
// subscriptions to conv follow the new hours.
func (h *Hub) hoursChanged(ctx context.Context, conv int64, from, to int) {
	h.rightsChanged(ctx, rightsHours, int64(from)<<16|int64(to), conv)
}

// applyHours gives this node's notification subscriptions to conv the
// hours from–to: frames held are due again by the new hours (at once when
// always open), still in order, and those due go now.
func (h *Hub) applyHours(conv int64, from, to int) {
	h.mu.Lock()
	var cs []*client
	if t := h.topics[conv]; t != nil {
		cs = t.clients
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.mu.Lock()
		if st := c.convs[conv]; st != nil && st.notify {
			st.openFrom, st.openTo = from, to
			st.quiet = !st.moderator && from != to
			var last time.Time
			for i := range st.held {
				at := nextOpening(st.held[i].posted, from, to)
				if at.Before(last) {
					at = last
				}
				st.held[i].at, last = at, at
			}
		}
		c.mu.Unlock()
	}
	h.releaseHeld(h.cfg.Now())
}

// Held is what quiet hours hold back from a member's notifications in one
// conversation (Store.Held).
type Held struct {
	// Count is how many unread messages are held.
	Count int
	// FirstSeq is the first of them: a notification subscription starts
	// after FirstSeq-1, so that the hub releases them at the opening.
	FirstSeq int64
}

// heldWindow bounds how far back Held looks: hours open every day.
const heldWindow = 48 * time.Hour

// Held returns, per conversation of the user, the unread messages of
// others posted outside the opening hours that have not opened since (by
// the store's clock): the home page's badge leaves them out of its count
// until the hub releases them. Moderators have none.
func (s *Store) Held(ctx context.Context, userID int64) (map[int64]Held, error) {
	now := s.now()
	rows, err := s.db.Query(ctx, `SELECT g.conversation_id, g.seq, g.created_at_ms, c.open_from_min, c.open_to_min
		FROM conversation_members m JOIN conversations c ON c.id = m.conversation_id
		JOIN messages g ON g.conversation_id = m.conversation_id AND g.seq > m.last_read_seq
			AND g.sender_id <> m.user_id AND g.deleted_at_ms = 0
		WHERE m.user_id = ? AND m.role <> ? AND c.open_from_min <> c.open_to_min AND g.created_at_ms > ?
		ORDER BY g.conversation_id, g.seq`, userID, RoleModerator, now.Add(-heldWindow).UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("chat: held: %w", err)
	}
	defer rows.Close()
	out := map[int64]Held{}
	for rows.Next() {
		var conv, seq, at int64
		var from, to int
		if err := rows.Scan(&conv, &seq, &at, &from, &to); err != nil {
			return nil, fmt.Errorf("chat: held: %w", err)
		}
		if !nextOpening(time.UnixMilli(at), from, to).After(now) {
			continue
		}
		h := out[conv]
		if h.Count == 0 {
			h.FirstSeq = seq
		}
		h.Count++
		out[conv] = h
	}
	return out, rows.Err()
}
