// Package storetest is the contract test suite every storage engine passes:
// the disk and S3 tests call Run with a function that makes a fresh, empty
// store, so both engines are held to the same behaviour.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"preau/storage"
)

// Run runs the contract suite; newStore returns a fresh, empty store
// (cleaned up by the test). Upload tests need a storage.Uploader.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"PutGetStatDelete", testPutGetStatDelete},
		{"Ranges", testRanges},
		{"Empty", testEmpty},
		{"Size", testSize},
		{"Overwrite", testOverwrite},
		{"ConcurrentPut", testConcurrentPut},
		{"Copy", testCopy},
		{"BadKeys", testBadKeys},
		{"InterruptedPut", testInterruptedPut},
		{"Large", testLarge},
		{"Ping", testPing},
		{"Upload", testUpload},
		{"UploadOutOfOrder", testUploadOutOfOrder},
		{"UploadResentPart", testUploadResentPart},
		{"UploadAbort", testUploadAbort},
		{"UploadMissingPart", testUploadMissingPart},
		{"UploadSmallPart", testUploadSmallPart},
		{"UploadWrongKey", testUploadWrongKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func put(t testing.TB, s storage.Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(ctx(t), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put(%q, %d bytes): %v", key, len(data), err)
	}
}

func get(t testing.TB, s storage.Store, key string, offset, length int64) []byte {
	t.Helper()
	rc, err := s.Get(ctx(t), key, offset, length)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): %v", key, offset, length, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q, %d, %d): read: %v", key, offset, length, err)
	}
	return b
}

// absent checks that nothing is stored under key.
func absent(t testing.TB, s storage.Store, key string) {
	t.Helper()
	if info, err := s.Stat(ctx(t), key); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Stat(%q) = %+v, %v; want ErrNotFound", key, info, err)
	}
	if rc, err := s.Get(ctx(t), key, 0, -1); !errors.Is(err, storage.ErrNotFound) {
		if err == nil {
			rc.Close()
		}
		t.Fatalf("Get(%q) error = %v; want ErrNotFound", key, err)
	}
}

// holds checks that key holds exactly want.
func holds(t testing.TB, s storage.Store, key string, want []byte) {
	t.Helper()
	info, err := s.Stat(ctx(t), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	if info.Key != key || info.Size != int64(len(want)) {
		t.Fatalf("Stat(%q) = %+v; want key %q, size %d", key, info, key, len(want))
	}
	if got := get(t, s, key, 0, -1); !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %d bytes %.20q…; want %d bytes %.20q…", key, len(got), got, len(want), want)
	}
}

// data returns n pseudo-random bytes, the same for the same seed.
func data(seed uint64, n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8(seedOf(seed)).Read(b)
	return b
}

func seedOf(n uint64) (s [32]byte) {
	for i := range 8 {
		s[i] = byte(n >> (8 * i))
	}
	return s
}

func testPutGetStatDelete(t *testing.T, s storage.Store) {
	key := "a/b/c-1_x.bin"
	absent(t, s, key)
	want := data(1, 1000)
	before := time.Now().Add(-time.Minute)
	put(t, s, key, want)
	holds(t, s, key, want)
	info, _ := s.Stat(ctx(t), key)
	if info.ModTime.Before(before) || info.ModTime.After(time.Now().Add(time.Minute)) {
		t.Errorf("ModTime = %v; want about now", info.ModTime)
	}
	// A prefix of a key is not an object.
	absent(t, s, "a/b")
	if err := s.Delete(ctx(t), key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	absent(t, s, key)
	if err := s.Delete(ctx(t), key); err != nil {
		t.Fatalf("Delete of a missing key: %v; want nil", err)
	}
	if err := s.Delete(ctx(t), "a/b"); err != nil {
		t.Fatalf("Delete of a prefix: %v; want nil", err)
	}
}

func testRanges(t *testing.T, s storage.Store) {
	want := data(2, 10000)
	put(t, s, "r", want)
	for _, r := range []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"whole", 0, -1, want},
		{"start", 0, 100, want[:100]},
		{"middle", 1234, 5000, want[1234:6234]},
		{"to the end", 9000, -1, want[9000:]},
		{"end exactly", 9900, 100, want[9900:]},
		{"length past end", 9990, 500, want[9990:]},
		{"last byte", 9999, 1, want[9999:]},
		{"offset at end", 10000, -1, nil},
		{"offset past end", 20000, 10, nil},
		{"zero length", 50, 0, nil},
	} {
		t.Run(r.name, func(t *testing.T) {
			got := get(t, s, "r", r.offset, r.length)
			if !bytes.Equal(got, r.want) {
				t.Fatalf("Get(%d, %d) = %d bytes; want %d bytes", r.offset, r.length, len(got), len(r.want))
			}
		})
	}
	if _, err := s.Get(ctx(t), "missing", 10, 10); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("ranged Get of a missing key: %v; want ErrNotFound", err)
	}
}

