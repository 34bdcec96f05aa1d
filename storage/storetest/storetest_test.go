package storetest

import (
	"bytes"
	"io"
	"testing"
)

// The memory check must catch a store that holds the object.
func TestHeapWatchSeesBuffering(t *testing.T) {
	w := newHeapWatch(newPattern(1, LargeSize))
	b, err := io.ReadAll(w)
	if err != nil || len(b) != LargeSize {
		t.Fatalf("ReadAll = %d bytes, %v", len(b), err)
	}
	w.sample()
	if w.growth() < LargeSize/2 {
		t.Fatalf("heap growth %d MiB while holding %d MiB", w.growth()>>20, LargeSize>>20)
	}
	if n, err := sameStream(bytes.NewReader(b), newPattern(1, LargeSize)); err != nil || n != LargeSize {
		t.Fatalf("sameStream = %d, %v", n, err)
	}
	if _, err := sameStream(bytes.NewReader(b[:100]), newPattern(1, LargeSize)); err == nil {
		t.Fatalf("sameStream of a prefix = nil error")
	}
}
