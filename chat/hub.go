package chat

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"preau/identity"
)

// Config tunes a Hub; the zero value gives the defaults of SECURITY.md.
type Config struct {
	// SendQueue is how many frames may wait for one connection before it is
	// closed as too slow (1013). Default 256.
	SendQueue int
	// MaxFrame is the largest client frame in bytes; a larger one closes the
	// connection (1009). Default 16 KiB.
	MaxFrame int64
	// RateMessages sends per RateWindow are allowed to one user on this
	// node; more closes the connection (1008). Default 20 per 10 s.
	RateMessages int
	RateWindow   time.Duration
	// MaxConnsPerUser is the most connections one user holds on this node.
	// Default 5.
	MaxConnsPerUser int
	// PingInterval is how often the server pings. Default 30 s.
	PingInterval time.Duration
	// WriteTimeout bounds every write to a socket: one blocked for longer
	// is aborted within a quarter of it more (Hub.watchWrites). Default
	// 10 s.
	WriteTimeout time.Duration
	// Namespace prefixes broker topics, so that several deployments (or
	// test runs) can share one Redis. Default "preau".
	Namespace string
	// OriginPatterns are other origins allowed at the handshake, as host
	// patterns ("ent.example.fr"); the page's own host is always allowed.
	OriginPatterns []string
	// Presence shares users' presence between nodes (RedisPresence);
	// nil: in this process only.
	Presence Presence
	// Now is the clock of quiet hours (quiet.go); default time.Now.
	Now func() time.Time
	// QuietTick is how often messages held for quiet hours are checked
	// for release. Default 30 s.
	QuietTick time.Duration
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.SendQueue, 256)
	if c.MaxFrame <= 0 {
		c.MaxFrame = 16 << 10
	}
	def(&c.RateMessages, 20)
	defDur(&c.RateWindow, 10*time.Second)
	def(&c.MaxConnsPerUser, 5)
	defDur(&c.PingInterval, 30*time.Second)
	defDur(&c.WriteTimeout, 10*time.Second)
	if c.Namespace == "" {
		c.Namespace = "preau"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	defDur(&c.QuietTick, 30*time.Second)
	return c
}

// Close reasons, French since a page may show them.
const (
	reasonFlood    = "Trop de messages envoyés : la connexion est fermée."
	reasonSlow     = "Connexion trop lente : reconnexion nécessaire."
	reasonTooMany  = "Trop de connexions ouvertes pour ce compte."
	reasonShutdown = "Le serveur redémarre : reconnexion nécessaire."
	reasonBinary   = "Seuls les messages texte sont acceptés."
)

// Stats are counters for /metrics and tests.
type Stats struct {
	Connections   int    // open connections
	Topics        int    // conversations with a local subscriber
	Delivered     uint64 // frames queued to connections
	SlowClosed    uint64 // connections closed because their queue was full
	FloodClosed   uint64 // connections closed for exceeding the rate
	BrokerErrors  uint64 // failed publishes (the message still reached local clients)
	BrokerDropped uint64 // payloads the broker dropped (Broker.Dropped)
}

// Hub serves the chat WebSocket: it accepts connections, stores messages,
// and fans committed messages out to local connections and, through the
// Broker, to the other nodes.
type Hub struct {
	cfg    Config
	store  *Store
	broker Broker
	log    *slog.Logger
	node   uint64 // this hub's id in broker payloads, to skip its own

	ctx    context.Context // the hub's life; cancelled at the end of Shutdown
	cancel context.CancelFunc

	mu      sync.Mutex
	closed  bool
	topics  map[int64]*topic
	clients map[*client]struct{}
	perUser map[int64]int
	rates   map[int64]*bucket

	conns    sync.WaitGroup // connections being served
	topicsWG sync.WaitGroup // broker readers
	catchWG  sync.WaitGroup // catch-ups (catchup.go); Add under mu while not closed
	// unsent: per conversation, the last message whose publish failed,
	// published again by republishLoop (catchup.go).
	unsentMu    sync.Mutex
	unsent      map[int64]unsentMsg
	republishWG sync.WaitGroup
	// stopResume unregisters resumed from a Resumer broker.
	stopResume func()

	delivered, slowClosed, floodClosed, brokerErrors atomic.Uint64

	// Presence (hub_presence.go). pmu guards local, dirty, counts and
	// each client's away flag.
	presence     Presence
	pmu          sync.Mutex
	local        map[int64]*localUser
	dirty        map[int64]struct{}
	counts       map[int64]cachedCounts
	presenceWake chan struct{}
	presenceWG   sync.WaitGroup

	files FileResolver // guarded by mu; attach.go

	// Rights changes (rights.go): rightsReady is closed once the rights
	// topic is subscribed.
	rightsWG    sync.WaitGroup
	rightsReady chan struct{}
	rightsOnce  sync.Once
	// revoked: when each user was last revoked (guarded by mu), so that a
	// connection authenticated before that but registered after is
	// refused too. Entries are dropped after revokedMemory.
	revoked map[int64]time.Time
	// onRevoke is told of every revocation, this node's and others'
	// (guarded by mu; OnRevoke).
	onRevoke func(userID int64)

	// Quiet hours (quiet.go): connections holding frames.
	heldMu  sync.Mutex
	held    map[*client]struct{}
	quietWG sync.WaitGroup

	// Writes (watchWrites): the writers' clock starts at epoch.
	epoch   time.Time
	watchWG sync.WaitGroup
}

