package sfu

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{`{"v":1,"type":"join","room":"r","grant":"g"}`, true},
		{`{"v":1,"type":"join","room":"r"}`, false},
		{`{"v":1,"type":"answer","sdp":"v=0"}`, true},
		{`{"v":1,"type":"answer","sdp":"v=0","user":"x"}`, false}, // field of another type
		{`{"v":1,"type":"candidate","candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"u"}}`, true},
		{`{"v":1,"type":"candidate","candidate":{"candidate":"c","extra":1}}`, false},
		{`{"v":1,"type":"publish","sources":["camera","microphone"]}`, true},
		{`{"v":1,"type":"publish","sources":["speaker"]}`, false},
		{`{"v":1,"type":"publish","sources":[]}`, false},
		{`{"v":1,"type":"give_floor","user":"u","video":true}`, true},
		{`{"v":1,"type":"take_floor","user":"u"}`, true},
		{`{"v":1,"type":"take_floor","user":"u","video":true}`, false},
		{`{"v":1,"type":"mute","user":"u"}`, true},
		{`{"v":1,"type":"kick"}`, false},
		{`{"v":1,"type":"lock","locked":false}`, true},
		{`{"v":1,"type":"lock"}`, false},
		{`{"v":1,"type":"raise_hand"}`, true},
		{`{"v":1,"type":"lower_hand"}`, true},
		{`{"v":1,"type":"end"}`, true},
		{`{"v":1,"type":"ping"}`, true},
		{`{"v":1,"type":"admit","user":"u"}`, true},
		{`{"v":1,"type":"admit"}`, false},
		{`{"v":1,"type":"deny","user":"u","video":true}`, false},
		{`{"v":1,"type":"deny","user":"u"}`, true},
		{`{"v":1,"type":"waiting_room","waiting_room":true}`, true},
		{`{"v":1,"type":"waiting_room"}`, false},
		{`{"v":1,"type":"waiting_room","locked":true}`, false},
		{`{"v":1,"type":"attendance"}`, true},
		{`{"v":1,"type":"attendance","user":"u"}`, false},
		{`{"v":1,"type":"unpublish","sources":["screen"]}`, true},
		{`{"v":1,"type":"unpublish"}`, false},
		{`{"v":1,"type":"ice_restart"}`, true},
		{`{"v":1,"type":"ice_restart","sdp":"v=0"}`, false},
		{`{"v":1,"type":"layer","track":"t1","quality":"low"}`, true},
		{`{"v":1,"type":"layer","track":"t1","quality":"high"}`, true},
		{`{"v":1,"type":"layer","track":"t1","quality":"best"}`, false},
		{`{"v":1,"type":"layer","quality":"medium"}`, false},
		{`{"v":1,"type":"layer","track":"t1","quality":"low","user":"u"}`, false},
		{`{"v":1,"type":"ping","track":"t1"}`, false},
		{`{"v":1,"type":"unpublish","sources":["speaker"]}`, false},
		{`{"v":2,"type":"ping"}`, false},
		{`{"type":"ping"}`, false},
		{`{"v":1,"type":"offer","sdp":"v=0"}`, false}, // the server makes the offers
		{`{"v":1,"type":"dance"}`, false},
		{`{"v":1,"type":"ping","type":"end"}`, false}, // duplicate key
		{`{"v":1,"type":"ping","Type":"end"}`, false}, // names are case-sensitive
		{`{"v":1,"type":"ping","from":"prof"}`, false},
		{`{"v":1,"type":"ping"} {}`, false},
		{`{"v":1,"type":"ping"`, false},
		{"{\"v\":1,\"type\":\"kick\",\"user\":\"\xff\"}", false}, // invalid UTF-8
		{`[]`, false},
		{`null`, false},
		{`{"v":1,"type":"ping","pad":"` + strings.Repeat("x", MaxFrame) + `"}`, false},
	} {
		_, err := Decode([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("Decode(%.60s) = %v, want ok=%v", tc.in, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%.60s): %v is not ErrMalformed", tc.in, err)
		}
	}
}

// FuzzDecode: the decoder never panics, and what it accepts re-encodes and
// decodes to the same message.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"join","room":"r","grant":"g1.a.b"}`,
		`{"v":1,"type":"candidate","candidate":{"candidate":"c","sdpMid":"0","sdpMLineIndex":0}}`,
		`{"v":1,"type":"publish","sources":["screen"]}`,
		`{"v":1,"type":"lock","locked":true}`,
		`{"v":1,"type":"give_floor","user":"u","video":true}`,
		`{"v":1,"type":"ping","type":"ping"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			return
		}
		again, err := Decode(mustMarshal(t, m))
		if err != nil {
			t.Fatalf("accepted %q but not its re-encoding: %v", b, err)
		}
		if again.Type != m.Type || again.User != m.User || again.SDP != m.SDP || len(again.Sources) != len(m.Sources) {
			t.Fatalf("round trip changed %+v into %+v", m, again)
		}
	})
}
