package chat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisBroker fans out through Redis pub/sub when several nodes run. All of
// a node's topics share one pub/sub connection; a goroutine reads it and
// hands payloads to local subscribers without ever waiting for them.
type RedisBroker struct {
	rdb  *redis.Client
	ps   *redis.PubSub
	subs *subscribers

	// cmdMu orders SUBSCRIBE and UNSUBSCRIBE commands so that the last
	// command sent for a topic matches whether it has local subscribers.
	cmdMu  sync.Mutex
	active map[string]bool

	// mu guards the confirmation state: pending counts SUBSCRIBE commands
	// not yet confirmed; a topic is ready once none is pending.
	mu      sync.Mutex
	pending map[string]int
	ready   map[string]bool
	waiters map[string][]chan struct{}

	// unreachableUntil (unix ns): after a failed dial, publishes fail at
	// once until then instead of each waiting for its own dial.
	unreachableUntil atomic.Int64

	// hooks are the Resumer callbacks, by registration number.
	hookMu   sync.Mutex
	hooks    map[int]func(string)
	nextHook int

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// NewRedisBroker connects to the Redis server at url (redis://…) and returns
// a broker whose subscriptions hold buf payloads (DefaultSubscriberBuffer
// when buf ≤ 0).
func NewRedisBroker(ctx context.Context, url string, buf int) (*RedisBroker, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("chat: redis url: %w", err)
	}
	// Publish runs on a sender's path: when Redis is away it must fail
	// fast rather than retry for seconds (the message is committed and
	// already delivered locally; other nodes catch up from the store).
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 1
	}
	if opts.MaxRetryBackoff == 0 {
		opts.MinRetryBackoff, opts.MaxRetryBackoff = 10*time.Millisecond, 50*time.Millisecond
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 2 * time.Second
	}
	rdb := redis.NewClient(opts)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("chat: redis: %w", err)
	}
	b := &RedisBroker{
		rdb:     rdb,
		ps:      rdb.Subscribe(ctx),
		subs:    newSubscribers(buf),
		active:  map[string]bool{},
		pending: map[string]int{},
		ready:   map[string]bool{},
		waiters: map[string][]chan struct{}{},
		hooks:   map[int]func(string){},
		done:    make(chan struct{}),
	}
	b.wg.Add(1)
	go b.receive()
	return b, nil
}

// receive reads the pub/sub connection until Close. go-redis reconnects and
// subscribes again after a network error; while Redis is away, nothing
// arrives from other nodes. The confirmation of a topic that was already
// subscribed tells that it is back (OnResume): the hub then catches its
// clients up from the store.
func (b *RedisBroker) receive() {
	defer b.wg.Done()
	backoff := 50 * time.Millisecond
	for {
		msg, err := b.ps.Receive(context.Background())
		if err != nil {
			select {
			case <-b.done:
				return
			case <-time.After(backoff):
				backoff = min(2*backoff, 2*time.Second)
				continue
			}
		}
		backoff = 50 * time.Millisecond
		switch m := msg.(type) {
		case *redis.Message:
			b.subs.deliver(m.Channel, []byte(m.Payload))
		case *redis.Subscription:
			if m.Kind == "subscribe" && b.confirm(m.Channel) {
				b.resumed(m.Channel)
			}
		}
	}
}

// confirm records a subscription's confirmation; again reports one that
// nobody asked for: go-redis subscribed a ready topic again after a
// reconnection.
func (b *RedisBroker) confirm(topic string) (again bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending[topic] == 0 && b.ready[topic] {
		return true
	}
	if b.pending[topic] > 0 {
		b.pending[topic]--
	}
	if b.pending[topic] == 0 {
		delete(b.pending, topic)
		b.ready[topic] = true
		for _, w := range b.waiters[topic] {
			close(w)
		}
		delete(b.waiters, topic)
	}
	return false
}

// OnResume registers fn, called with a topic whose subscription was
// re-established after a lost connection to Redis: payloads published
// meanwhile were lost. fn runs on the reader and must not block.
func (b *RedisBroker) OnResume(fn func(topic string)) (stop func()) {
	b.hookMu.Lock()
	defer b.hookMu.Unlock()
	n := b.nextHook
	b.nextHook++
	b.hooks[n] = fn
	return func() {
		b.hookMu.Lock()
		defer b.hookMu.Unlock()
		delete(b.hooks, n)
	}
}

