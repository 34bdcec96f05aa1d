package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"preau/db"
	"preau/ent/directory"
	"preau/identity"
	"preau/internal/testsvc"
)

// redisURL returns the test Redis (PREAU_TEST_REDIS_URL, default database
// 15 on 127.0.0.1), or skips (fails under PREAU_REQUIRE_SERVICES=1).
func redisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("PREAU_TEST_REDIS_URL")
	if u == "" {
		u = "redis://127.0.0.1:6379/15"
	}
	opts, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("PREAU_TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		testsvc.Missing(t, "Redis", fmt.Sprintf("%s: %v", u, err))
	}
	return u
}

// checkLeaks fails the test if goroutines started during it are still
// running once its cleanups have run. Call it first, so that its cleanup
// runs last.
func checkLeaks(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(15 * time.Second)
		for runtime.NumGoroutine() > base {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("goroutine leak: %d running, %d before\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// fixture is a school with one class (two pupils and a teacher) and a pupil
// of another class.
type fixture struct {
	structure, class, otherClass int64
	pupilA, pupilB, teacher      int64
	outsider                     int64
}

func newFixture(t testing.TB, d *db.DB) fixture {
	t.Helper()
	ctx := context.Background()
	var f fixture
	err := d.InTx(ctx, func(tx *db.Tx) (err error) {
		if f.structure, err = directory.CreateStructure(ctx, tx, directory.Structure{UAI: "0450003C", Name: "Collège A", Kind: directory.College}); err != nil {
			return err
		}
		y, err := directory.EnsureYear(ctx, tx, directory.YearFor("2026-2027", true))
		if err != nil {
			return err
		}
		if f.class, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: f.structure, YearID: y, Name: "5e B"}); err != nil {
			return err
		}
		if f.otherClass, err = directory.EnsureClass(ctx, tx, directory.Class{StructureID: f.structure, YearID: y, Name: "4e A"}); err != nil {
			return err
		}
		mk := func(first, last string) int64 {
			p, e := directory.CreatePerson(ctx, tx, directory.Person{FirstName: first, LastName: last})
			if e != nil && err == nil {
				err = e
			}
			return p.ID
		}
		f.pupilA, f.pupilB, f.teacher, f.outsider = mk("Inès", "Haddad"), mk("Léo", "Martin"), mk("Paul", "Roux"), mk("Zoé", "Petit")
		if err != nil {
			return err
		}
		for _, p := range []int64{f.pupilA, f.pupilB} {
			if err := directory.Transfer(ctx, tx, p, f.class); err != nil {
				return err
			}
		}
		if err := directory.Transfer(ctx, tx, f.outsider, f.otherClass); err != nil {
			return err
		}
		sub, err := directory.EnsureSubject(ctx, tx, "SVT", "Sciences de la vie et de la Terre")
		if err != nil {
			return err
		}
		if err := directory.AddRole(ctx, tx, f.teacher, f.structure, identity.Teacher, ""); err != nil {
			return err
		}
		return directory.AddTeaching(ctx, tx, f.teacher, f.class, sub)
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// testAuth trusts an X-User header: the tests' stand-in for the session
// cookie.
func testAuth(r *http.Request) (*identity.Principal, error) {
	id, err := strconv.ParseInt(r.Header.Get("X-User"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errors.New("no user")
	}
	return &identity.Principal{UserID: id}, nil
}

// startHub serves a hub over httptest; wrap, when set, wraps the listener.
func startHub(t *testing.T, store *Store, b Broker, cfg Config, wrap func(net.Listener) net.Listener) (*Hub, string) {
	t.Helper()
	if cfg.Namespace == "" {
		cfg.Namespace = uniqueTopic("hub") // test runs may share a Redis
	}
	h := NewHub(cfg, store, b, testLogger(t))
	srv := httptest.NewUnstartedServer(h.Handler(testAuth))
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	// Like cmd/preau's server: timeouts that must not cut WebSockets
	// (net/http clears them when the connection is hijacked).
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := h.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return h, "ws" + strings.TrimPrefix(srv.URL, "http")
}

// frame is a server frame as a client sees it.
type frame struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	ID   int64           `json:"id"`
	Data json.RawMessage `json:"data"`
}

func (f frame) message(t testing.TB) MessageData {
	t.Helper()
	if f.Type != TypeMessage {
		t.Fatalf("got %s %s, want a message", f.Type, f.Data)
	}
	var m MessageData
	if err := json.Unmarshal(f.Data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wsClient is a test client whose frames are read by a goroutine into a
// channel, so that a test can wait for a frame or for the close.
type wsClient struct {
	t      testing.TB
	conn   *websocket.Conn
	frames chan frame
	err    error // set before frames is closed
	nextID int64
}

func dial(t testing.TB, url string, user int64, opts *websocket.DialOptions) (*websocket.Conn, error) {
	t.Helper()
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	opts.HTTPHeader = http.Header{"X-User": {strconv.FormatInt(user, 10)}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return c, err
}

func connect(t testing.TB, url string, user int64) *wsClient {
	t.Helper()
	conn, err := dial(t, url, user, nil)
	if err != nil {
		t.Fatalf("dial as %d: %v", user, err)
	}
	c := &wsClient{t: t, conn: conn, frames: make(chan frame, 4096)}
	go func() {
		defer close(c.frames)
		for {
			_, b, err := conn.Read(context.Background())
			if err != nil {
				c.err = err
				return
			}
			var f frame
			if err := json.Unmarshal(b, &f); err != nil {
				c.err = err
				return
			}
			c.frames <- f
		}
	}()
	t.Cleanup(func() { conn.CloseNow() })
	return c
}

func (c *wsClient) sendRaw(s string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) request(typ string, data any) int64 {
	c.t.Helper()
	c.nextID++
	b, err := json.Marshal(map[string]any{"v": 1, "type": typ, "id": c.nextID, "data": data})
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(string(b))
	return c.nextID
}

func (c *wsClient) subscribe(conv, after int64) {
	c.t.Helper()
	c.request(TypeSubscribe, map[string]any{"conversations": []map[string]int64{{"id": conv, "after_seq": after}}})
}

func (c *wsClient) send(conv int64, clientID, body string) {
	c.t.Helper()
	c.request(TypeSend, map[string]any{"conversation": conv, "client_id": clientID, "body": body})
}

// next returns the next frame, skipping the given types.
func (c *wsClient) next(skip ...string) frame {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection ended: %v", c.err)
			}
			if contains(skip, f.Type) {
				continue
			}
			return f
		case <-timeout:
			c.t.Fatal("no frame within 10 s")
		}
	}
}

// expect returns the next frame of type typ, skipping the given types;
// any other frame fails the test.
func (c *wsClient) expect(typ string, skip ...string) frame {
	c.t.Helper()
	f := c.next(skip...)
	if f.Type != typ {
		c.t.Fatalf("got %s %s, want %s", f.Type, f.Data, typ)
	}
	return f
}

// closed waits for the connection to end and returns its close error.
func (c *wsClient) closed() error {
	c.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return c.err
			}
		case <-timeout:
			c.t.Fatal("connection still open after 20 s")
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// eventually retries cond until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
