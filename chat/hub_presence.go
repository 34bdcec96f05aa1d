package chat

import (
	"context"
	"math"
	"time"
)

// The hub's side of presence (presence.go explains the design): local
// per-user connection counts, one worker goroutine that reports changes to
// the Presence store and fans them out to small conversations, and the
// answers to "presence" requests.

// seqPresence marks presence events in broker payloads and fan-out: they
// reach only the connections watching the conversation's presence.
const seqPresence = math.MinInt64

// localUser is a user's connections on this node.
type localUser struct {
	conns, away int
}

func (u *localUser) state() State {
	switch {
	case u == nil || u.conns == 0:
		return Offline
	case u.away >= u.conns:
		return Away
	}
	return Online
}

type cachedCounts struct {
	at     time.Time
	counts PresenceCountData
}

// presenceConn records a connection opening (+1) or closing (-1); away says
// whether the closing one was away.
func (h *Hub) presenceConn(user int64, delta int, away bool) {
	h.pmu.Lock()
	u := h.local[user]
	if u == nil {
		u = &localUser{}
		h.local[user] = u
	}
	u.conns += delta
	if delta < 0 && away {
		u.away--
	}
	if u.conns <= 0 {
		delete(h.local, user)
	}
	h.dirty[user] = struct{}{}
	h.pmu.Unlock()
	h.wakePresence()
}

// setAway marks one connection away or back.
func (h *Hub) setAway(c *client, away bool) {
	h.pmu.Lock()
	if c.away != away {
		c.away = away
		if u := h.local[c.user]; u != nil {
			if away {
				u.away++
			} else {
				u.away--
			}
		}
		h.dirty[c.user] = struct{}{}
	}
	h.pmu.Unlock()
	h.wakePresence()
}

func (h *Hub) wakePresence() {
	select {
	case h.presenceWake <- struct{}{}:
	default: // already woken; the worker takes every dirty user at once
	}
}

// presenceLoop is the presence worker: it reports changed users (and, every
// PresenceTTL/3, every local user, so that reports do not expire), and fans
// out the changes. It ends with the hub, reporting its users offline.
func (h *Hub) presenceLoop() {
	defer h.presenceWG.Done()
	refresh := time.NewTicker(PresenceTTL / 3)
	defer refresh.Stop()
	published := map[int64]State{}
	for {
		all := false
		select {
		case <-h.ctx.Done():
			h.pmu.Lock()
			states := map[int64]State{}
			for u := range h.local {
				states[u] = Offline
			}
			h.pmu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			h.presence.Report(ctx, h.node, states, PresenceTTL)
			cancel()
			return
		case <-h.presenceWake:
		case <-refresh.C:
			all = true
		}
		h.pmu.Lock()
		states := map[int64]State{}
		for u := range h.dirty {
			states[u] = h.local[u].state()
		}
		if all {
			for u, lu := range h.local {
				states[u] = lu.state()
			}
		}
		clear(h.dirty)
		h.pmu.Unlock()
		if len(states) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(h.ctx, opTimeout)
		h.reportPresence(ctx, states, published)
		cancel()
	}
}

// reportPresence reports states, reads back each user's state over all
// nodes, and publishes those that changed.
func (h *Hub) reportPresence(ctx context.Context, states map[int64]State, published map[int64]State) {
	if err := h.presence.Report(ctx, h.node, states, PresenceTTL); err != nil {
		if h.ctx.Err() != nil {
			return // shutting down
		}
		h.log.Warn("chat: presence report failed", "err", err)
		return
	}
	users := make([]int64, 0, len(states))
	for u := range states {
		users = append(users, u)
	}
	now, err := h.presence.States(ctx, users)
	if err != nil {
		if h.ctx.Err() != nil {
			return
		}
		h.log.Warn("chat: presence read failed", "err", err)
		return
	}
	for _, u := range users {
		st := now[u]
		if prev, ok := published[u]; ok && prev == st {
			continue
		}
		if st == Offline {
			delete(published, u)
		} else {
			published[u] = st
		}
		convs, err := h.store.smallConversationsOf(ctx, u)
		if err != nil {
			if h.ctx.Err() != nil {
				return
			}
			h.log.Warn("chat: presence fan-out failed", "user", u, "err", err)
			continue
		}
		for _, conv := range convs {
			h.broadcast(ctx, conv, seqPresence, encode(TypePresence, 0, PresenceData{Conversation: conv,
				Members: []MemberPresence{{User: u, State: st.String()}}}))
		}
	}
}

// presenceOf answers a "presence" request: each member's state in a small
// conversation, counts in a large one (cached for countsCacheFor).
func (h *Hub) presenceOf(ctx context.Context, id, conv int64) ([]byte, error) {
	h.pmu.Lock()
	cc, ok := h.counts[conv]
	h.pmu.Unlock()
	if ok && time.Since(cc.at) < countsCacheFor {
		return encode(TypePresenceCount, id, cc.counts), nil
	}
	members, err := h.store.memberIDs(ctx, conv)
	if err != nil {
		return nil, err
	}
	states, err := h.presence.States(ctx, members)
	if err != nil {
		// The shared store is away (Redis down): answer with this node's
		// own users rather than nothing.
		h.log.Warn("chat: presence read failed; answering with this node's users", "err", err)
		states = map[int64]State{}
		h.pmu.Lock()
		for _, u := range members {
			if st := h.local[u].state(); st != Offline {
				states[u] = st
			}
		}
		h.pmu.Unlock()
	}
	if len(members) <= SmallConversation {
		d := PresenceData{Conversation: conv, Members: make([]MemberPresence, 0, len(members))}
		for _, u := range members {
			d.Members = append(d.Members, MemberPresence{User: u, State: states[u].String()})
		}
		return encode(TypePresence, id, d), nil
	}
	counts := PresenceCountData{Conversation: conv, Members: len(members)}
	for _, st := range states {
		switch st {
		case Online:
			counts.Online++
		case Away:
			counts.Away++
		}
	}
	h.pmu.Lock()
	if len(h.counts) > 10000 {
		clear(h.counts)
	}
	h.counts[conv] = cachedCounts{time.Now(), counts}
	h.pmu.Unlock()
	return encode(TypePresenceCount, id, counts), nil
}
