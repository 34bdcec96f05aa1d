package sfu

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

const (
	answerTimeout  = 15 * time.Second // a client that does not answer an offer is closed
	gatherTimeout  = 3 * time.Second
	maxPendingICE  = 64
	maxSlotsPerSrc = 1
)

// Participant is one user in a room: one signaling socket and one
// PeerConnection. The server always makes the offers (see doc.go).
type Participant struct {
	room  *Room
	grant Grant
	conn  *websocket.Conn
	pc    *webrtc.PeerConnection

	// ctx is cancelled when the participant closes; the loops it owns
	// (writer, negotiator) select on it.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	out       chan []byte   // events to the writer
	negotiate chan struct{} // cap 1: an offer is needed
	answered  chan struct{} // cap 1: the pending offer was answered

	// waiting is true while the participant is in the waiting room: no
	// offer is made and only ping is answered.
	waiting atomic.Bool
	// restartICE: the next offer restarts ICE (the client asked).
	restartICE atomic.Bool
	// bwe estimates the bandwidth towards this participant (bwe.go); nil
	// when pion could not say which estimator is this PeerConnection's.
	// twcc: the participant has sent transport-cc feedback, so the
	// estimate means something.
	bwe  cc.BandwidthEstimator
	twcc atomic.Bool

	mu        sync.Mutex
	perm      Permissions
	slots     map[*webrtc.RTPTransceiver]string       // receiving slots made for this publisher → source
	subs      map[string]*webrtc.RTPSender            // published track id → our sender (nil while being added)
	downs     map[string]*downTrack                   // simulcast track id → our down track
	simTracks map[*webrtc.RTPReceiver]*publishedTrack // a simulcast slot → its track, as layers arrive
	remoteICE []webrtc.ICECandidateInit               // candidates that came before the answer
	closed    bool
	closeCode string
}

func (r *Room) newParticipant(ctx context.Context, g Grant, c *websocket.Conn) (*Participant, error) {
	pc, err := r.m.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("sfu: new peer connection: %w", err)
	}
	// A data channel gives the first offer an m-line, so ICE and DTLS are
	// done before any track exists: a pupil who joins before the teacher's
	// camera starts receives it at once (join storm).
	if _, err := pc.CreateDataChannel("preau", nil); err != nil {
		pc.Close()
		return nil, fmt.Errorf("sfu: data channel: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &Participant{
		room: r, grant: g, conn: c, pc: pc, ctx: ctx, cancel: cancel, bwe: r.m.bwes.take(pc.ID()),
		out:       make(chan []byte, sendQueue),
		negotiate: make(chan struct{}, 1),
		answered:  make(chan struct{}, 1),
		perm:      basePermissions(g),
		slots:     map[*webrtc.RTPTransceiver]string{},
		subs:      map[string]*webrtc.RTPSender{},
		downs:     map[string]*downTrack{},
		simTracks: map[*webrtc.RTPReceiver]*publishedTrack{},
	}
	pc.OnTrack(p.onTrack)
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			// The subscriptions made before DTLS was up missed the
			// keyframe: ask again (rate-limited per track).
			for _, t := range p.subscribedTracks() {
				t.requestKeyframe()
			}
		case webrtc.PeerConnectionStateFailed:
			go p.close()
		}
	})
	return p, nil
}

func basePermissions(g Grant) Permissions {
	return Permissions{Audio: g.CanPublishAudio, Video: g.CanPublishVideo, Screen: g.CanPublishScreen}
}

// Info describes the participant to others.
func (p *Participant) Info() ParticipantInfo {
	return ParticipantInfo{User: p.grant.UserID, Name: p.grant.Name, Role: p.grant.Role}
}

func (p *Participant) isModerator() bool { return p.grant.Role == RoleModerator }

