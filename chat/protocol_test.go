package chat

import (
	"strings"
	"testing"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

func TestDecodeRequest(t *testing.T) {
	for _, tc := range []struct {
		in   string
		ok   bool
		want string
	}{
		{`{"v":1,"type":"ping"}`, true, "ping"},
		{`{"v":1,"type":"ping","id":3,"data":null}`, true, "ping"},
		{`{"v":1,"type":"send","id":1,"data":{"conversation":4,"client_id":"a","body":"Bonjour"}}`, true, "send"},
		{`{"v":1,"type":"subscribe","data":{"conversations":[{"id":4,"after_seq":10},{"id":5,"after_seq":0}]}}`, true, "subscribe"},
		{`{"v":1,"type":"subscribe","data":{"conversations":[{"id":4,"after_seq":10,"notify":true}]}}`, true, "subscribe"},
		{`{"v":1,"type":"subscribe","data":{"conversations":[{"id":4,"after_seq":10,"notify":1}]}}`, false, "notify not a boolean"},
		{`{"v":1,"type":"read","data":{"conversation":4,"seq":2}}`, true, "read"},
		{`{"v":1,"type":"typing","data":{"conversation":4}}`, true, "typing"},
		{`{"v":1,"type":"presence","data":{"conversation":4}}`, true, "presence"},
		{`{"v":1,"type":"status","data":{"state":"away"}}`, true, "status"},
		{`{"v":1,"type":"status","data":{"state":"online"}}`, true, "status"},
		{`{"v":1,"type":"status","data":{"state":"invisible"}}`, false, "unknown state"},
		{`{"v":1,"type":"presence","data":{"conversation":0}}`, false, "presence of conversation 0"},
		{`{"v":1,"type":"status","data":{"state":"away","user":3}}`, false, "status naming a user"},
		{`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"x","sender":9}}`, false, "unknown field"},
		{`{"v":1,"type":"ping","extra":1}`, false, "unknown envelope field"},
		{`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"x","reply_to":3,"attachments":[1,2,3,4,5]}}`, true, "send"},
		{`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"x","attachments":[1,2,3,4,5,6]}}`, false, "six attachments"},
		{`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"x","attachments":[1,1]}}`, false, "an attachment twice"},
		{`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"x","attachments":[0]}}`, false, "attachment 0"},
		{`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"x","reply_to":-1}}`, false, "negative reply_to"},
		{`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"x","attachments":[{"id":1}]}}`, false, "attachment object"},
		{`{"v":1,"type":"ping","type":"send"}`, false, "duplicate key"},
		{`{"v":1,"type":"read","data":{"conversation":4,"conversation":5,"seq":1}}`, false, "duplicate key in data"},
		{`{"v":1,"Type":"ping"}`, false, "case matters"},
		{`{"v":2,"type":"ping"}`, false, "version"},
		{`{"type":"ping"}`, false, "no version"},
		{`{"v":1,"type":"dance"}`, false, "type"},
		{`{"v":1,"type":"send"}`, false, "no data"},
		{`{"v":1,"type":"ping","data":{}}`, false, "ping with data"},
		{`{"v":1,"type":"send","data":{"conversation":0,"client_id":"a","body":"x"}}`, false, "conversation 0"},
		{`{"v":1,"type":"subscribe","data":{"conversations":[]}}`, false, "empty subscribe"},
		{`{"v":1,"type":"subscribe","data":{"conversations":[{"id":4,"after_seq":-1}]}}`, false, "negative after_seq"},
		{`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"\xff"}}`, false, "invalid UTF-8"},
		{`{"v":1,"type":"ping"} {"v":1,"type":"ping"}`, false, "two values"},
		{`[1]`, false, "array"},
		{``, false, "empty"},
	} {
		r, err := decodeRequest([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%s: %q: err %v", tc.want, tc.in, err)
		}
		if tc.ok && r.Type != tc.want {
			t.Errorf("%q: type %q", tc.in, r.Type)
		}
	}
	many := `{"v":1,"type":"subscribe","data":{"conversations":[` + strings.Repeat(`{"id":1,"after_seq":0},`, MaxSubscribe) + `{"id":1,"after_seq":0}]}}`
	if _, err := decodeRequest([]byte(many)); err == nil {
		t.Error("subscribe to more than MaxSubscribe accepted")
	}
}

// FuzzDecodeRequest: no panic; whatever is accepted is one valid JSON value
// without duplicate names (checked by jsontext, independently), has a known
// type and passes the field checks, and survives a round trip.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"type":"ping"}`,
		`{"v":1,"type":"send","id":1,"data":{"conversation":4,"client_id":"a","body":"Bonjour"}}`,
		`{"v":1,"type":"subscribe","data":{"conversations":[{"id":4,"after_seq":10}]}}`,
		`{"v":1,"type":"read","data":{"conversation":4,"seq":2}}`,
		`{"v":1,"type":"typing","data":{"conversation":4}}`,
		`{"v":1,"type":"presence","data":{"conversation":4}}`,
		`{"v":1,"type":"status","data":{"state":"away"}}`,
		`{"v":1,"type":"ping","type":"send"}`,
		`{"v":1,"type":"send","data":{"conversation":4,"client_id":"a","body":"x","sender":9}}`,
		`{"v":1,"type":"send","data":{"conversation":4,"\u0063lient_id":"a","client_id":"b","body":"x"}}`,
		`{"v":1e0,"type":"ping"}`, `{"v":1,"type":"ping","data":null}`, `{`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRequest(b)
		if err != nil {
			return
		}
		dec := jsontext.NewDecoder(strings.NewReader(string(b)))
		if _, err := dec.ReadValue(); err != nil {
			t.Fatalf("accepted %q, which jsontext refuses: %v", b, err)
		}
		if err := r.check(); err != nil {
			t.Fatalf("accepted %q failing checks: %v", b, err)
		}
		var data any
		switch r.Type {
		case TypePing:
		case TypeSend:
			data = r.Send
		case TypeSubscribe:
			data = r.Subscribe
		case TypeRead:
			data = r.Read
		case TypeTyping:
			data = r.Typing
		case TypePresence:
			data = r.Presence
		case TypeStatus:
			data = r.Status
		default:
			t.Fatalf("accepted unknown type %q", r.Type)
		}
		again, err := json.Marshal(map[string]any{"v": 1, "type": r.Type, "id": r.ID, "data": data})
		if err != nil {
			t.Fatal(err)
		}
		r2, err := decodeRequest(again)
		if err != nil || r2.Type != r.Type || r2.ID != r.ID {
			t.Fatalf("round trip of %q via %s: %+v %v", b, again, r2, err)
		}
	})
}
