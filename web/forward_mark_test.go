package web

import (
	"net/http/httptest"
	"testing"
	"time"

	"preau/sfu"
)

// TestForwarded: only a mark made with the cluster's key, for this method
// and path, this minute or the one before, makes a request "forwarded"; a
// browser's own header, another node key's mark, another path's or an old
// one does not.
func TestForwarded(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef-forward-test")
	s := &Server{cfg: Config{Live: &Live{Signer: sfu.Signer{Key: key}}}}
	other := &Server{cfg: Config{Live: &Live{Signer: sfu.Signer{Key: []byte("another cluster's key, 32 bytes or more")}}}}
	const path = "/api/v1/live/rooms/cours-3-1/grant"
	now := time.Now()
	for _, tc := range []struct {
		name string
		mark string
		want bool
	}{
		{"none", "", false},
		{"a browser's own", "1", false},
		{"this minute", s.forwardMark("POST", path, now), true},
		{"the minute before", s.forwardMark("POST", path, now.Add(-time.Minute)), true},
		{"older", s.forwardMark("POST", path, now.Add(-3*time.Minute)), false},
		{"another path", s.forwardMark("POST", "/api/v1/live/lessons", now), false},
		{"another method", s.forwardMark("GET", path, now), false},
		{"another cluster", other.forwardMark("POST", path, now), false},
	} {
		r := httptest.NewRequest("POST", path, nil)
		if tc.mark != "" {
			r.Header.Set(placedHeader, tc.mark)
		}
		if got := s.forwarded(r); got != tc.want {
			t.Errorf("%s: forwarded %v, want %v", tc.name, got, tc.want)
		}
	}
	if (&Server{}).forwarded(httptest.NewRequest("POST", path, nil)) {
		t.Error("a server without live lessons takes a request for forwarded")
	}
}
