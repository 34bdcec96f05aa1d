package sfu

import (
	"cmp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/logging"
	"github.com/pion/rtp"
)

// Congestion control towards subscribers: each subscriber PeerConnection has
// a send-side bandwidth estimate (pion's GCC, draft-ietf-rmcat-gcc-02, fed by
// the subscriber's transport-cc feedback on the transport-wide sequence
// numbers the SFU writes in every packet), and the simulcast layers it
// receives are capped so that the sum of its streams fits the estimate.

const (
	// bweInitial is the estimate before any feedback: a camera's three
	// layers fit; GCC grows it while the link takes more, and cuts it to
	// 85 % of the received rate when the delay grows or packets are lost.
	bweInitial = 2_500_000
	// bweInterval is how often a subscriber's layers are fitted to its
	// estimate.
	bweInterval = 500 * time.Millisecond
	// Hysteresis: layers go down as soon as their sum exceeds the budget,
	// and up one step at a time, only if the new sum leaves bweUpRatio of
	// headroom, bweUpEvery after the last step up and bweUpHold after the
	// last step down.
	bweUpRatio = 0.85
	bweUpEvery = 2 * time.Second
	bweUpHold  = 4 * time.Second
	// bweFall: an estimate below this share of the previous one is GCC
	// reacting to congestion (a rising delay or losses).
	bweFall = 0.97
	// Probing. GCC raises its estimate by 8 %/s at most, so a subscriber
	// that sat on a low layer (a small tile) with an estimate cut then
	// would wait long to get a better one: when the estimate has not
	// fallen for the probe interval, the next layer is tried even if it
	// does not fit; if the estimate does not fall within bweProveAfter the
	// link carries it. A failed probe doubles the interval, up to
	// bweProbeMax; a successful one resets it.
	bweProbeAfter = 6 * time.Second
	bweProbeMax   = 30 * time.Second
	bweProveAfter = 3 * time.Second
)

// nominalRates are the bit rates assumed for a layer before it was measured:
// the caps live.js sets on the camera's encodings.
var nominalRates = [numLayers]uint64{150_000, 500_000, 1_500_000}

// newBWEInterceptor returns pion's congestion-control interceptor, one GCC
// estimator per PeerConnection, handed to h (by PeerConnection id) as each
// PeerConnection is built. The estimator does not pace: packets go out at
// once (bwePacer) and the SFU adapts by choosing layers instead.
func newBWEInterceptor(h *bweHandoff, logs logging.LoggerFactory) (*cc.InterceptorFactory, error) {
	f, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(gcc.SendSideBWEInitialBitrate(bweInitial), gcc.SendSideBWEPacer(&bwePacer{}),
			gcc.WithLoggerFactory(logs))
	})
	if err != nil {
		return nil, err
	}
	f.OnNewPeerConnection(h.put)
	return f, nil
}

// bweHandoff passes each PeerConnection's estimator from the interceptor
// factory's callback (run inside NewPeerConnection) to the code that made
// the PeerConnection, by PeerConnection id. An estimator never taken (the
// network check's PeerConnections) is forgotten after bweHandoffTTL.
type bweHandoff struct {
	mu   sync.Mutex
	byID map[string][]bweEntry
}

type bweEntry struct {
	est cc.BandwidthEstimator
	at  time.Time
}

const bweHandoffTTL = 10 * time.Second

func (h *bweHandoff) put(id string, est cc.BandwidthEstimator) {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byID == nil {
		h.byID = map[string][]bweEntry{}
	}
	if len(h.byID) >= 64 {
		for k, es := range h.byID {
			if now.Sub(es[0].at) > bweHandoffTTL {
				delete(h.byID, k)
			}
		}
	}
	h.byID[id] = append(h.byID[id], bweEntry{est, now})
}

// take returns the estimator of the PeerConnection id, or nil if there is
// none or two PeerConnections got the same id (pion makes it from the
// clock): a subscriber without an estimator keeps the loss cap only.
func (h *bweHandoff) take(id string) cc.BandwidthEstimator {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	es := h.byID[id]
	delete(h.byID, id)
	if len(es) != 1 {
		return nil
	}
	return es[0].est
}

// bwePacer implements gcc.Pacer without pacing: each packet is written at
// once to its stream, found without a lock (the streams of a PeerConnection
// change rarely: copy on write).
type bwePacer struct {
	mu      sync.Mutex
	streams atomic.Pointer[map[uint32]interceptor.RTPWriter]
}

var _ gcc.Pacer = (*bwePacer)(nil)

func (p *bwePacer) AddStream(ssrc uint32, w interceptor.RTPWriter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	next := map[uint32]interceptor.RTPWriter{ssrc: w}
	if cur := p.streams.Load(); cur != nil {
		for k, v := range *cur {
			if k != ssrc {
				next[k] = v
			}
		}
	}
	p.streams.Store(&next)
}

func (p *bwePacer) Write(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
	if m := p.streams.Load(); m != nil {
		if w := (*m)[h.SSRC]; w != nil {
			return w.Write(h, payload, a)
		}
	}
	return 0, gcc.ErrUnknownStream
}

func (p *bwePacer) SetTargetBitrate(int) {}
func (p *bwePacer) Close() error         { return nil }

// bweItem is one simulcast down track as the allocation sees it.
type bweItem struct {
	want int                // the layer wished, under the loss cap
	cap  int                // the bandwidth cap (numLayers-1: none)
	cost [numLayers]float64 // bit rate forwarded at each layer
}

func (it *bweItem) layer() int { return min(it.want, it.cap) }

// bweState is a subscriber's memory between allocations.
type bweState struct {
	lastUp, lastDown time.Time
	est              float64       // the estimate at the last allocation
	fell             time.Time     // when the estimate last fell
	carried          float64       // a probe's sum, sent bweProveAfter without the estimate falling
	probing          bool          // the last step up did not fit: on trial
	backoff          time.Duration // the probe interval (0: bweProbeAfter)
}