// topic is a conversation with local subscribers.
type topic struct {
	ready  chan struct{} // closed once the broker subscription is settled
	cancel context.CancelFunc
	// clients is replaced, never modified, so fan-out reads it without
	// copying.
	clients []*client
}

// NewHub returns a hub. The broker belongs to the caller, who closes it
// after Shutdown.
func NewHub(cfg Config, store *Store, broker Broker, log *slog.Logger) *Hub {
	var b [8]byte
	rand.Read(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		cfg: cfg.withDefaults(), store: store, broker: broker, log: log,
		node: binary.BigEndian.Uint64(b[:]), ctx: ctx, cancel: cancel,
		topics: map[int64]*topic{}, clients: map[*client]struct{}{},
		perUser: map[int64]int{}, rates: map[int64]*bucket{},
		presence: cfg.Presence, local: map[int64]*localUser{}, dirty: map[int64]struct{}{},
		counts: map[int64]cachedCounts{}, presenceWake: make(chan struct{}, 1),
		rightsReady: make(chan struct{}), revoked: map[int64]time.Time{},
		held: map[*client]struct{}{},
	}
	if h.presence == nil {
		h.presence = NewMemoryPresence()
	}
	h.stopResume = func() {}
	if r, ok := broker.(Resumer); ok {
		h.stopResume = r.OnResume(h.resumed)
	}
	h.epoch = time.Now()
	h.watchWG.Add(1)
	go h.watchWrites()
	h.presenceWG.Add(1)
	go h.presenceLoop()
	h.rightsWG.Add(1)
	go h.rightsLoop()
	h.quietWG.Add(1)
	go h.quietLoop()
	h.unsent = map[int64]unsentMsg{}
	h.republishWG.Add(1)
	go h.republishLoop()
	store.listen(h, true)
	return h
}

// Handler is the WebSocket endpoint. auth returns the session's user; an
// error or a nil principal answers 401 before any upgrade. The Origin
// header is checked by the upgrade (same host, or Config.OriginPatterns).
func (h *Hub) Handler(auth func(*http.Request) (*identity.Principal, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authAt := time.Now()
		p, err := auth(r)
		if err != nil || p == nil {
			http.Error(w, "Connexion requise.", http.StatusUnauthorized)
			return
		}
		h.mu.Lock()
		closed := h.closed
		h.mu.Unlock()
		if closed {
			http.Error(w, "Service en cours d’arrêt.", http.StatusServiceUnavailable)
			return
		}
		hj := &hijackSmall{ResponseWriter: w}
		conn, err := websocket.Accept(hj, r, &websocket.AcceptOptions{OriginPatterns: h.cfg.OriginPatterns})
		if err != nil {
			return // Accept has answered
		}
		// The connection is hijacked: the handler's goroutine, with the
		// stack of every middleware, ends here, and the reader starts on
		// a small stack of its own (memory per idle connection).
		go h.serve(conn, hj.conn, p, authAt)
	})
}

// Buffers of a hijacked connection: net/http's are 4 KiB each way, kept
// for the life of the WebSocket. Client frames are small, and a frame
// larger than a buffer is only read or written in more steps.
const (
	connReadBuffer  = 1 << 10
	connWriteBuffer = 2 << 10
)

// hijackSmall is the ResponseWriter given to websocket.Accept: its
// Hijack hands over the connection with smaller buffers, keeping the
// bytes the client already sent, wrapped in a batchConn kept for the
// writer (conn.go).
type hijackSmall struct {
	http.ResponseWriter
	conn *batchConn
}