func testEmpty(t *testing.T, s storage.Store) {
	put(t, s, "empty", nil)
	holds(t, s, "empty", nil)
	if got := get(t, s, "empty", 0, 10); len(got) != 0 {
		t.Fatalf("Get(0, 10) of an empty object = %d bytes", len(got))
	}
	if got := get(t, s, "empty", 5, -1); len(got) != 0 {
		t.Fatalf("Get(5, -1) of an empty object = %d bytes", len(got))
	}
}

func testSize(t *testing.T, s storage.Store) {
	b := data(3, 5000)
	for _, c := range []struct {
		name string
		r    io.Reader
		size int64
	}{
		{"short", bytes.NewReader(b[:4999]), 5000},
		{"long", bytes.NewReader(b), 4999},
		{"long by far", bytes.NewReader(b), 100},
		{"empty but announced", bytes.NewReader(nil), 10},
		{"announced empty", bytes.NewReader(b[:1]), 0},
		{"one byte at a time, short", io.LimitReader(oneByte{bytes.NewReader(b)}, 4000), 5000},
		{"one byte at a time, long", oneByte{bytes.NewReader(b)}, 4000},
		// Beyond S3 engines' single-request size: the check at the last part.
		{"short, several parts", newPattern(3, 17<<20-1), 17 << 20},
		{"long, several parts", newPattern(3, 17<<20+1), 17 << 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := s.Put(ctx(t), "sized", c.r, c.size)
			if !errors.Is(err, storage.ErrSize) {
				t.Fatalf("Put = %v; want ErrSize", err)
			}
			absent(t, s, "sized")
		})
	}
	// A failed replacement keeps the old object.
	old := data(4, 300)
	put(t, s, "kept", old)
	if err := s.Put(ctx(t), "kept", bytes.NewReader(b), 10); !errors.Is(err, storage.ErrSize) {
		t.Fatalf("Put = %v; want ErrSize", err)
	}
	holds(t, s, "kept", old)
}

// oneByte reads one byte at a time, as a slow network might.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}

func testOverwrite(t *testing.T, s storage.Store) {
	put(t, s, "o", data(5, 2000))
	want := data(6, 700)
	put(t, s, "o", want)
	holds(t, s, "o", want)
}

func testConcurrentPut(t *testing.T, s storage.Store) {
	const n, size = 4, 1 << 20
	contents := make([][]byte, n)
	for i := range contents {
		contents[i] = bytes.Repeat([]byte{byte('a' + i)}, size)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.Put(ctx(t), "same", bytes.NewReader(contents[i]), size)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Put #%d: %v", i, err)
		}
	}
	got := get(t, s, "same", 0, -1)
	for _, c := range contents {
		if bytes.Equal(got, c) {
			return
		}
	}
	t.Fatalf("after concurrent Puts the object is none of them whole (%d bytes, starts %q)", len(got), got[:min(len(got), 8)])
}

