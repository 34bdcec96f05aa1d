package chat

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"preau/identity"
)

// client is one WebSocket connection. Its reader and its writer each run
// in one goroutine of their own; nothing else touches the socket. Others
// reach it only through deliver, which never waits.
type client struct {
	h    *Hub
	conn *websocket.Conn
	// nc is the TCP connection under conn, for the writer's batches and
	// their deadline only: frames go through conn.
	nc   *batchConn
	user int64
	// p is the session's principal at the handshake, for the rights to
	// attached files; authAt is when it was checked (rights.go).
	p      *identity.Principal
	authAt time.Time

	// out: live frames and replies, bounded (Config.SendQueue), and
	// replayed history, one frame at a time: the reader waits on the
	// writer.
	out *outQueue
	// pingDue: the ping timer fired; the writer pings at its next wake-up.
	pingDue atomic.Bool
	// writeStart: when the writer's batch started (Hub.clock), 0 while it
	// is not writing, -1 once aborted by Hub.watchWrites.
	writeStart atomic.Int64

	dead      chan struct{} // closed by kill
	closeOnce sync.Once
	code      websocket.StatusCode
	reason    string

	mu    sync.Mutex
	convs map[int64]*convState

	// replayMu lets one replay at a time run for this connection: a
	// subscription's (the reader) or a catch-up's (catchup.go).
	replayMu sync.Mutex

	away bool // guarded by h.pmu

	lastTyping map[int64]time.Time // reader only
	frames     *bucket             // reader only: every frame, a looser limit than sends
}

// convState is a subscription of one connection to one conversation.
type convState struct {
	// syncing: history is being replayed; live frames wait in pending.
	syncing bool
	pending []pendingFrame
	// overflow: live messages arrived while pending was full and were
	// dropped; the replay reads them from the store.
	overflow bool
	// replayed: every seq up to it has been sent (or held) to the
	// connection; ahead: seqs above it already sent, live messages having
	// overtaken others. A message at or below replayed, or in ahead, is a
	// duplicate and is not sent again. gap, while ahead is not empty,
	// fires a catch-up from the store if the missing seqs do not come
	// (catchup.go).
	replayed int64
	ahead    map[int64]struct{}
	gap      *time.Timer
	// small: at most SmallConversation members when subscribed: typing is
	// relayed.
	small bool
	// watch: the client asked for the conversation's presence, and gets
	// its presence events from then on.
	watch bool
	// notify: a subscription for notifications only: new messages, no
	// changes, typing or presence. quiet: notify for a member who is not a
	// moderator of a conversation with opening hours openFrom–openTo:
	// messages posted outside them wait in held (quiet.go).
	notify, quiet    bool
	moderator        bool // of the conversation, when subscribed
	openFrom, openTo int
	held             []heldFrame
}

// pendingFrame is a live frame held during a replay: a new message (seq >
// 0), or a change to message -seq (seq < 0), sent after the replay whatever
// its seq, so that it follows the message it changes.
type pendingFrame struct {
	seq   int64
	frame []byte
	at    time.Time // when it arrived: a live message's posting time
}

// errKilled ends a reader whose connection is being closed.
var errKilled = errors.New("chat: connection closed")

// opTimeout bounds one database operation of a request.
const opTimeout = 10 * time.Second

// replayPage is how many stored messages a replay reads at once.
const replayPage = 200

// kill asks the writer to close the connection with code and reason. The
// first call wins.
// kill ends the connection with code, once. When counter is not nil and
// this call is the one that ends it, counter is incremented before the
// connection is told to close: a connection is counted once, however many
// frames find its queue full.
func (c *client) kill(code websocket.StatusCode, reason string, counter ...*atomic.Uint64) {
	c.closeOnce.Do(func() {
		for _, n := range counter {
			n.Add(1)
		}
		c.code, c.reason = code, reason
		close(c.dead)
		c.out.signal()
	})
}