func (w *hijackSmall) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	raw, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	conn := &batchConn{Conn: raw}
	w.conn = conn
	if err := brw.Writer.Flush(); err != nil {
		conn.Close()
		return nil, nil, err
	}
	n := brw.Reader.Buffered()
	early, _ := brw.Reader.Peek(n)
	br := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn), max(connReadBuffer, n))
	// Accept takes what is buffered and reads the rest from conn: the
	// early bytes must be in br's buffer, not behind it.
	if _, err := br.Peek(n); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, bufio.NewReadWriter(br, bufio.NewWriterSize(conn, connWriteBuffer)), nil
}

// batchConn is the TCP connection under a WebSocket. The library writes
// every frame to it, through its bufio.Writer flushed at the end of each
// frame: one write(2) per frame. Between hold and release, the writer's
// goroutine has those bytes kept and sent in one write(2) for several
// frames. Every byte is still the library's, in the library's order
// (writes are serialised by mu): a frame the library writes on its own
// meanwhile, from the reader's goroutine (a pong, the close reply), joins
// the batch in its turn.
type batchConn struct {
	net.Conn
	mu      sync.Mutex
	holding bool
	held    []byte
	pooled  *[]byte // held's array when from heldPool
	// writing: a write(2) is under way, mu held; Close aborts it.
	writing atomic.Bool
}

// Write keeps p while holding and there is room, or else writes what is
// kept, then p.
func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.holding && len(b.held)+len(p) <= cap(b.held) {
		b.held = append(b.held, p...)
		return len(p), nil
	}
	if err := b.flushLocked(); err != nil {
		return 0, err
	}
	return b.writeLocked(p)
}

func (b *batchConn) writeLocked(p []byte) (int, error) {
	b.writing.Store(true)
	defer b.writing.Store(false)
	return b.Conn.Write(p)
}

func (b *batchConn) flushLocked() error {
	if len(b.held) == 0 {
		return nil
	}
	_, err := b.writeLocked(b.held)
	b.held = b.held[:0]
	return err
}

// heldPool recycles the arrays of batches up to pooledHeld bytes, most
// of them: a batch of live messages is a few frames of a few hundred
// bytes. Larger ones are made to measure, so that connections stuck in
// a batch hold no more than their frames.
var heldPool = sync.Pool{New: func() any {
	b := make([]byte, 0, pooledHeld)
	return &b
}}

const pooledHeld = 8 << 10

// hold keeps what is written from now on, up to size bytes, until
// release.
func (b *batchConn) hold(size int) {
	b.mu.Lock()
	b.holding = true
	if size <= pooledHeld {
		b.pooled = heldPool.Get().(*[]byte)
		b.held = (*b.pooled)[:0]
	} else {
		b.held = make([]byte, 0, size)
	}
	b.mu.Unlock()
}

// release writes what was kept, and stops keeping.
func (b *batchConn) release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	err := b.flushLocked()
	b.endLocked()
	return err
}

func (b *batchConn) endLocked() {
	if b.pooled != nil {
		heldPool.Put(b.pooled)
	}
	b.holding, b.held, b.pooled = false, nil, nil
}

// Close writes what is kept first: the library closes the connection
// right after writing its close reply, which a batch may hold. A write
// under way is aborted instead of waited for, as closing is how the
// library ends a write blocked past its timeout. What is kept exists only
// during a batch, which watchWrites bounds.
func (b *batchConn) Close() error {
	if b.writing.Load() {
		b.Conn.SetWriteDeadline(time.Now())
	}
	b.mu.Lock()
	b.flushLocked()
	b.endLocked()
	b.mu.Unlock()
	return b.Conn.Close()
}

// watchWrites aborts the writes of a batch (client.write) blocked for
// longer than WriteTimeout, looking every quarter of it. It is the
// deadline of every write: one set on each socket for each batch, and
// cleared after it, cost 8% of the server's CPU time at 50,000 deliveries
// per second (the poller's timer, per connection), where a writer now
// only notes when its batch starts. The library bounds its own writes
// (ping, pong, close) with timeouts of its own.
func (h *Hub) watchWrites() {
	defer h.watchWG.Done()
	t := time.NewTicker(h.cfg.WriteTimeout / 4)
	defer t.Stop()
	var cs []*client
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		for c := range h.clients {
			cs = append(cs, c)
		}
		h.mu.Unlock()
		now := h.clock()
		for _, c := range cs {
			c.overdue(now)
		}
		clear(cs)
		cs = cs[:0]
	}
}

