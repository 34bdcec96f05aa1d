package chat

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawWS is a bare WebSocket client over its own TCP connection: it reads
// the server's frames as they are on the wire (RFC 6455 §5.2), so that a
// benchmark measures the server rather than a client library, and a test
// can see how frames are laid out or choose not to read at all.
type rawWS struct {
	conn net.Conn
	br   *bufio.Reader
}

// dialRaw opens a WebSocket to url ("ws://host/…") as user. readBuf, when
// positive, is the socket's receive buffer.
func dialRaw(t testing.TB, url string, user int64, readBuf int) *rawWS {
	t.Helper()
	hostPath := strings.TrimPrefix(url, "ws://")
	host, path, _ := strings.Cut(hostPath, "/")
	conn, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if readBuf > 0 {
		conn.(*net.TCPConn).SetReadBuffer(readBuf)
	}
	// The key is any 16 bytes in base64 (§4.1); the answer is not checked.
	fmt.Fprintf(conn, "GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-User: %d\r\n\r\n", path, host, user)
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		conn.Close()
		t.Fatalf("handshake: %s", resp.Status)
	}
	return &rawWS{conn: conn, br: br}
}

// send writes one text frame.
func (w *rawWS) send(s string) error { return w.sendFrame(0x1, []byte(s)) }

// sendFrame writes one final frame of opcode, masked with a zero key as a
// client must mask (§5.3; any key will do, and zero leaves the payload as
// it is).
func (w *rawWS) sendFrame(opcode byte, p []byte) error {
	hdr := []byte{0x80 | opcode, 0x80}
	switch n := len(p); {
	case n < 126:
		hdr[1] |= byte(n)
	case n < 1<<16:
		hdr[1] |= 126
		hdr = binary.BigEndian.AppendUint16(hdr, uint16(n))
	default:
		hdr[1] |= 127
		hdr = binary.BigEndian.AppendUint64(hdr, uint64(n))
	}
	hdr = append(hdr, 0, 0, 0, 0)
	_, err := w.conn.Write(append(hdr, p...))
	return err
}

// rawFrame is one server frame: FIN, opcode (RSV bits are always clear:
// no extension is negotiated) and payload.
type rawFrame struct {
	fin     bool
	rsv     byte
	opcode  byte
	payload []byte
}

// Opcodes (§5.2).
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xa
)

// next reads one frame; buf is reused for its payload when large enough.
func (w *rawWS) next(buf []byte) (rawFrame, error) {
	// The header is peeked at, not read into an array: an array handed to
	// io.ReadFull escapes, an allocation per frame in a benchmark.
	h, err := w.br.Peek(2)
	if err != nil {
		return rawFrame{}, err
	}
	fin, rsv, opcode, masked, n := h[0]&0x80 != 0, h[0]&0x70, h[0]&0x0f, h[1]&0x80 != 0, uint64(h[1]&0x7f)
	w.br.Discard(2)
	if masked {
		return rawFrame{}, fmt.Errorf("server frame masked")
	}
	switch n {
	case 126:
		b, err := w.br.Peek(2)
		if err != nil {
			return rawFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b))
		w.br.Discard(2)
	case 127:
		b, err := w.br.Peek(8)
		if err != nil {
			return rawFrame{}, err
		}
		n = binary.BigEndian.Uint64(b)
		w.br.Discard(8)
	}
	if n > 1<<20 {
		return rawFrame{}, fmt.Errorf("frame of %d bytes", n)
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(w.br, buf); err != nil {
		return rawFrame{}, err
	}
	return rawFrame{fin: fin, rsv: rsv, opcode: opcode, payload: buf}, nil
}

func (w *rawWS) close() { w.conn.Close() }

// rawSubscribe opens a bare connection as user, subscribes it to conv after
// seq after, and returns it once the subscription is live, with the frames
// read before "subscribed". Live: a ping request is answered once the
// reader is done with the subscription, including the live frames held
// during its replay.
func rawSubscribe(t testing.TB, url string, user, conv, after int64, readBuf int) (*rawWS, []rawFrame) {
	t.Helper()
	w := dialRaw(t, url+"/", user, readBuf)
	t.Cleanup(w.close)
	if err := w.send(fmt.Sprintf(`{"v":1,"type":"subscribe","id":1,"data":{"conversations":[{"id":%d,"after_seq":%d}]}}`, conv, after)); err != nil {
		t.Fatal(err)
	}
	var before []rawFrame
	for {
		w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		f, err := w.next(nil)
		if err != nil {
			t.Fatalf("before subscribed: %v", err)
		}
		if bytes.Contains(f.payload, []byte(`"type":"subscribed"`)) {
			break
		}
		before = append(before, f)
	}
	if err := w.send(`{"v":1,"type":"ping","id":2}`); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := w.next(nil)
		if err != nil {
			t.Fatalf("before pong: %v", err)
		}
		if bytes.Contains(f.payload, []byte(`"type":"pong"`)) {
			w.conn.SetReadDeadline(time.Time{})
			return w, before
		}
	}
}
