package testsvc

import (
	"context"
	"fmt"
	"go/build"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Proc is a private server process that a fault test owns: it starts it on
// a free 127.0.0.1 port with its own data directory, stops it (the outage)
// and starts it again on the same port and data. It is killed when the
// test ends, and dies with the test process (Pdeathsig).
type Proc struct {
	name string
	// Port is where it listens; Dir holds its data.
	Port int
	Dir  string

	bin     string
	args    []string
	env     []string
	cred    *syscall.Credential // run as this user (PostgreSQL refuses root)
	ready   func(ctx context.Context) error
	stopSig os.Signal

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // cmd.Wait's result
	log    *tailWriter
}

// Start runs the process and waits until it answers (30 s).
func (p *Proc) Start(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		t.Fatalf("testsvc: %s already running", p.name)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Credential: p.cred}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testsvc: start %s: %v", p.name, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	p.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := p.ready(ctx)
		cancel()
		if err == nil {
			p.exited = exited // Stop and Kill wait on it
			return
		}
		select {
		case werr := <-exited:
			p.cmd = nil
			t.Fatalf("testsvc: %s exited at start: %v\n%s", p.name, werr, p.log.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			p.cmd = nil
			t.Fatalf("testsvc: %s on port %d does not answer: %v\n%s", p.name, p.Port, err, p.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the process the way its operator would (SIGINT for
// PostgreSQL's fast shutdown, SIGTERM otherwise), kills it after 10 s,
// and waits for it. Stopping a stopped process does nothing.
func (p *Proc) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(p.stopSig)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	p.cmd = nil
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Proc) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	<-p.exited
	p.cmd = nil
}

// Log is the end of what the process wrote.
func (p *Proc) Log() string { return p.log.String() }

func newProc(t testing.TB, name, bin string) *Proc {
	p := &Proc{name: name, bin: bin, Port: FreePort(t), stopSig: syscall.SIGTERM, log: &tailWriter{max: 16 << 10}}
	t.Cleanup(p.Kill)
	return p
}

// FreePort returns a TCP port of 127.0.0.1 free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// RedisProc returns a private redis-server (no persistence), started, and
// its URL.
func RedisProc(t testing.TB) (*Proc, string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		Missing(t, "redis-server", "not in PATH: "+err.Error())
	}
	p := newProc(t, "redis-server", bin)
	p.Dir = t.TempDir()
	p.args = []string{"--port", strconv.Itoa(p.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", p.Dir}
	url := "redis://127.0.0.1:" + strconv.Itoa(p.Port) + "/0"
	opts, _ := redis.ParseURL(url)
	p.ready = func(ctx context.Context) error {
		rdb := redis.NewClient(opts)
		defer rdb.Close()
		return rdb.Ping(ctx).Err()
	}
	p.Start(t)
	return p, url
}

// MinIOBinary finds the MinIO server that .ci/run builds with `go install`:
// in PATH, or in $GOPATH/bin.
func MinIOBinary(t testing.TB) string {
	t.Helper()
	if bin, err := exec.LookPath("minio"); err == nil {
		return bin
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		bin := filepath.Join(dir, "bin", "minio")
		if _, err := os.Stat(bin); err == nil {
			return bin
		}
	}
	Missing(t, "minio", "no minio in PATH nor in $GOPATH/bin (go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c)")
	return ""
}

// MinIOProc returns a private MinIO server with a fresh data directory,
// started, and the Préau storage URL of its bucket "preau" (created).
func MinIOProc(t testing.TB) (*Proc, string) {
	t.Helper()
	p := newProc(t, "minio", MinIOBinary(t))
	p.Dir = t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(p.Port)
	p.args = []string{"server", filepath.Join(p.Dir, "data"), "--address", addr,
		"--console-address", "127.0.0.1:" + strconv.Itoa(FreePort(t)), "--quiet"}
	p.env = []string{"MINIO_ROOT_USER=minioadmin", "MINIO_ROOT_PASSWORD=minioadmin", "MINIO_BROWSER=off"}
	p.ready = func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/minio/health/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("health: %s", resp.Status)
		}
		return nil
	}
	p.Start(t)
	return p, "s3://minioadmin:minioadmin@" + addr + "/preau?secure=false"
}

// PostgresProc returns a private PostgreSQL cluster (initdb, trust
// authentication on 127.0.0.1), started, and its URL. As root it runs as
// the postgres user, as PostgreSQL requires.
func PostgresProc(t testing.TB) (*Proc, string) {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		Missing(t, "postgres", "no /usr/lib/postgresql/*/bin/postgres")
	}
	binDir := filepath.Dir(bins[len(bins)-1])
	p := newProc(t, "postgres", filepath.Join(binDir, "postgres"))
	// Not t.TempDir(): its parents are private to root.
	dir, err := os.MkdirTemp("", "preau-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p.Dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			Missing(t, "postgres", "running as root and no postgres user: "+err.Error())
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(binDir, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("testsvc: initdb: %v\n%s", err, out)
	}
	p.args = []string{"-D", data, "-p", strconv.Itoa(p.Port), "-k", dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "max_connections=200"}
	p.stopSig = syscall.SIGINT // fast shutdown: sessions are cut, nothing committed is lost
	url := "postgres://postgres@127.0.0.1:" + strconv.Itoa(p.Port) + "/postgres?sslmode=disable"
	p.ready = func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		return c.Close(ctx)
	}
	p.Start(t)
	return p, url
}

// tailWriter keeps the last max bytes written.
type tailWriter struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	if len(w.b) > w.max {
		w.b = w.b[len(w.b)-w.max:]
	}
	return len(p), nil
}

func (w *tailWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.ToValidUTF8(string(w.b), "?")
}