// clock is the writers' clock (watchWrites): monotonic, never 0.
func (h *Hub) clock() int64 { return int64(time.Since(h.epoch)) + 1 }

// SendLimit returns how many messages one user may send per window on
// this node (Config.RateMessages, RateWindow).
func (h *Hub) SendLimit() (int, time.Duration) { return h.cfg.RateMessages, h.cfg.RateWindow }

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	s := Stats{Connections: len(h.clients), Topics: len(h.topics)}
	h.mu.Unlock()
	s.Delivered = h.delivered.Load()
	s.SlowClosed = h.slowClosed.Load()
	s.FloodClosed = h.floodClosed.Load()
	s.BrokerErrors = h.brokerErrors.Load()
	s.BrokerDropped = h.broker.Dropped()
	return s
}

// Shutdown closes every connection with 1001 (going away) so that clients
// reconnect elsewhere, refuses new ones, and waits for them to end or for
// ctx.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	cs := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		cs = append(cs, c)
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.kill(websocket.StatusGoingAway, reasonShutdown)
	}
	done := make(chan struct{})
	go func() {
		h.conns.Wait()
		h.topicsWG.Wait()
		h.catchWG.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	h.cancel() // aborts reads still blocked, when ctx ran out
	<-done
	h.stopResume()
	h.presenceWG.Wait()
	h.republishWG.Wait()
	h.rightsWG.Wait()
	h.quietWG.Wait()
	h.watchWG.Wait()
	h.store.listen(h, false)
	return err
}

// register adds a connection unless the user has too many, was revoked
// after the connection was authenticated, or the hub is closing.
func (h *Hub) register(c *client) (websocket.StatusCode, string, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.revoked[c.user]; ok && !c.authAt.After(t) {
		return StatusRevoked, reasonRevoked, false
	}
	if h.closed { // shutting down: the client reconnects elsewhere
		return websocket.StatusGoingAway, reasonShutdown, false
	}
	if h.perUser[c.user] >= h.cfg.MaxConnsPerUser {
		return websocket.StatusPolicyViolation, reasonTooMany, false
	}
	h.clients[c] = struct{}{}
	h.perUser[c.user]++
	h.conns.Add(1)
	h.presenceConn(c.user, +1, false)
	return 0, "", true
}

func (h *Hub) unregister(c *client, convs []int64) {
	for _, id := range convs {
		h.leave(id, c)
	}
	h.mu.Lock()
	delete(h.clients, c)
	if h.perUser[c.user]--; h.perUser[c.user] <= 0 {
		delete(h.perUser, c.user)
		delete(h.rates, c.user)
	}
	h.mu.Unlock()
	h.pmu.Lock()
	away := c.away
	h.pmu.Unlock()
	h.presenceConn(c.user, -1, away)
	h.conns.Done()
}

// allow takes one send from the user's rate bucket.
func (h *Hub) allow(user int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	b := h.rates[user]
	if b == nil {
		b = newBucket(h.cfg.RateMessages, h.cfg.RateWindow)
		h.rates[user] = b
	}
	return b.take(time.Now())
}

func (h *Hub) topicName(conv int64) string {
	return h.cfg.Namespace + ":chat:conv:" + strconv.FormatInt(conv, 10)
}

