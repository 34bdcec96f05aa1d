// Package sfu is Préau's selective forwarding unit: live lessons and meetings
// on pion/webrtc v4. It forwards RTP, never transcodes.
//
// # Pieces
//
//   - Grant and Signer: a short-lived (≤ 10 min) permission to join one room,
//     signed with HMAC-SHA256 by the server and checked at join; what it
//     allows to publish is checked again when media arrives.
//   - Manager: the rooms of this node, the shared WebRTC API (one media
//     engine, the interceptors, one UDP port for every peer, one TCP port for
//     ICE over TCP, an optional in-process TURN relay: ice.go, turn.go) and
//     the signaling WebSocket handler. Rooms are created by the server only
//     (CreateRoom); a join for an unknown room is refused.
//   - Room: participants, published tracks, the hand queue, lock, the
//     waiting room (admit, deny), the roll call (attendance.go: join and
//     leave times merged per user, handed to OnEnd when the room ends), and
//     the moderator's commands (give_floor, take_floor, mute, kick, lock,
//     end).
//   - CheckHandler (check.go): the device check page's WebSocket, a
//     PeerConnection with only a data channel that reports which candidate
//     pair (UDP or TCP) reached the server.
//   - Participant: one signaling socket (one reader, one writer goroutine,
//     a bounded queue) and one PeerConnection.
//
// # Negotiation: the server always offers
//
// The server is the only offerer. A client that wants to publish sends
// "publish" with the sources (microphone, camera, screen); if its current
// permissions allow them, the server adds a recvonly transceiver per source
// and sends an offer whose "slots" map each new mid to its source; the client
// attaches its track to that m-line (sendonly) and answers. Subscriptions are
// sendonly transceivers added by the server in the same way. One offer is in
// flight at a time per participant (negotiateLoop), so there is no glare and
// no rollback. The server sends its candidates inside the SDP (host
// candidates on the UDP mux are known at once); the client may trickle its
// own. A data channel makes the first offer, so ICE and DTLS are up before any
// track exists.
//
// # Forwarding path
//
// Each received track has one TrackLocalStaticRTP shared by all subscribers
// (one binding per PeerConnection): forward reads a packet once and writes it
// to every binding, which rewrites SSRC and payload type. No lock is held on
// this path; stopping a track is an atomic flag checked per packet, so
// take_floor and mute stop forwarding before any renegotiation. A subscriber's
// RTCP is read per sender to run the interceptors (NACK responder, reports,
// TWCC) and to relay PLI/FIR to the publisher, rate-limited to one PLI per
// 500 ms per track; a request inside the interval is deferred, not dropped.
//
// A simulcast camera (simulcast.go) is the exception: up to three layers
// (RIDs q, h, f), and a down track per subscriber that forwards one layer,
// switches on a keyframe of the layer the subscriber asked for ("layer") or
// its losses allow, and rewrites sequence numbers and timestamps so the
// subscriber sees one continuous stream.
//
// # Locks
//
// Room.mu guards membership, tracks, hands and the lock flag; Participant.mu
// guards permissions, slots and subscriptions. Neither is held during socket
// writes, pion calls that do I/O, or PeerConnection.Close: methods copy what
// they need, unlock, then act. Events sent to many are encoded once.
//
// See docs/sfu.md for the signaling messages and what comes next.
package sfu
