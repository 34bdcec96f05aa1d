package chat

import "sync"

// outQueue is what a connection's writer has to write: live frames and
// replies, bounded, and one replayed frame at a time. A buffered channel
// of Config.SendQueue frames cost 6 KiB per connection even while idle,
// which most connections are; this queue holds memory only while frames
// wait, and lets it go once drained.
//
// The writer takes every waiting frame at once (take), so that a
// connection that fell behind catches up in one wake-up. Frames taken
// count against max until the writer takes again: the bound is on frames
// not yet written, as when it took one at a time.
//
// One channel, wake, tells the writer of everything (frames, a replayed
// frame, a ping due, the end): the writer is woken once per delivery, and
// its select over four channels, one of them a ticker's, was 13% of the
// server's CPU time under load; a receive from one channel costs a
// fraction of that.
type outQueue struct {
	mu     sync.Mutex
	q      [][]byte
	taken  int // frames of the writer's last take, not yet known written
	max    int
	replay []byte // handed by the reader (client.replayFrame), nil once taken
	// wake holds a token while something may wait; the writer takes it,
	// then looks.
	wake chan struct{}
	// replayed has a token once the replayed frame is written.
	replayed chan struct{}
}

func newOutQueue(max int) *outQueue {
	return &outQueue{max: max, wake: make(chan struct{}, 1), replayed: make(chan struct{}, 1)}
}

// push queues f without waiting; false when max frames already wait.
func (o *outQueue) push(f []byte) bool {
	o.mu.Lock()
	if len(o.q)+o.taken >= o.max {
		o.mu.Unlock()
		return false
	}
	o.q = append(o.q, f)
	o.mu.Unlock()
	o.signal()
	return true
}

// hand gives the writer a replayed frame, to be written before the frames
// queued; the caller then waits for replayed. One at a time: replays are
// serialised by client.replayMu.
func (o *outQueue) hand(f []byte) {
	o.mu.Lock()
	o.replay = f
	o.mu.Unlock()
	o.signal()
}

// take returns the replayed frame handed, if any, and every waiting
// frame, oldest first, and gives the queue spare (emptied) as its next
// array: the writer and the queue swap two arrays rather than allocating.
// Taking tells the queue that the frames of the previous take are written.
func (o *outQueue) take(spare [][]byte) (replay []byte, frames [][]byte) {
	o.mu.Lock()
	replay, frames = o.replay, o.q
	o.replay, o.q, o.taken = nil, spare[:0], len(frames)
	o.mu.Unlock()
	return replay, frames
}

// recycle empties frames that were taken and written, and returns them as
// the spare array of the next take, unless a burst made it large: that one
// goes, and a small one is kept for the next frames.
func recycle(frames [][]byte) [][]byte {
	if cap(frames) > 16 {
		return nil
	}
	clear(frames)
	return frames[:0]
}

func (o *outQueue) signal() {
	select {
	case o.wake <- struct{}{}:
	default: // already signalled
	}
}