// deliver queues a frame without waiting: a live message (seq > 0) while
// replaying is held back until the replay is done; a full queue closes
// the connection, which recovers by reconnecting with its last seq.
// Ephemeral frames (seq 0) are dropped instead, and so are changes to a
// message (seq < 0: edited, deleted) on a full queue: the page shows them
// on its next load.
func (c *client) deliver(conv, seq int64, frame []byte) {
	c.mu.Lock()
	st := c.convs[conv]
	if st != nil && st.notify && seq <= 0 {
		c.mu.Unlock() // notifications: new messages only
		return
	}
	if st != nil && seq == seqPresence {
		// Presence events go to connections that asked for them only;
		// otherwise they are ephemeral like typing.
		if !st.watch {
			c.mu.Unlock()
			return
		}
		seq = 0
	}
	switch {
	case st == nil:
		c.mu.Unlock()
		return
	case seq != 0 && st.syncing:
		if len(st.pending) >= c.h.cfg.SendQueue {
			// The replay reads the store again for the messages dropped
			// here (catchup.go's sync); a change is lost like one that
			// finds the live queue full.
			st.overflow = true
			c.mu.Unlock()
			return
		}
		st.pending = append(st.pending, pendingFrame{seq, frame, c.h.cfg.Now()})
		c.mu.Unlock()
		return
	case seq > 0 && !c.noteLocked(conv, st, seq):
		c.mu.Unlock()
		return
	case seq > 0 && (st.quiet || len(st.held) > 0):
		// A live message: posted now.
		now := c.h.cfg.Now()
		if held, overflow := c.holdLocked(st, frame, now, now); held || overflow {
			c.mu.Unlock()
			if overflow {
				c.slow()
			}
			return
		}
	}
	c.mu.Unlock()
	if c.out.push(frame) {
		c.h.delivered.Add(1)
	} else if seq > 0 {
		c.slow()
	}
}