// start runs the writer and the negotiator; the first offer is requested
// when the participant enters the room (not while it waits).
func (p *Participant) start() {
	p.wg.Add(2)
	go p.writeLoop()
	go p.negotiateLoop()
	if p.bwe != nil {
		p.wg.Add(1)
		go p.bweLoop() // bwe.go
	}
}

// send queues an event. A full queue means the client cannot keep up: it is
// closed, never waited for.
func (p *Participant) send(e Event) { p.sendRaw(encode(e)) }

func (p *Participant) sendRaw(b []byte) {
	select {
	case <-p.ctx.Done():
	case p.out <- b:
	default:
		p.room.m.stats.slow.Add(1)
		go p.closeWith("slow_client")
	}
}

// fail sends an error and closes the participant with a policy violation.
func (p *Participant) fail(code string) {
	p.send(errorEvent(code))
	p.closeWith(code)
}

func (p *Participant) closeWith(code string) {
	p.mu.Lock()
	if p.closeCode == "" {
		p.closeCode = code
	}
	p.mu.Unlock()
	p.close()
}

// close ends the participant: PeerConnection closed (its forwarding and RTCP
// goroutines end with it), writer told to flush and close the socket, room
// told. Idempotent; never call it with a lock held.
func (p *Participant) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	downs := make([]*downTrack, 0, len(p.downs))
	for _, d := range p.downs {
		downs = append(downs, d)
	}
	p.mu.Unlock()
	for _, d := range downs {
		d.t.removeDown(d) // others' simulcast tracks stop writing to us
	}
	p.cancel()
	if err := p.pc.Close(); err != nil {
		p.room.m.log.Debug("sfu: close peer connection", "user", p.grant.UserID, "err", err)
	}
	p.room.leave(p)
}

func (p *Participant) requestNegotiation() {
	select {
	case p.negotiate <- struct{}{}:
	default: // one is already due; it will include this change
	}
}

// negotiateLoop makes one offer at a time and waits for its answer, so the
// server never has two offers in flight and glare cannot happen.
func (p *Participant) negotiateLoop() {
	defer p.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.negotiate:
		}
		if err := p.offer(); err != nil {
			if p.ctx.Err() == nil {
				p.room.m.log.Warn("sfu: offer", "user", p.grant.UserID, "err", err)
				go p.closeWith("internal")
			}
			return
		}
		timer.Reset(answerTimeout)
		select {
		case <-p.ctx.Done():
			return
		case <-timer.C:
			go p.closeWith("bad_sdp")
			return
		case <-p.answered:
		}
	}
}

