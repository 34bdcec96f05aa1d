package chat

import "sync"

// outQueue is a connection's bounded queue of frames for its writer. A
// buffered channel of Config.SendQueue frames cost 6 KiB per connection
// even while idle, which most connections are; this queue holds memory
// only while frames wait, and lets it go once drained.
type outQueue struct {
	mu   sync.Mutex
	q    [][]byte
	head int
	max  int
	// wake holds a token while frames may wait; the writer takes it,
	// pops one frame, and puts it back while more wait.
	wake chan struct{}
}

func newOutQueue(max int) *outQueue {
	return &outQueue{max: max, wake: make(chan struct{}, 1)}
}

// push queues f without waiting; false when max frames already wait.
func (o *outQueue) push(f []byte) bool {
	o.mu.Lock()
	if len(o.q)-o.head >= o.max {
		o.mu.Unlock()
		return false
	}
	o.q = append(o.q, f)
	o.mu.Unlock()
	o.signal()
	return true
}

// pop takes the oldest frame, if any, and leaves the token in wake while
// more wait.
func (o *outQueue) pop() ([]byte, bool) {
	o.mu.Lock()
	if o.head == len(o.q) {
		o.mu.Unlock()
		return nil, false
	}
	f := o.q[o.head]
	o.q[o.head] = nil
	o.head++
	more := o.head < len(o.q)
	if !more {
		o.head = 0
		if cap(o.q) > 16 {
			o.q = nil // a burst's array goes; a small one is kept for the next frames
		} else {
			o.q = o.q[:0]
		}
	}
	o.mu.Unlock()
	if more {
		o.signal()
	}
	return f, true
}

func (o *outQueue) signal() {
	select {
	case o.wake <- struct{}{}:
	default: // already signalled
	}
}
