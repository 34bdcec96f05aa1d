package sfu

import (
	"slices"
	"strconv"
	"strings"
)

// The RID header extensions' URIs (RFC 8852 §3.1, §3.2).
const (
	ridURI         = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
	repairedRIDURI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
)

// addRIDExtmaps adds the rtp-stream-id and repaired-rtp-stream-id header
// extensions (RFC 8852) to the m-sections of mids that lack them, with ids
// free in the whole offer (a BUNDLE group shares one id space, RFC 8285 §6).
//
// Why: Firefox answers an m-section with these extensions only when it asks
// for simulcast, and pion, once a PeerConnection has negotiated, offers only
// the extensions of the answers so far. A camera slot offered to Firefox
// after the first negotiation would lack them, and Firefox would then send
// its layers without the RIDs pion needs to route them ("stream id RTP
// Extensions required for Simulcast"). pion reads them back from the answer
// (its MediaEngine updates header extensions on renegotiation). Chromium
// answers every video m-section with them, so its offers already have them.
func addRIDExtmaps(offer string, mids []string) string {
	if len(mids) == 0 {
		return offer
	}
	uris := []string{ridURI, repairedRIDURI}
	lines := slices.Collect(strings.SplitAfterSeq(offer, "\r\n"))
	used := map[int]bool{}
	ids := map[string]int{} // an extension keeps one id in the whole offer
	// missing[i]: the URIs to add after line i (an a=mid of mids).
	missing := map[int][]string{}
	for start := 0; start < len(lines); {
		end := start + 1
		for end < len(lines) && !strings.HasPrefix(lines[end], "m=") {
			end++
		}
		midLine, have := -1, map[string]bool{}
		for i := start; i < end; i++ {
			l := strings.TrimSuffix(lines[i], "\r\n")
			if rest, ok := strings.CutPrefix(l, "a=extmap:"); ok {
				idDir, uri, _ := strings.Cut(rest, " ")
				idStr, _, _ := strings.Cut(idDir, "/")
				uri, _, _ = strings.Cut(uri, " ")
				if id, err := strconv.Atoi(idStr); err == nil {
					used[id] = true
					ids[uri] = id
				}
				have[uri] = true
			}
			if mid, ok := strings.CutPrefix(l, "a=mid:"); ok && slices.Contains(mids, mid) {
				midLine = i
			}
		}
		if midLine >= 0 && strings.HasPrefix(lines[start], "m=video") {
			for _, u := range uris {
				if !have[u] {
					missing[midLine] = append(missing[midLine], u)
				}
			}
		}
		start = end
	}
	if len(missing) == 0 {
		return offer
	}
	next := 1
	freeID := func() int {
		for ; next <= 14; next++ { // one-byte header ids
			if !used[next] {
				used[next] = true
				return next
			}
		}
		return 0
	}
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		for _, u := range missing[i] {
			if ids[u] == 0 {
				ids[u] = freeID()
			}
			if ids[u] != 0 {
				b.WriteString("a=extmap:" + strconv.Itoa(ids[u]) + " " + u + "\r\n")
			}
		}
	}
	return b.String()
}
