package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// A request one node forwards to another (a lesson's start, a meeting's
// grant, a room's signaling socket or "end": live_placement.go,
// meetings_placement.go) carries placedHeader, which tells the receiver to
// serve it itself rather than look for the room's node again. Its value is
// an HMAC, under the nodes' shared grant key (--sfu-key), of the method, the
// path and the minute: a browser cannot pass its own request off as
// forwarded to choose where a room opens. Checks of who may do what are the
// same either way.

// ForwardedHeader names the mark; ForwardMark is its value for a request
// forwarded at now by a node whose grant key is key. (A tool that must
// reach one node of a cluster in particular may send it too.)
const ForwardedHeader = placedHeader

func ForwardMark(key []byte, method, path string, now time.Time) string {
	return forwardMAC(key, method, path, now.Unix()/60)
}

func (s *Server) forwardMark(method, path string, now time.Time) string {
	return ForwardMark(s.cfg.Live.Signer.Key, method, path, now)
}

func forwardMAC(key []byte, method, path string, minute int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("preau-forward-v1\x00" + method + " " + path + "\x00" + strconv.FormatInt(minute, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// forwarded reports whether r was forwarded by a node of this cluster in
// the last minute or two (a mark of this minute or the one before).
func (s *Server) forwarded(r *http.Request) bool {
	got := r.Header.Get(placedHeader)
	if got == "" || s.cfg.Live == nil {
		return false
	}
	minute := time.Now().Unix() / 60
	for _, m := range []int64{minute, minute - 1} {
		if hmac.Equal([]byte(got), []byte(forwardMAC(s.cfg.Live.Signer.Key, r.Method, r.URL.Path, m))) {
			return true
		}
	}
	return false
}
