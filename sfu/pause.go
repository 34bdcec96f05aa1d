package sfu

import (
	"sync"
	"time"
)

// Pausing layers nobody watches: when no subscriber of a simulcast track
// wants a layer (all on small tiles, or capped by their bandwidth), the
// publisher is told to stop encoding it ("layers" with the RIDs to send;
// live.js sets encodings[i].active), which saves its CPU and uplink. A
// layer is paused after pauseAfter without anyone wanting it, so a tile
// resized back and forth does not flap; it is resumed as soon as someone
// wants it, and its first packets bring a keyframe request (forwardLayer,
// and the down tracks waiting to switch to it). The lowest layer is never
// paused: a newcomer gets a picture at once.

const pauseAfter = 2 * time.Second

// pauser is a simulcast track's memory of what the publisher was told.
type pauser struct {
	mu     sync.Mutex
	paused [numLayers]bool      // as last told (the publisher starts with all layers on)
	since  [numLayers]time.Time // when the layer stopped being wanted; zero while wanted
	timer  *time.Timer          // the next pause due, at most one
}

// desired is the layer the down track would forward if the publisher sent
// every layer: the wish under the loss and bandwidth caps.
func (d *downTrack) desired() int {
	return int(min(d.wish.Load(), d.lossCap.Load(), d.bweCap.Load()))
}

// updateLayers works out which layers of a simulcast track someone wants,
// and tells the publisher when that changes: resumed at once, paused after
// pauseAfter. Called when a subscriber comes, goes or changes its layer,
// when a layer starts or stops arriving, and by its own timer.
func (t *publishedTrack) updateLayers() {
	if !t.simulcast || t.stopped.Load() {
		return
	}
	var want [numLayers]bool
	want[0] = true
	if downs := t.downs.Load(); downs != nil {
		for _, d := range *downs {
			// Until the layer desired comes (resumed a moment ago, or
			// one the publisher does not send: Chromium sends two
			// layers of a 640×480 camera), the one below is wanted too.
			for l := d.desired(); l >= 0; l-- {
				want[l] = true
				if t.active[l].Load() {
					break
				}
			}
		}
	}
	now := time.Now()
	k := &t.pause
	k.mu.Lock()
	next := k.paused
	var wake time.Duration
	for l := range numLayers {
		switch {
		case want[l]:
			k.since[l] = time.Time{}
			next[l] = false
		case k.paused[l]:
		case k.since[l].IsZero():
			k.since[l] = now
			wake = pauseAfter
		case now.Sub(k.since[l]) >= pauseAfter:
			next[l] = true
		default:
			if w := pauseAfter - now.Sub(k.since[l]); wake == 0 || w < wake {
				wake = w
			}
		}
	}
	if wake > 0 && k.timer == nil {
		k.timer = time.AfterFunc(wake, func() {
			k.mu.Lock()
			k.timer = nil
			k.mu.Unlock()
			t.updateLayers()
		})
	}
	if next != k.paused {
		k.paused = next
		active := make([]string, 0, numLayers)
		for l, p := range next {
			if !p {
				active = append(active, simulcastRIDs[l])
			}
		}
		info := t.info
		// Queued under k.mu, so two updates reach the publisher in the
		// order they were decided; send only queues (it never waits).
		t.owner.send(Event{Type: TypeLayers, Track: &info, Active: active})
	}
	k.mu.Unlock()
}

// stopPause cancels a pending pause (the track stopped).
func (t *publishedTrack) stopPause() {
	k := &t.pause
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.timer != nil {
		k.timer.Stop()
		k.timer = nil
	}
}