func (p *Participant) offer() error {
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: p.restartICE.Swap(false)})
	if err != nil {
		return fmt.Errorf("create offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	// Host candidates on the UDP mux are known at once: send them in the
	// SDP instead of trickling, so the client needs no ordering care.
	t := time.NewTimer(gatherTimeout)
	select {
	case <-gathered:
	case <-t.C:
	case <-p.ctx.Done():
	}
	t.Stop()
	if p.ctx.Err() != nil {
		return p.ctx.Err()
	}
	var slots []Slot
	p.mu.Lock()
	for tr, src := range p.slots {
		if mid := tr.Mid(); mid != "" {
			slots = append(slots, Slot{Mid: mid, Source: src})
		}
	}
	p.mu.Unlock()
	// pion refuses a changed offer in SetLocalDescription, so only the copy
	// sent proposes simulcast for new camera slots; pion takes the RIDs from
	// the answer, and repeats them in the next offers (simulcast.go).
	// Firefox also needs the RID header extensions there (ridext.go).
	mids := p.newCameraMids()
	sdp := addRIDExtmaps(addSimulcastRecv(p.pc.LocalDescription().SDP, mids), mids)
	p.send(Event{Type: TypeOffer, SDP: sdp, Slots: slots})
	return nil
}

// newCameraMids returns the mids of camera slots not yet answered: their
// first offer proposes simulcast (simulcast.go).
func (p *Participant) newCameraMids() []string {
	var answered string
	if d := p.pc.CurrentRemoteDescription(); d != nil {
		answered = d.SDP
	}
	var mids []string
	p.mu.Lock()
	defer p.mu.Unlock()
	for tr, src := range p.slots {
		if mid := tr.Mid(); src == SourceCamera && mid != "" && !strings.Contains(answered, "a=mid:"+mid+"\r\n") {
			mids = append(mids, mid)
		}
	}
	return mids
}

// handle acts on one client message; false closes the connection.
func (p *Participant) handle(m Message) bool {
	r := p.room
	if p.waiting.Load() && m.Type != TypePing {
		return true // nothing else means anything in the waiting room
	}
	switch m.Type {
	case TypePing:
		p.send(Event{Type: TypePong})
	case TypeAnswer:
		answer := dropRecvSimulcast(m.SDP) // simulcast.go
		if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
			p.fail("bad_sdp")
			return false
		}
		p.mu.Lock()
		pending := p.remoteICE
		p.remoteICE = nil
		p.mu.Unlock()
		for _, c := range pending {
			_ = p.pc.AddICECandidate(c) // a bad candidate only fails itself
		}
		// The page attaches its new tracks only now: pion drops for good a
		// simulcast layer whose first packets come before the answer that
		// names its RID is applied ("no trackStreams found for RID").
		p.send(Event{Type: TypeAnswered})
		select {
		case p.answered <- struct{}{}:
		default:
		}
	case TypeCandidate:
		c := webrtc.ICECandidateInit{Candidate: m.Candidate.Candidate, SDPMid: m.Candidate.SDPMid,
			SDPMLineIndex: m.Candidate.SDPMLineIndex, UsernameFragment: m.Candidate.UsernameFragment}
		if p.pc.RemoteDescription() == nil {
			p.mu.Lock()
			if len(p.remoteICE) < maxPendingICE {
				p.remoteICE = append(p.remoteICE, c)
			}
			p.mu.Unlock()
			return true
		}
		_ = p.pc.AddICECandidate(c)
	case TypePublish:
		p.publish(m.Sources)
	case TypeUnpublish:
		p.unpublish(m.Sources)
	case TypeRestartICE:
		p.restartICE.Store(true)
		p.requestNegotiation()
	case TypeLayer:
		p.mu.Lock()
		d := p.downs[m.Track]
		p.mu.Unlock()
		if d == nil {
			p.send(errorEvent("not_found"))
			return true
		}
		d.setWish(qualityLayers[m.Quality])
		d.t.updateLayers() // pause.go
	case TypeRaiseHand:
		r.raiseHand(p, true)
	case TypeLowerHand:
		r.raiseHand(p, false)
	case TypeGiveFloor, TypeTakeFloor, TypeMute, TypeKick, TypeLock, TypeEnd,
		TypeAdmit, TypeDeny, TypeSetWaitingRoom, TypeAttendance:
		if !p.isModerator() {
			p.send(errorEvent("forbidden"))
			return true
		}
		r.moderate(p, m)
	}
	return true
}

func (p *Participant) allowed(source string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return allowedBy(p.perm, source)
}

func allowedBy(perm Permissions, source string) bool {
	switch source {
	case SourceMicrophone:
		return perm.Audio
	case SourceCamera:
		return perm.Video
	case SourceScreen:
		return perm.Screen
	}
	return false
}

func kindOf(source string) webrtc.RTPCodecType {
	if source == SourceMicrophone {
		return webrtc.RTPCodecTypeAudio
	}
	return webrtc.RTPCodecTypeVideo
}