func (b *RedisBroker) resumed(topic string) {
	b.hookMu.Lock()
	fns := make([]func(string), 0, len(b.hooks))
	for _, fn := range b.hooks {
		fns = append(fns, fn)
	}
	b.hookMu.Unlock()
	for _, fn := range fns {
		fn(topic)
	}
}

// reconcile sends SUBSCRIBE or UNSUBSCRIBE so that Redis's view of the topic
// matches whether it has local subscribers.
func (b *RedisBroker) reconcile(ctx context.Context, topic string) error {
	b.cmdMu.Lock()
	defer b.cmdMu.Unlock()
	want := b.subs.has(topic)
	if want == b.active[topic] {
		return nil
	}
	b.mu.Lock()
	if want {
		b.pending[topic]++
	} else {
		delete(b.ready, topic)
	}
	b.mu.Unlock()
	if !want {
		delete(b.active, topic)
		return b.ps.Unsubscribe(ctx, topic)
	}
	if err := b.ps.Subscribe(ctx, topic); err != nil {
		b.mu.Lock()
		b.pending[topic]--
		b.mu.Unlock()
		return err
	}
	b.active[topic] = true
	return nil
}

// unreachableWait is how long publishes fail at once after Redis could not
// be dialled.
const unreachableWait = 500 * time.Millisecond

var errUnreachable = errors.New("Redis unreachable (last dial failed)")

// Publish publishes payload on topic.
func (b *RedisBroker) Publish(ctx context.Context, topic string, payload []byte) error {
	if b.subs.isClosed() {
		return ErrClosed
	}
	if until := b.unreachableUntil.Load(); until != 0 && time.Now().UnixNano() < until {
		return fmt.Errorf("chat: redis publish %q: %w", topic, errUnreachable)
	}
	if err := b.rdb.Publish(ctx, topic, payload).Err(); err != nil {
		if op := (*net.OpError)(nil); errors.As(err, &op) && op.Op == "dial" {
			b.unreachableUntil.Store(time.Now().Add(unreachableWait).UnixNano())
		}
		return fmt.Errorf("chat: redis publish %q: %w", topic, err)
	}
	b.unreachableUntil.Store(0)
	return nil
}

// Subscribe subscribes to topic until ctx is done. It returns once Redis has
// confirmed the subscription, so nothing published afterwards is missed.
func (b *RedisBroker) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	sb, _, err := b.subs.add(topic)
	if err != nil {
		return nil, err
	}
	wait := make(chan struct{})
	b.mu.Lock()
	if b.ready[topic] {
		close(wait)
	} else {
		b.waiters[topic] = append(b.waiters[topic], wait)
	}
	b.mu.Unlock()
	fail := func(err error) (<-chan []byte, error) {
		b.unsubscribe(topic, sb)
		return nil, fmt.Errorf("chat: redis subscribe %q: %w", topic, err)
	}
	if err := b.reconcile(ctx, topic); err != nil {
		return fail(err)
	}
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	select {
	case <-wait:
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-timeout.C:
		return fail(errors.New("no confirmation from Redis"))
	case <-b.done:
		return nil, ErrClosed
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		select {
		case <-ctx.Done():
			b.unsubscribe(topic, sb)
		case <-b.done:
		}
	}()
	return sb.ch, nil
}

func (b *RedisBroker) unsubscribe(topic string, sb *sub) {
	if b.subs.remove(topic, sb) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		b.reconcile(ctx, topic) // on failure the topic stays subscribed with no local reader: harmless
	}
}

// Dropped counts payloads dropped on full subscribers.
func (b *RedisBroker) Dropped() uint64 { return b.subs.dropped.Load() }

// Close ends every subscription and closes the Redis connections.
func (b *RedisBroker) Close() error {
	var err error
	b.closeOnce.Do(func() {
		close(b.done)
		b.subs.closeAll()
		err = b.ps.Close()
		b.wg.Wait()
		if e := b.rdb.Close(); err == nil {
			err = e
		}
	})
	return err
}

// Ping checks that Redis answers; for /readyz.
func (b *RedisBroker) Ping(ctx context.Context) error { return b.rdb.Ping(ctx).Err() }
