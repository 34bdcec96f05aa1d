package chat

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Broker carries already-committed messages between the nodes of Préau. It
// only fans out: it is never the record of a message, so a payload it drops
// is recovered from the database by seq.
type Broker interface {
	// Publish sends payload to every current subscriber of topic, on every
	// node. It does not wait for subscribers.
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe returns a channel of the payloads published on topic from
	// the time Subscribe returns. The channel is bounded: when it is full,
	// payloads are dropped and counted. It is closed once ctx is done or
	// the broker is closed. Subscribers must not modify payloads: they are
	// shared.
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
	// Dropped counts the payloads dropped because a subscriber was full.
	Dropped() uint64
	// Close ends every subscription.
	Close() error
}

// ErrClosed is returned by a closed broker.
var ErrClosed = errors.New("chat: broker closed")

// DefaultSubscriberBuffer is the payloads a subscription holds before drops.
const DefaultSubscriberBuffer = 1024

var (
	_ Broker = (*MemoryBroker)(nil)
	_ Broker = (*RedisBroker)(nil)
)

// subscribers is the local fan-out shared by both brokers: a set of bounded
// channels per topic. Sending never blocks, so holding the lock while
// sending is safe.
type subscribers struct {
	mu      sync.RWMutex
	topics  map[string]map[*sub]struct{}
	closed  bool
	buf     int
	dropped atomic.Uint64
}

type sub struct{ ch chan []byte }

func newSubscribers(buf int) *subscribers {
	if buf <= 0 {
		buf = DefaultSubscriberBuffer
	}
	return &subscribers{topics: map[string]map[*sub]struct{}{}, buf: buf}
}

// add registers a subscriber; first reports whether it is the topic's first.
func (s *subscribers) add(topic string) (sb *sub, first bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, false, ErrClosed
	}
	set := s.topics[topic]
	if set == nil {
		set = map[*sub]struct{}{}
		s.topics[topic] = set
	}
	sb = &sub{ch: make(chan []byte, s.buf)}
	set[sb] = struct{}{}
	return sb, len(set) == 1, nil
}

// remove unregisters and closes a subscriber; last reports whether the topic
// has no subscriber left.
func (s *subscribers) remove(topic string, sb *sub) (last bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set, ok := s.topics[topic]
	if !ok {
		return false
	}
	if _, ok := set[sb]; !ok {
		return false // already closed by closeAll
	}
	delete(set, sb)
	close(sb.ch)
	if len(set) == 0 {
		delete(s.topics, topic)
		return true
	}
	return false
}

func (s *subscribers) deliver(topic string, payload []byte) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for sb := range s.topics[topic] {
		select {
		case sb.ch <- payload:
		default:
			s.dropped.Add(1)
		}
	}
}

func (s *subscribers) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, set := range s.topics {
		for sb := range set {
			close(sb.ch)
		}
	}
	s.topics = map[string]map[*sub]struct{}{}
}

func (s *subscribers) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// MemoryBroker is the in-process broker: the default when one node serves
// everyone.
type MemoryBroker struct {
	subs      *subscribers
	done      chan struct{}
	closeOnce sync.Once
}

// NewMemoryBroker returns a broker whose subscriptions hold buf payloads
// (DefaultSubscriberBuffer when buf ≤ 0).
func NewMemoryBroker(buf int) *MemoryBroker {
	return &MemoryBroker{subs: newSubscribers(buf), done: make(chan struct{})}
}

// Publish delivers payload to the topic's subscribers without waiting.
func (b *MemoryBroker) Publish(ctx context.Context, topic string, payload []byte) error {
	if b.subs.isClosed() {
		return ErrClosed
	}
	b.subs.deliver(topic, payload)
	return nil
}

// Subscribe subscribes to topic until ctx is done.
func (b *MemoryBroker) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	sb, _, err := b.subs.add(topic)
	if err != nil {
		return nil, err
	}
	go func() {
		select {
		case <-ctx.Done():
			b.subs.remove(topic, sb)
		case <-b.done: // closeAll closed the channel
		}
	}()
	return sb.ch, nil
}

// Dropped counts payloads dropped on full subscribers.
func (b *MemoryBroker) Dropped() uint64 { return b.subs.dropped.Load() }

// Close closes every subscription.
func (b *MemoryBroker) Close() error {
	b.closeOnce.Do(func() {
		b.subs.closeAll()
		close(b.done)
	})
	return nil
}

func (s *subscribers) has(topic string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.topics[topic]) > 0
}