func testCopy(t *testing.T, s storage.Store) {
	src := data(7, 3000)
	put(t, s, "src/x", src)
	if err := s.Copy(ctx(t), "dst/y", "src/x"); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	holds(t, s, "dst/y", src)
	holds(t, s, "src/x", src)
	// The copy is independent of its source.
	put(t, s, "src/x", data(8, 10))
	holds(t, s, "dst/y", src)
	if err := s.Delete(ctx(t), "src/x"); err != nil {
		t.Fatal(err)
	}
	holds(t, s, "dst/y", src)
	// Over an existing object, and onto itself.
	put(t, s, "other", data(9, 50))
	if err := s.Copy(ctx(t), "other", "dst/y"); err != nil {
		t.Fatalf("Copy over an object: %v", err)
	}
	holds(t, s, "other", src)
	if err := s.Copy(ctx(t), "other", "other"); err != nil {
		t.Fatalf("Copy onto itself: %v", err)
	}
	holds(t, s, "other", src)
	if err := s.Copy(ctx(t), "z", "missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Copy of a missing key: %v; want ErrNotFound", err)
	}
	absent(t, s, "z")
}

// BadKeys are refused by every method with storage.ErrBadKey.
var BadKeys = []string{
	"", "../x", "a/../b", "..", ".", "./a", "a/.", "a//b", "/a", "a/", "a\x00b", "A", "a/B",
	"a b", "a\\b", "é", "a\nb", "~", strings.Repeat("a", 300),
}

func testBadKeys(t *testing.T, s storage.Store) {
	put(t, s, "good", []byte("x"))
	up, _ := s.(storage.Uploader)
	for _, key := range BadKeys {
		check := func(what string, err error) {
			t.Helper()
			if !errors.Is(err, storage.ErrBadKey) {
				t.Errorf("%s(%q) = %v; want ErrBadKey", what, key, err)
			}
		}
		check("Put", s.Put(ctx(t), key, strings.NewReader("x"), 1))
		rc, err := s.Get(ctx(t), key, 0, -1)
		if err == nil {
			rc.Close()
		}
		check("Get", err)
		_, err = s.Stat(ctx(t), key)
		check("Stat", err)
		check("Delete", s.Delete(ctx(t), key))
		check("Copy to", s.Copy(ctx(t), key, "good"))
		check("Copy from", s.Copy(ctx(t), "good", key))
		if up != nil {
			_, err := up.BeginUpload(ctx(t), key)
			check("BeginUpload", err)
		}
	}
	if storage.ValidKey(strings.Repeat("a", 256)) != true || storage.ValidKey(strings.Repeat("a", 257)) {
		t.Errorf("ValidKey: 256 bytes must pass, 257 must not")
	}
}

// failingReader yields n bytes then fails, like a dropped connection.
type failingReader struct {
	r io.Reader
	n int64
}

var errDropped = errors.New("connection dropped")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDropped
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

func testInterruptedPut(t *testing.T, s storage.Store) {
	old := data(10, 100)
	put(t, s, "kept", old)
	// Small (one request) and large (several parts for S3).
	for _, size := range []int64{100 << 10, 20 << 20} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			r := &failingReader{r: newPattern(11, size), n: size * 3 / 4}
			err := s.Put(ctx(t), "cut", r, size)
			if err == nil || errors.Is(err, storage.ErrSize) {
				t.Fatalf("Put = %v; want the reader's error", err)
			}
			absent(t, s, "cut")
			r = &failingReader{r: newPattern(11, size), n: size / 2}
			if err := s.Put(ctx(t), "kept", r, size); err == nil {
				t.Fatalf("Put over an object = nil; want an error")
			}
			holds(t, s, "kept", old)
		})
	}
	// A cancelled context stops a Put too.
	c, cancel := context.WithCancel(ctx(t))
	r := &cancelAfter{r: newPattern(12, 1<<20), n: 1 << 19, cancel: cancel}
	if err := s.Put(c, "cancelled", r, 1<<20); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with a cancelled context = %v; want context.Canceled", err)
	}
	absent(t, s, "cancelled")
}