// publish makes a receiving slot (a recvonly transceiver) for each source the
// participant may publish now, and offers them. All or nothing: one source
// not allowed refuses the request.
func (p *Participant) publish(sources []string) {
	p.mu.Lock()
	for _, s := range sources {
		if !allowedBy(p.perm, s) {
			p.mu.Unlock()
			p.send(errorEvent("track_refused"))
			return
		}
	}
	have := map[string]int{}
	for _, s := range p.slots {
		have[s]++
	}
	p.mu.Unlock()
	added := false
	for _, s := range sources {
		if have[s] >= maxSlotsPerSrc {
			continue // already has a slot for it: the client reuses it
		}
		have[s]++
		tr, err := p.pc.AddTransceiverFromKind(kindOf(s), webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			p.send(errorEvent("internal"))
			return
		}
		p.mu.Lock()
		p.slots[tr] = s
		p.mu.Unlock()
		added = true
	}
	if added {
		p.requestNegotiation()
	}
}

// onTrack checks a received track against the slot it arrived on and the
// participant's permissions now (grants are enforced when media arrives, not
// only at signaling); a refused track is stopped and never forwarded.
func (p *Participant) onTrack(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	var source string
	p.mu.Lock()
	for tr, s := range p.slots {
		if tr.Receiver() == recv {
			source = s
		}
	}
	ok := source != "" && allowedBy(p.perm, source) && kindOf(source) == remote.Kind()
	p.mu.Unlock()
	if !ok {
		_ = recv.Stop()
		p.send(errorEvent("track_refused"))
		return
	}
	if rid := remote.RID(); rid != "" {
		p.onLayer(recv, source, remote)
		return
	}
	var levelID uint8
	if source == SourceMicrophone {
		levelID = audioLevelID(recv)
	}
	p.room.publishTrack(p, source, remote, levelID)
}

// onLayer adds one simulcast layer: the first one received makes the track
// and announces it; the others join it. A RID the server did not offer is
// not forwarded.
func (p *Participant) onLayer(recv *webrtc.RTPReceiver, source string, remote *webrtc.TrackRemote) {
	layer, ok := layerOfRID(remote.RID())
	if !ok {
		return
	}
	p.mu.Lock()
	t := p.simTracks[recv]
	created := t == nil
	if created {
		t = p.room.newSimulcastTrack(p, source, remote)
		p.simTracks[recv] = t
	}
	p.mu.Unlock()
	t.addLayer(layer, remote, func() { p.room.unpublish(t) })
	if created && p.room.addTrack(t) {
		p.room.subscribeOthers(t)
	}
}

// dropSlots forgets the slots of sources no longer allowed, so that a new
// floor needs a new publish request.
func (p *Participant) dropSlots() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for tr, s := range p.slots {
		if !allowedBy(p.perm, s) {
			delete(p.slots, tr)
			delete(p.simTracks, tr.Receiver())
		}
	}
}

// forgetSources forgets the slots of sources, so that publishing them again
// makes new slots (a new track, announced again to the others).
func (p *Participant) forgetSources(sources ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for tr, s := range p.slots {
		if slices.Contains(sources, s) {
			delete(p.slots, tr)
			delete(p.simTracks, tr.Receiver())
		}
	}
}

// unpublish stops forwarding the participant's tracks of sources and
// forgets their slots.
func (p *Participant) unpublish(sources []string) {
	p.forgetSources(sources...)
	p.room.unpublishWhere(p, func(t *publishedTrack) bool { return slices.Contains(sources, t.info.Source) })
}

