package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"preau/storage"
)

func uploader(t *testing.T, s storage.Store) storage.Uploader {
	t.Helper()
	up, ok := s.(storage.Uploader)
	if !ok {
		t.Skipf("%T is not a storage.Uploader", s)
	}
	return up
}

func begin(t *testing.T, up storage.Uploader, key string) string {
	t.Helper()
	id, err := up.BeginUpload(ctx(t), key)
	if err != nil {
		t.Fatalf("BeginUpload(%q): %v", key, err)
	}
	if id == "" {
		t.Fatalf("BeginUpload(%q) returned an empty id", key)
	}
	return id
}

func putPart(t *testing.T, up storage.Uploader, key, id string, n int, b []byte) {
	t.Helper()
	if err := up.PutPart(ctx(t), key, id, n, bytes.NewReader(b), int64(len(b))); err != nil {
		t.Fatalf("PutPart(%d, %d bytes): %v", n, len(b), err)
	}
}

func complete(t *testing.T, up storage.Uploader, key, id string, parts int) {
	t.Helper()
	if err := up.CompleteUpload(ctx(t), key, id, parts); err != nil {
		t.Fatalf("CompleteUpload(%d parts): %v", parts, err)
	}
}

func testUpload(t *testing.T, s storage.Store) {
	up := uploader(t, s)
	for _, c := range []struct {
		name  string
		sizes []int
	}{
		{"three full parts", []int{storage.MinPartSize, storage.MinPartSize, storage.MinPartSize}},
		{"small last part", []int{storage.MinPartSize, 1000}},
		{"one small part", []int{10}},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := "up/" + strings.ReplaceAll(c.name, " ", "-")
			id := begin(t, up, key)
			var want []byte
			for i, size := range c.sizes {
				b := data(uint64(100+i), size)
				putPart(t, up, key, id, i+1, b)
				want = append(want, b...)
				absent(t, s, key) // nothing visible before Complete
			}
			complete(t, up, key, id, len(c.sizes))
			holds(t, s, key, want)
			// The upload is over: its id no longer takes parts.
			err := up.PutPart(ctx(t), key, id, 1, bytes.NewReader(want[:10]), 10)
			if !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("PutPart after Complete = %v; want ErrNotFound", err)
			}
		})
	}
}

func testUploadOutOfOrder(t *testing.T, s storage.Store) {
	up := uploader(t, s)
	key := "ooo"
	put(t, s, key, []byte("old"))
	id := begin(t, up, key)
	p1, p2, p3 := data(201, storage.MinPartSize), data(202, storage.MinPartSize), data(203, 4321)
	putPart(t, up, key, id, 3, p3)
	putPart(t, up, key, id, 1, p1)
	putPart(t, up, key, id, 2, p2)
	holds(t, s, key, []byte("old")) // the old object until Complete
	complete(t, up, key, id, 3)
	holds(t, s, key, append(append(append([]byte(nil), p1...), p2...), p3...))
}

func testUploadResentPart(t *testing.T, s storage.Store) {
	up := uploader(t, s)
	key := "resent"
	id := begin(t, up, key)
	p1, p2 := data(301, storage.MinPartSize), data(302, 777)
	// A first attempt cut short, then a wrong one, then the right one.
	err := up.PutPart(ctx(t), key, id, 1, &failingReader{r: bytes.NewReader(p1), n: 1000}, int64(len(p1)))
	if err == nil {
		t.Fatalf("PutPart from a failing reader = nil; want an error")
	}
	putPart(t, up, key, id, 1, data(399, storage.MinPartSize+5))
	putPart(t, up, key, id, 2, p2)
	putPart(t, up, key, id, 1, p1)
	if err := up.PutPart(ctx(t), key, id, 2, bytes.NewReader(p2[:10]), 11); !errors.Is(err, storage.ErrSize) {
		t.Fatalf("PutPart with a short reader = %v; want ErrSize", err)
	}
	putPart(t, up, key, id, 2, p2)
	complete(t, up, key, id, 2)
	holds(t, s, key, append(append([]byte(nil), p1...), p2...))
}

func testUploadAbort(t *testing.T, s storage.Store) {
	up := uploader(t, s)
	key := "aborted"
	id := begin(t, up, key)
	putPart(t, up, key, id, 1, data(401, storage.MinPartSize))
	putPart(t, up, key, id, 2, data(402, 10))
	if err := up.AbortUpload(ctx(t), key, id); err != nil {
		t.Fatalf("AbortUpload: %v", err)
	}
	absent(t, s, key)
	if err := up.CompleteUpload(ctx(t), key, id, 2); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CompleteUpload after Abort = %v; want ErrNotFound", err)
	}
	absent(t, s, key)
	if err := up.PutPart(ctx(t), key, id, 1, bytes.NewReader([]byte("x")), 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutPart after Abort = %v; want ErrNotFound", err)
	}
	if err := up.AbortUpload(ctx(t), key, id); err != nil {
		t.Fatalf("second AbortUpload = %v; want nil", err)
	}
}

func testUploadMissingPart(t *testing.T, s storage.Store) {
	up := uploader(t, s)
	key := "holes"
	id := begin(t, up, key)
	putPart(t, up, key, id, 1, data(501, storage.MinPartSize))
	putPart(t, up, key, id, 3, data(503, 10))
	if err := up.CompleteUpload(ctx(t), key, id, 3); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CompleteUpload without part 2 = %v; want ErrNotFound", err)
	}
	absent(t, s, key)
	// A failed Complete dropped the upload.
	if err := up.PutPart(ctx(t), key, id, 2, bytes.NewReader([]byte("x")), 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutPart after a failed Complete = %v; want ErrNotFound", err)
	}
	if err := up.CompleteUpload(ctx(t), key, begin(t, up, key), 0); err == nil {
		t.Fatalf("CompleteUpload of 0 parts = nil; want an error")
	}
	absent(t, s, key)
}

func testUploadSmallPart(t *testing.T, s storage.Store) {
	up := uploader(t, s)
	key := "small"
	id := begin(t, up, key)
	putPart(t, up, key, id, 1, data(601, 1000))
	putPart(t, up, key, id, 2, data(602, 1000))
	if err := up.CompleteUpload(ctx(t), key, id, 2); !errors.Is(err, storage.ErrSize) {
		t.Fatalf("CompleteUpload with a small first part = %v; want ErrSize", err)
	}
	absent(t, s, key)
}

func testUploadWrongKey(t *testing.T, s storage.Store) {
	up := uploader(t, s)
	id := begin(t, up, "right")
	err := up.PutPart(ctx(t), "wrong", id, 1, bytes.NewReader([]byte("x")), 1)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutPart to another key = %v; want ErrNotFound", err)
	}
	err = up.PutPart(ctx(t), "right", "no-such-upload", 1, bytes.NewReader([]byte("x")), 1)
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("PutPart to an unknown upload = %v; want ErrNotFound", err)
	}
	if err := up.CompleteUpload(ctx(t), "wrong", id, 1); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("CompleteUpload to another key = %v; want ErrNotFound", err)
	}
	absent(t, s, "wrong")
	if err := up.AbortUpload(ctx(t), "right", id); err != nil {
		t.Fatal(err)
	}
}