// cancelAfter cancels a context once n bytes were read, then stalls like a
// silent client: the store must notice the context, not the reader.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	if c.n <= 0 {
		time.Sleep(3 * time.Second)
		return 0, errDropped
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// pattern is an endless pseudo-random reader, the same for the same seed,
// so that big contents need not be held in memory to be compared.
type pattern struct {
	c *rand.ChaCha8
}

func newPattern(seed uint64, size int64) io.Reader {
	return io.LimitReader(pattern{rand.NewChaCha8(seedOf(seed))}, size)
}

func (p pattern) Read(b []byte) (int, error) { return p.c.Read(b) }

// sameStream compares two readers without holding either.
func sameStream(a, b io.Reader) (int64, error) {
	ba, bb := make([]byte, 64<<10), make([]byte, 64<<10)
	var off int64
	for {
		na, ea := io.ReadFull(a, ba)
		nb, eb := io.ReadFull(b, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return off, fmt.Errorf("streams differ in the 64 KiB from %d (%d and %d bytes)", off, na, nb)
		}
		off += int64(na)
		if ea == io.EOF || ea == io.ErrUnexpectedEOF {
			if eb != io.EOF && eb != io.ErrUnexpectedEOF {
				return off, fmt.Errorf("second stream longer than %d", off)
			}
			return off, nil
		}
		if ea != nil {
			return off, ea
		}
		if eb != nil {
			return off, eb
		}
	}
}

// heapWatch samples the live heap while data flows through it.
type heapWatch struct {
	r        io.Reader
	since    int64
	base     uint64
	peak     uint64
	interval int64
}

func newHeapWatch(r io.Reader) *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return &heapWatch{r: r, base: ms.HeapAlloc, peak: ms.HeapAlloc, interval: 4 << 20}
}

func (h *heapWatch) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.since += int64(n)
	if h.since >= h.interval {
		h.since = 0
		h.sample()
	}
	return n, err
}

func (h *heapWatch) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapAlloc)
}

// growth is how much the heap grew at its peak.
func (h *heapWatch) growth() int64 { return int64(h.peak) - int64(h.base) }

// LargeSize is the size of the object that must be streamed, not held.
const LargeSize = 64 << 20

func testLarge(t *testing.T, s storage.Store) {
	if testing.Short() {
		t.Skip("64 MiB object: skipped with -short")
	}
	// Keep garbage low so that the heap reflects what is live.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	w := newHeapWatch(newPattern(13, LargeSize))
	if err := s.Put(ctx(t), "large", w, LargeSize); err != nil {
		t.Fatalf("Put of %d MiB: %v", LargeSize>>20, err)
	}
	t.Logf("Put: heap grew by at most %d MiB for a %d MiB object", w.growth()>>20, LargeSize>>20)
	if w.growth() > LargeSize/2 {
		t.Errorf("Put: heap grew by %d MiB for a %d MiB object: it is held in memory", w.growth()>>20, LargeSize>>20)
	}
	info, err := s.Stat(ctx(t), "large")
	if err != nil || info.Size != LargeSize {
		t.Fatalf("Stat = %+v, %v; want %d bytes", info, err, LargeSize)
	}
	rc, err := s.Get(ctx(t), "large", 0, -1)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	w = newHeapWatch(rc)
	if n, err := sameStream(w, newPattern(13, LargeSize)); err != nil {
		t.Fatalf("Get: %v (after %d bytes)", err, n)
	}
	t.Logf("Get: heap grew by at most %d MiB", w.growth()>>20)
	if w.growth() > LargeSize/2 {
		t.Errorf("Get: heap grew by %d MiB for a %d MiB object: it is held in memory", w.growth()>>20, LargeSize>>20)
	}
	// A range deep inside, compared with the same range of the pattern.
	const off, n = 50<<20 + 123, 3 << 20
	want := newPattern(13, off+n)
	io.CopyN(io.Discard, want, off)
	if got := get(t, s, "large", off, n); !bytes.Equal(got, mustRead(t, want)) {
		t.Fatalf("Get(%d, %d) differs from what was put", off, n)
	}
}

func mustRead(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func testPing(t *testing.T, s storage.Store) {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Ping(c); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}
