package sfu

import "testing"

// TestAddRIDExtmaps: a camera slot offered after the first negotiation gets
// the RID header extensions with free ids (Firefox, see ridext.go); an
// m-section that has them, or is not a new camera slot, is left alone.
func TestAddRIDExtmaps(t *testing.T) {
	offer := "v=0\r\na=group:BUNDLE 0 1\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
		"a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=mid:0\r\na=sendonly\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
		"a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=mid:1\r\na=recvonly\r\n"
	want := "v=0\r\na=group:BUNDLE 0 1\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
		"a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=mid:0\r\na=sendonly\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=extmap:4 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n" +
		"a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=mid:1\r\n" +
		"a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n" +
		"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\na=recvonly\r\n"
	if got := addRIDExtmaps(offer, []string{"1"}); got != want {
		t.Fatalf("addRIDExtmaps:\n%q\nwant\n%q", got, want)
	}
	if addRIDExtmaps(offer, nil) != offer || addRIDExtmaps(offer, []string{"7"}) != offer {
		t.Fatal("changed an offer without new camera slots")
	}
	// Already there (Chromium's answers keep them): unchanged; one missing
	// reuses nothing and takes a free id.
	if addRIDExtmaps(want, []string{"1"}) != want {
		t.Fatal("added extensions an m-section already has")
	}
	partial := "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\n" +
		"a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\na=mid:3\r\n"
	if got, want := addRIDExtmaps(partial, []string{"3"}), partial+"a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"; got != want {
		t.Fatalf("partial:\n%q\nwant\n%q", got, want)
	}
}
