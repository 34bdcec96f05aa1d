package chat

import (
	"context"
	"encoding/binary"
	"errors"
	"time"

	"github.com/coder/websocket"
)

// Rights changes on live connections. A connection's rights are checked
// when it subscribes; what changes afterwards reaches every node through
// the broker, on one topic per deployment (Namespace + ":chat:rights"):
//
//   - a member removed from a conversation (Store.RemoveMember, or a class
//     channel brought in step with the directory) stops receiving it at
//     once: the hub drops the subscription and sends "unsubscribed".
//     Sending was already refused (Post checks membership in the
//     transaction).
//   - an account disabled or a session ended (Hub.Revoke, called by web)
//     closes every connection of the user with 4001. The hub does not know
//     which session a connection came from: the user's other pages
//     reconnect with their still valid session, the ended one gets 401.
//
// The event is applied to the local connections first, then published; a
// node ignores its own events. Like messages, the broker only fans out: a
// node cut from Redis misses the rights changes made on other nodes
// meanwhile, and its connections concerned keep their subscriptions until
// they end; sends and new subscriptions still check membership in the
// database.

// Close code and reason of a revoked connection (docs/protocol.md).
const (
	StatusRevoked websocket.StatusCode = 4001
	reasonRevoked                      = "Session terminée : reconnectez-vous."
)

// Rights event kinds, in broker payloads.
const (
	rightsLeft   byte = 1 // user left conversation
	rightsRevoke byte = 2 // every connection of user ends
	rightsHours  byte = 3 // conversation's opening hours: user is from<<16 | to
)

// rightsPayload: node id, kind, user (opening hours for rightsHours),
// conversation (0 for rightsRevoke).
const rightsPayloadLen = 8 + 1 + 8 + 8

func (h *Hub) rightsTopic() string { return h.cfg.Namespace + ":chat:rights" }

// rightsLoop subscribes to the rights topic for the hub's life, again after
// a failure (Redis down at start-up).
func (h *Hub) rightsLoop() {
	defer h.rightsWG.Done()
	backoff := 100 * time.Millisecond
	for {
		ch, err := h.broker.Subscribe(h.ctx, h.rightsTopic())
		if err != nil {
			if errors.Is(err, ErrClosed) || h.ctx.Err() != nil {
				return
			}
			h.log.Warn("chat: rights subscribe failed; retrying", "err", err)
			select {
			case <-h.ctx.Done():
				return
			case <-time.After(backoff):
				backoff = min(2*backoff, 5*time.Second)
				continue
			}
		}
		h.rightsOnce.Do(func() { close(h.rightsReady) })
		for p := range ch {
			h.fromRights(p)
		}
		return // the hub ended or the broker was closed
	}
}

func (h *Hub) fromRights(p []byte) {
	if len(p) != rightsPayloadLen || binary.BigEndian.Uint64(p) == h.node {
		return
	}
	h.applyRights(p[8], int64(binary.BigEndian.Uint64(p[9:])), int64(binary.BigEndian.Uint64(p[17:])))
}

// rightsChanged applies a rights event to this node's connections, then
// publishes it for the other nodes.
func (h *Hub) rightsChanged(ctx context.Context, kind byte, user, conv int64) {
	h.applyRights(kind, user, conv)
	p := make([]byte, rightsPayloadLen)
	binary.BigEndian.PutUint64(p, h.node)
	p[8] = kind
	binary.BigEndian.PutUint64(p[9:], uint64(user))
	binary.BigEndian.PutUint64(p[17:], uint64(conv))
	if err := h.broker.Publish(ctx, h.rightsTopic(), p); err != nil {
		h.brokerErrors.Add(1)
		h.log.Warn("chat: publish rights change failed", "user", user, "conversation", conv, "err", err)
	}
}

// revokedMemory is how long a revocation refuses connections that were
// authenticated before it but not yet registered: far longer than a
// handshake.
const revokedMemory = time.Minute

func (h *Hub) applyRights(kind byte, user, conv int64) {
	if kind == rightsHours {
		h.applyHours(conv, int(user>>16), int(user&0xffff))
		return
	}
	now := time.Now()
	h.mu.Lock()
	if kind == rightsRevoke {
		for u, t := range h.revoked {
			if now.Sub(t) > revokedMemory {
				delete(h.revoked, u)
			}
		}
		h.revoked[user] = now
	}
	onRevoke := h.onRevoke
	var cs []*client
	for c := range h.clients {
		if c.user == user {
			cs = append(cs, c)
		}
	}
	h.mu.Unlock()
	for _, c := range cs {
		switch kind {
		case rightsRevoke:
			c.kill(StatusRevoked, reasonRevoked)
		case rightsLeft:
			c.drop(conv)
		}
	}
	if kind == rightsRevoke && onRevoke != nil {
		onRevoke(user)
	}
}

// OnRevoke sets f to be called with the user of every revocation, made on
// this node or received from another, after the user's chat connections
// here were closed: the live rooms end the user's connections with it. f
// must not block for long (it runs on the rights loop for others' events).
func (h *Hub) OnRevoke(f func(userID int64)) {
	h.mu.Lock()
	h.onRevoke = f
	h.mu.Unlock()
}

// Revoke ends every connection of the user, on every node, within the
// broker's delay: call it when the account is disabled or one of its
// sessions ends.
func (h *Hub) Revoke(ctx context.Context, userID int64) {
	h.rightsChanged(ctx, rightsRevoke, userID, 0)
}

// membersLeft is the store's hook: users are no longer members of conv.
func (h *Hub) membersLeft(ctx context.Context, conv int64, users []int64) {
	for _, u := range users {
		h.rightsChanged(ctx, rightsLeft, u, conv)
	}
}

// drop ends the connection's subscription to conv, if any, and tells the
// client so. A replay in progress stops at its next message.
func (c *client) drop(conv int64) {
	c.mu.Lock()
	_, ok := c.convs[conv]
	if ok {
		delete(c.convs, conv)
	}
	c.mu.Unlock()
	if !ok {
		return
	}
	c.h.leave(conv, c)
	c.reply(encode(TypeUnsubscribed, 0, UnsubscribedData{Conversation: conv}))
}

// subscribedTo reports whether st is still the connection's subscription
// to conv (not dropped meanwhile).
func (c *client) subscribedTo(conv int64, st *convState) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.convs[conv] == st
}