// join adds c to the conversation's topic, subscribing to the broker when c
// is the first local subscriber. The caller has already marked c as
// syncing on conv.
func (h *Hub) join(ctx context.Context, conv int64, c *client) error {
	h.mu.Lock()
	t := h.topics[conv]
	first := t == nil
	if first {
		t = &topic{ready: make(chan struct{})}
		h.topics[conv] = t
	}
	t.clients = append(t.clients[:len(t.clients):len(t.clients)], c)
	h.mu.Unlock()
	if !first {
		select {
		case <-t.ready:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(t.ready)
	tctx, cancel := context.WithCancel(h.ctx)
	ch, err := h.broker.Subscribe(tctx, h.topicName(conv))
	if err != nil {
		// Local clients are still served; other nodes' messages reach
		// them on their next reconnect.
		cancel()
		h.log.Warn("chat: broker subscribe failed; serving local clients only", "conversation", conv, "err", err)
		return nil
	}
	h.mu.Lock()
	t.cancel = cancel
	h.mu.Unlock()
	h.topicsWG.Add(1)
	go func() {
		defer h.topicsWG.Done()
		for p := range ch {
			h.fromBroker(p)
		}
	}()
	return nil
}

// leave removes c from the conversation's topic, and drops the topic (and
// its broker subscription) when no local client remains.
func (h *Hub) leave(conv int64, c *client) {
	h.mu.Lock()
	t := h.topics[conv]
	if t == nil {
		h.mu.Unlock()
		return
	}
	next := make([]*client, 0, len(t.clients))
	for _, x := range t.clients {
		if x != c {
			next = append(next, x)
		}
	}
	t.clients = next
	var cancel context.CancelFunc
	if len(next) == 0 {
		delete(h.topics, conv)
		cancel = t.cancel
	}
	h.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// Broker payloads: node id, conversation, seq (0 for ephemeral frames such
// as typing), then the frame that clients receive unchanged.
const payloadHeader = 24

func (h *Hub) payload(conv, seq int64, frame []byte) []byte {
	p := make([]byte, payloadHeader+len(frame))
	binary.BigEndian.PutUint64(p[0:], h.node)
	binary.BigEndian.PutUint64(p[8:], uint64(conv))
	binary.BigEndian.PutUint64(p[16:], uint64(seq))
	copy(p[payloadHeader:], frame)
	return p
}

func (h *Hub) fromBroker(p []byte) {
	if len(p) < payloadHeader || binary.BigEndian.Uint64(p) == h.node {
		return // malformed, or ours: already delivered locally
	}
	conv := int64(binary.BigEndian.Uint64(p[8:]))
	seq := int64(binary.BigEndian.Uint64(p[16:]))
	h.fanout(conv, seq, p[payloadHeader:])
}

// broadcast delivers a committed message's frame to local subscribers and
// publishes it for the other nodes. The frame is encoded once.
func (h *Hub) broadcast(ctx context.Context, conv, seq int64, frame []byte) {
	h.fanout(conv, seq, frame)
	p := h.payload(conv, seq, frame)
	if err := h.broker.Publish(ctx, h.topicName(conv), p); err != nil {
		h.brokerErrors.Add(1)
		h.log.Warn("chat: publish failed; other nodes catch up from the store", "conversation", conv, "err", err)
		if seq > 0 {
			h.keepUnsent(conv, seq, p)
		}
	}
}

// fanout queues the same frame on every local subscriber, never waiting.
func (h *Hub) fanout(conv, seq int64, frame []byte) {
	h.mu.Lock()
	var cs []*client
	if t := h.topics[conv]; t != nil {
		cs = t.clients
	}
	h.mu.Unlock()
	for _, c := range cs {
		c.deliver(conv, seq, frame)
	}
}

// bucket is a token bucket: n tokens refilled evenly over window.
type bucket struct {
	tokens, max, perSec float64
	last                time.Time
}

func newBucket(n int, window time.Duration) *bucket {
	return &bucket{tokens: float64(n), max: float64(n), perSec: float64(n) / window.Seconds()}
}

func (b *bucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.max, b.tokens+now.Sub(b.last).Seconds()*b.perSec)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// ModerateDelete deletes any message of a conversation for one of its
// moderators (Store.ModerateDelete) and shows the deletion live on every
// page open on the conversation.
func (h *Hub) ModerateDelete(ctx context.Context, conv, seq, actor int64) (Message, error) {
	m, err := h.store.ModerateDelete(ctx, conv, seq, actor)
	if err != nil {
		return Message{}, err
	}
	h.Changed(ctx, m)
	return m, nil
}

// Changed delivers a stored message again after it was edited or deleted,
// to local subscribers and other nodes. Best effort: a connection whose
// queue is full misses it and sees the change on its next page load.
func (h *Hub) Changed(ctx context.Context, m Message) {
	h.broadcast(ctx, m.ConversationID, -m.Seq, encodeMessage(m))
}

// Post stores a message sent outside a WebSocket (the page's plain form) and,
// once committed, delivers it live like one sent over a connection: to this
// node's subscribers and, through the broker, to the others. A resend with
// the same client id is stored and delivered once.
func (h *Hub) Post(ctx context.Context, conv, sender int64, clientID, body string) (Message, error) {
	m, _, err := h.store.post(ctx, conv, sender, clientID, body, Extra{})
	if err != nil {
		return Message{}, err
	}
	// A resend is delivered again, like one over a connection (conn.go's
	// send): connections that hold its seq skip it.
	h.broadcast(ctx, m.ConversationID, m.Seq, encodeMessage(m))
	return m, nil
}