// subscribe adds t to this participant's PeerConnection. Idempotent: the
// join and publish paths may both call it for the same pair.
func (p *Participant) subscribe(t *publishedTrack, announce bool) {
	id := t.info.ID
	p.mu.Lock()
	if _, ok := p.subs[id]; ok || p.closed || t.stopped.Load() || t.owner == p {
		p.mu.Unlock()
		return
	}
	p.subs[id] = nil
	p.mu.Unlock()

	// A simulcast track gets a down track of its own (simulcast.go);
	// any other shares t.local with every subscriber.
	var local webrtc.TrackLocal = t.local
	var d *downTrack
	if t.simulcast {
		dl, err := webrtc.NewTrackLocalStaticRTP(t.codec, id, t.info.User)
		if err != nil {
			p.mu.Lock()
			delete(p.subs, id)
			p.mu.Unlock()
			return
		}
		d = newDownTrack(t, dl)
		local = dl
	}
	tr, err := p.pc.AddTransceiverFromTrack(local, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err == nil && d != nil {
		// Added before it is registered below: close, which removes the
		// registered ones, then cannot miss it.
		t.addDown(d)
	}
	p.mu.Lock()
	if err != nil {
		delete(p.subs, id)
		p.mu.Unlock()
		return
	}
	sender := tr.Sender()
	if _, still := p.subs[id]; !still || p.closed || t.stopped.Load() {
		delete(p.subs, id)
		p.mu.Unlock()
		if d != nil {
			t.removeDown(d)
		}
		_ = p.pc.RemoveTrack(sender)
		return
	}
	p.subs[id] = sender
	if d != nil {
		p.downs[id] = d
	}
	p.mu.Unlock()
	t.subs.Add(1)

	onTWCC := func() { p.twcc.Store(true) }
	if d != nil {
		onLoss := func(f uint8) {
			if d.onLoss(f) {
				t.updateLayers()
			}
		}
		go readRTCPFeedback(sender, d.requestKeyframe, onLoss, onTWCC)
	} else {
		go readRTCPFeedback(sender, t.requestKeyframe, nil, onTWCC)
	}
	if announce {
		info := t.info
		p.send(Event{Type: TypeTrackAdded, Track: &info})
	}
	p.requestNegotiation()
	t.requestKeyframe()
}

// unsubscribe removes t; forwarding to us has already stopped (t.stopped or
// the track's owner left).
func (p *Participant) unsubscribe(t *publishedTrack) {
	p.mu.Lock()
	sender, ok := p.subs[t.info.ID]
	delete(p.subs, t.info.ID)
	d := p.downs[t.info.ID]
	delete(p.downs, t.info.ID)
	p.mu.Unlock()
	if d != nil {
		t.removeDown(d)
	}
	if !ok {
		return
	}
	if sender != nil {
		t.subs.Add(-1)
		if err := p.pc.RemoveTrack(sender); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
			p.room.m.log.Debug("sfu: remove track", "err", err)
		}
	}
	p.send(Event{Type: TypeTrackRemoved, Track: &TrackInfo{ID: t.info.ID, User: t.info.User, Source: t.info.Source, Kind: t.info.Kind}})
	p.requestNegotiation()
}

func (p *Participant) subscribedTracks() []*publishedTrack {
	p.mu.Lock()
	ids := make([]string, 0, len(p.subs))
	for id := range p.subs {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	return p.room.tracksByID(ids)
}

// readRTCP reads the subscriber's RTCP for one sender: this runs the
// interceptors (NACK responder, reports, congestion control) and relays
// keyframe requests to the publisher; onLoss, when set, gets each receiver
// report's fraction lost (the simulcast loss cap). It ends when the sender
// stops or the PC closes.
func readRTCP(s *webrtc.RTPSender, keyframe func(), onLoss func(uint8)) {
	readRTCPFeedback(s, keyframe, onLoss, nil)
}

// readRTCPFeedback is readRTCP that also calls onTWCC, when set, on each
// transport-cc feedback (the bandwidth estimator has already read it).
func readRTCPFeedback(s *webrtc.RTPSender, keyframe func(), onLoss func(uint8), onTWCC func()) {
	var ssrc webrtc.SSRC
	if enc := s.GetParameters().Encodings; len(enc) > 0 {
		ssrc = enc[0].SSRC
	}
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				keyframe()
			case *rtcp.TransportLayerCC:
				if onTWCC != nil {
					onTWCC()
				}
			case *rtcp.ReceiverReport:
				if onLoss != nil {
					for _, r := range pkt.Reports {
						if webrtc.SSRC(r.SSRC) == ssrc { // a compound RR reports on every stream
							onLoss(r.FractionLost)
						}
					}
				}
			}
		}
	}
}