// killed reports whether kill was called.
func (c *client) killed() bool {
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

func (c *client) slow() {
	c.kill(websocket.StatusTryAgainLater, reasonSlow, &c.h.slowClosed)
}

// reply queues a reply to this client's own request.
func (c *client) reply(frame []byte) {
	if !c.out.push(frame) {
		c.slow()
	}
}

// replayFrame hands a frame to the writer, waiting until it is written:
// replay is paced by the client's own socket and never fills the live
// queue. The caller holds c.replayMu.
func (c *client) replayFrame(frame []byte) error {
	if c.killed() {
		return errKilled // first: a token left by a frame handed before the end means nothing
	}
	c.out.hand(frame)
	select {
	case <-c.out.replayed:
		return nil
	case <-c.dead:
		return errKilled
	}
}

// serve runs one connection until it ends.
func (h *Hub) serve(conn *websocket.Conn, nc *batchConn, p *identity.Principal, authAt time.Time) {
	conn.SetReadLimit(h.cfg.MaxFrame)
	c := &client{
		h: h, conn: conn, nc: nc, user: p.UserID, p: p,
		out:  newOutQueue(h.cfg.SendQueue),
		dead: make(chan struct{}), convs: map[int64]*convState{},
		lastTyping: map[int64]time.Time{},
		frames:     newBucket(5*h.cfg.RateMessages, h.cfg.RateWindow),
		authAt:     authAt,
	}
	if code, reason, ok := h.register(c); !ok {
		conn.Close(code, reason)
		return
	}
	written := make(chan struct{})
	go func() {
		defer close(written)
		c.writeLoop()
	}()
	c.readLoop()
	c.kill(websocket.StatusNormalClosure, "")
	<-written
	c.mu.Lock()
	convs := make([]int64, 0, len(c.convs))
	for id, st := range c.convs {
		convs = append(convs, id)
		st.stopGap()
	}
	c.convs = nil
	c.mu.Unlock()
	h.unregister(c, convs)
}

// writeLoop is the only writer of the socket. Every write has a deadline.
// It waits on one channel (outQueue.wake) for everything: frames, a
// replayed frame, the ping timer and the end.
func (c *client) writeLoop() {
	ping := time.AfterFunc(c.h.cfg.PingInterval, func() {
		c.pingDue.Store(true)
		c.out.signal()
	})
	defer ping.Stop()
	var spare [][]byte // the array the queue fills next (outQueue.take)
	for range c.out.wake {
		if c.killed() {
			// Close writes the close frame (bounded by the library's own
			// timeout) and waits for the reader to see the reply.
			c.conn.Close(c.code, c.reason)
			return
		}
		if c.pingDue.Swap(false) {
			ctx, cancel := context.WithTimeout(c.h.ctx, c.h.cfg.WriteTimeout)
			err := c.conn.Ping(ctx)
			cancel()
			if err != nil {
				c.kill(websocket.StatusGoingAway, "")
				c.conn.CloseNow()
				return
			}
			ping.Reset(c.h.cfg.PingInterval)
		}
		// Everything waiting, until nothing is: what is queued while
		// writing goes out in the same wake-up. A kill signals wake
		// after closing dead: the next round sees it.
		for !c.killed() {
			replay, frames := c.out.take(spare)
			if replay == nil && len(frames) == 0 {
				spare = frames
				break
			}
			ok := c.write(replay, frames)
			spare = recycle(frames)
			if !ok {
				return
			}
			if replay != nil {
				select {
				case c.out.replayed <- struct{}{}:
				default: // one replayed frame at a time: never full unless the reader left
				}
			}
		}
	}
}

// write writes replay, when not nil, then frames, in order, as one text
// message each, in one write(2) when there are several (batchConn.hold).
// false: the connection failed, and is closed.
//
// The deadline of the lot is kept by Hub.watchWrites, from writeStart:
// the library is given a context that never expires, since one that can
// would cost it a callback registration (context.AfterFunc) per frame,
// and us a timer.
func (c *client) write(replay []byte, frames [][]byte) bool {
	start := c.h.clock()
	c.writeStart.Store(start)
	n, size := len(frames), len(replay)+frameOverhead
	if replay != nil {
		n++
	}
	if n > 1 {
		for _, b := range frames {
			size += len(b) + frameOverhead
		}
		c.nc.hold(min(size, maxHeld))
	}
	ok := replay == nil || c.writeFrame(replay)
	for _, b := range frames {
		if !ok {
			break
		}
		ok = c.writeFrame(b)
	}
	// Released even after a failure, still watched: nothing stays kept
	// for batchConn.Close to write unwatched.
	if n > 1 && c.nc.release() != nil {
		ok = false
	}
	if !c.writeStart.CompareAndSwap(start, 0) {
		ok = false // aborted, if only as it ended: the deadline is past
	}
	if !ok {
		c.kill(websocket.StatusInternalError, "")
		c.conn.CloseNow()
	}
	return ok
}

// overdue aborts the writer's batch if it started before now less
// WriteTimeout: a deadline in the past ends the write(2) blocked, and
// fails those that follow.
func (c *client) overdue(now int64) {
	start := c.writeStart.Load()
	if start > 0 && now-start > int64(c.h.cfg.WriteTimeout) && c.writeStart.CompareAndSwap(start, -1) {
		c.nc.SetWriteDeadline(time.Unix(0, 1))
	}
}

// A frame's header takes at most 10 bytes from the server (RFC 6455
// §5.2); a batch keeps at most maxHeld bytes for one write(2), and writes
// beyond that as they come.
const (
	frameOverhead = 10
	maxHeld       = 64 << 10
)

// writeFrame writes one text message unless the connection is closing
// (its close frame comes next); false when the write failed.
func (c *client) writeFrame(b []byte) bool {
	if c.killed() {
		return true
	}
	return c.conn.Write(context.Background(), websocket.MessageText, b) == nil
}

// readLoop reads and handles client frames until the connection ends or is
// killed.
func (c *client) readLoop() {
	for {
		typ, b, err := c.conn.Read(c.h.ctx)
		if err != nil {
			return // closed by the client, the writer, or the read limit (1009)
		}
		select {
		case <-c.dead:
			return
		default:
		}
		if typ != websocket.MessageText {
			c.kill(websocket.StatusUnsupportedData, reasonBinary)
			return
		}
		if !c.frames.take(time.Now()) {
			c.flood()
			return
		}
		r, err := decodeRequest(b)
		if err != nil {
			c.reply(encodeError(0, CodeBadRequest))
			continue
		}
		if !c.handle(r) {
			return
		}
	}
}

func (c *client) flood() {
	c.kill(websocket.StatusPolicyViolation, reasonFlood, &c.h.floodClosed)
}

// handle runs one request; false ends the connection.
func (c *client) handle(r request) bool {
	ctx, cancel := context.WithTimeout(c.h.ctx, opTimeout)
	defer cancel()
	switch r.Type {
	case TypePing:
		c.reply(encode(TypePong, r.ID, nil))
	case TypeSend:
		if !c.h.allow(c.user) {
			c.flood()
			return false
		}
		c.send(ctx, r.ID, r.Send)
	case TypeSubscribe:
		for _, it := range r.Subscribe.Conversations {
			// Replay is paced by the client: no deadline for the whole.
			if err := c.subscribe(c.h.ctx, r.ID, it); err != nil {
				return false
			}
		}
	case TypeRead:
		if err := c.h.store.MarkRead(ctx, r.Read.Conversation, c.user, r.Read.Seq); err != nil {
			c.fail(r.ID, err)
		}
	case TypeTyping:
		c.typing(ctx, r.ID, r.Typing.Conversation)
	case TypeStatus:
		c.h.setAway(c, r.Status.State == "away")
	case TypePresence:
		c.mu.Lock()
		st, ok := c.convs[r.Presence.Conversation]
		if ok {
			st.watch = true
		}
		c.mu.Unlock()
		if !ok {
			c.reply(encodeError(r.ID, CodeNotFound))
			break
		}
		f, err := c.h.presenceOf(ctx, r.ID, r.Presence.Conversation)
		if err != nil {
			c.fail(r.ID, err)
			break
		}
		c.reply(f)
	}
	return true
}

// fail answers a request with the error's code.
func (c *client) fail(id int64, err error) {
	code := CodeInternal
	switch {
	case errors.Is(err, ErrNotFound):
		code = CodeNotFound
	case errors.Is(err, ErrTooLong):
		code = CodeTooLong
	case errors.Is(err, ErrMuted):
		code = CodeMuted
	case errors.Is(err, ErrReadOnly):
		code = CodeReadOnly
	case errors.Is(err, ErrOutOfHours):
		code = CodeClosed
	case errors.Is(err, ErrInvalid):
		code = CodeBadRequest
	case errors.Is(err, ErrAttachment):
		code = CodeAttachment
	case errors.Is(err, ErrBusy):
		code = CodeBusy
	default:
		c.h.log.Error("chat: request failed", "user", c.user, "err", err)
	}
	c.reply(encodeError(id, code))
}

// send stores the message, acknowledges it once committed, then broadcasts
// it. A resend is stored once and acknowledged with the same seq.
func (c *client) send(ctx context.Context, id int64, s *sendData) {
	atts, err := c.h.resolve(ctx, c.p, s.Attachments)
	if err != nil {
		c.fail(id, err)
		return
	}
	m, _, err := c.h.postResolved(ctx, s.Conversation, c.user, s.ClientID, s.Body, Extra{ReplyTo: s.ReplyTo, Attachments: atts})
	if err != nil {
		c.fail(id, err)
		return
	}
	c.reply(encode(TypeAck, id, AckData{Conversation: m.ConversationID, ClientID: m.ClientID, Seq: m.Seq}))
	// A resend is delivered again: the first sending may have been
	// committed by a node that died before it published it. Connections
	// that hold its seq skip it (noteLocked).
	c.h.broadcast(ctx, m.ConversationID, m.Seq, encodeMessage(m))
}

// subscribe checks membership, joins the topic, replays what the client
// missed, then switches the conversation to live. A non-nil error ends the
// connection.
func (c *client) subscribe(ctx context.Context, id int64, it SubscribeItem) error {
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	ok, err := c.h.store.IsMember(opCtx, it.ID, c.user)
	var small bool
	if err == nil && ok {
		small, err = c.h.store.isSmall(opCtx, it.ID)
	}
	var quiet, mod bool
	var conv Conversation
	if err == nil && ok && it.Notify {
		// Quiet hours hold notifications for members who are not
		// moderators (quiet.go).
		if conv, err = c.h.store.Conversation(opCtx, it.ID); err == nil {
			mod, err = c.h.store.IsModerator(opCtx, it.ID, c.user)
		}
		quiet = !mod && conv.OpenFromMin != conv.OpenToMin
	}
	cancel()
	if err != nil || !ok {
		if err == nil {
			err = ErrNotFound
		}
		c.fail(id, err)
		return nil
	}
	c.replayMu.Lock()
	defer c.replayMu.Unlock()
	c.mu.Lock()
	st, joined := c.convs[it.ID]
	if !joined {
		st = &convState{}
		c.convs[it.ID] = st
	}
	st.stopGap()
	st.syncing, st.replayed, st.ahead, st.small = true, it.AfterSeq, nil, small
	st.notify, st.quiet, st.moderator, st.openFrom, st.openTo = it.Notify, quiet, mod, conv.OpenFromMin, conv.OpenToMin
	c.mu.Unlock()
	if !joined {
		if err := c.h.join(ctx, it.ID, c); err != nil {
			return err
		}
	}
	// A removal committed after the first check may have been announced
	// before the subscription existed (rights.go): check again now that
	// later announcements find it.
	opCtx, cancel = context.WithTimeout(ctx, opTimeout)
	ok, err = c.h.store.IsMember(opCtx, it.ID, c.user)
	cancel()
	if err == nil && !ok {
		c.drop(it.ID)
	}
	if !c.subscribedTo(it.ID, st) {
		c.h.leave(it.ID, c) // dropped while joining: the join may have come after drop's leave
		return nil
	}
	return c.sync(ctx, id, it.ID, st, it.AfterSeq, true)
}

// typing tells the conversation's other subscribers that the user types, at
// most once every 2 s per conversation, in small conversations only;
// dropped rather than queued.
func (c *client) typing(ctx context.Context, id, conv int64) {
	c.mu.Lock()
	st, ok := c.convs[conv]
	small := ok && st.small
	c.mu.Unlock()
	if !ok {
		c.reply(encodeError(id, CodeNotFound))
		return
	}
	if !small {
		return
	}
	now := time.Now()
	if now.Sub(c.lastTyping[conv]) < 2*time.Second {
		return
	}
	c.lastTyping[conv] = now
	c.h.broadcast(ctx, conv, 0, encode(TypeTyping, 0, TypingData{Conversation: conv, User: c.user}))
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