// fit sets the items' caps for an estimate est (bit/s) of which fixed goes
// to streams without layers. The budget is what is left, or what the link
// was seen to carry since the estimate last fell if that is more. Down at
// once, the highest layers first, until the sum fits (the lowest layer is
// never refused), except while a probe is on trial; otherwise at most one
// step up, for the lowest layer that may rise: if the new sum leaves
// bweUpRatio of headroom, or as a probe. Reports whether a cap changed.
func (s *bweState) fit(items []bweItem, est, fixed float64, now time.Time) bool {
	if s.backoff == 0 {
		s.backoff = bweProbeAfter
	}
	if est < s.est*bweFall {
		s.fell, s.carried = now, 0
		if s.probing { // the probe congested the link
			s.probing = false
			s.backoff = min(2*s.backoff, bweProbeMax)
		}
	}
	s.est = est
	sum := 0.0
	for i := range items {
		sum += items[i].cost[items[i].layer()]
	}
	if s.probing && now.Sub(s.lastUp) >= bweProveAfter { // and the estimate did not fall
		s.probing, s.backoff = false, bweProbeAfter
		s.carried = max(s.carried, sum)
	}
	budget := max(est-fixed, s.carried)
	changed := false
	for sum > budget && !s.probing {
		best := -1
		for i := range items {
			it := &items[i]
			if l := it.layer(); l > 0 && (best < 0 || l > items[best].layer() ||
				l == items[best].layer() && it.cost[l] > items[best].cost[items[best].layer()]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		it := &items[best]
		l := it.layer()
		sum += it.cost[l-1] - it.cost[l]
		it.cap = l - 1
		changed = true
		s.lastDown = now
	}
	if changed || s.probing || now.Sub(s.lastDown) < bweUpHold || now.Sub(s.lastUp) < bweUpEvery {
		return changed
	}
	best := -1
	for i := range items {
		it := &items[i]
		if l := it.layer(); l < it.want && (best < 0 || l < items[best].layer()) {
			best = i
		}
	}
	if best < 0 {
		return false
	}
	it := &items[best]
	l := it.layer()
	fits := sum+it.cost[l+1]-it.cost[l] <= bweUpRatio*budget
	probe := !fits && now.Sub(s.fell) >= s.backoff && now.Sub(s.lastDown) >= s.backoff
	if !fits && !probe {
		return false
	}
	it.cap = l + 1
	s.lastUp, s.probing = now, probe
	return true
}

// bweLoop fits the subscriber's simulcast layers to its estimate every
// bweInterval, once the subscriber has sent transport-cc feedback (without
// it the estimate means nothing and only the loss cap applies).
func (p *Participant) bweLoop() {
	defer p.wg.Done()
	tick := time.NewTicker(bweInterval)
	defer tick.Stop()
	var s bweState
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-tick.C:
		}
		if p.twcc.Load() {
			p.fitLayers(&s, time.Now())
		}
	}
}

// fitLayers runs one allocation: the estimate, less what the subscriber
// receives that has no layers (audio, screen share, a camera without
// simulcast), is shared among its simulcast down tracks.
func (p *Participant) fitLayers(s *bweState, now time.Time) {
	p.mu.Lock()
	downs := make([]*downTrack, 0, len(p.downs))
	for _, d := range p.downs {
		downs = append(downs, d)
	}
	p.mu.Unlock()
	if len(downs) == 0 {
		return
	}
	est, fixed := float64(p.bwe.GetTargetBitrate()), 0.0
	for _, t := range p.subscribedTracks() {
		if !t.simulcast {
			fixed += float64(t.rates[0].Load())
		}
	}
	// A stable order: the allocation breaks ties by position.
	slices.SortFunc(downs, func(a, b *downTrack) int { return cmp.Compare(a.t.info.ID, b.t.info.ID) })
	items := make([]bweItem, len(downs))
	for i, d := range downs {
		items[i] = bweItem{want: int(min(d.wish.Load(), d.lossCap.Load())), cap: int(d.bweCap.Load())}
		for l := range numLayers {
			items[i].cost[l] = float64(d.t.layerCost(l))
		}
	}
	if !s.fit(items, est, fixed, now) {
		return
	}
	for i, d := range downs {
		if d.setBWECap(items[i].cap) {
			d.t.updateLayers() // pause.go
		}
	}
}

// layerCost is the bit rate a subscriber capped at layer receives: the
// rate last measured of that layer, or of the nearest layer below it the
// publisher sends, or its nominal rate before any measure. A paused layer
// keeps its last measure, so the allocation does not take it for free.
func (t *publishedTrack) layerCost(l int) uint64 {
	for ; l >= 0; l-- {
		if t.layers[l].Load() != nil {
			if r := t.rates[l].Load(); r > 0 {
				return r
			}
			return nominalRates[l]
		}
	}
	return 0
}

// rateWindow is the period over which a received stream's bit rate is
// measured (smoothed over two windows).
const rateWindow = time.Second

// rateMeter measures a received stream's bit rate in the goroutine that
// reads it: no atomic operation per packet, one store per window.
type rateMeter struct {
	start time.Time
	bytes int
}

func (m *rateMeter) add(now time.Time, n int, out *atomic.Uint64) {
	if m.start.IsZero() {
		m.start = now
	}
	m.bytes += n
	if el := now.Sub(m.start); el >= rateWindow {
		r := uint64(float64(m.bytes*8) / el.Seconds())
		if old := out.Load(); old > 0 {
			r = (r + old) / 2
		}
		out.Store(r)
		m.start, m.bytes = now, 0
	}
}
