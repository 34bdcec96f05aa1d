package storage

import (
	"fmt"
	"io"
)

// ExactReader returns a reader of exactly size bytes from r that fails with
// ErrSize when r ends early or has more, reading at most size+1 bytes of r.
//
// The check for extra bytes happens before the last bytes are handed on:
// a consumer that stops after size bytes (an HTTP body with a
// Content-Length, a signed S3 chunk) never receives a complete content
// from a reader that is too long, so a store cannot commit it.
func ExactReader(r io.Reader, size int64) io.Reader {
	return &exactReader{r: r, left: size, size: size}
}

type exactReader struct {
	r    io.Reader
	left int64 // bytes still expected
	size int64
	err  error // sticky
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.left == 0 {
		// Only reached for size 0; otherwise the probe below already ran.
		if err := e.probe(); err != nil {
			return 0, err
		}
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	switch {
	case e.left == 0:
		// Withhold the last bytes until we know nothing follows them: a
		// reader returning (n, err) may see err dropped (io.ReadFull does).
		if err := e.probe(); err != nil {
			return 0, err
		}
		return n, nil
	case err == io.EOF:
		e.err = fmt.Errorf("%w: content ended after %d of %d bytes", ErrSize, e.size-e.left, e.size)
		if n > 0 {
			return n, nil // the error comes with the next call
		}
		return 0, e.err
	case err != nil:
		e.err = err
		return n, err
	}
	return n, nil
}

// probe reads one byte past the end: io.EOF is the only good answer.
func (e *exactReader) probe() error {
	var b [1]byte
	for range 100 {
		n, err := e.r.Read(b[:])
		if n > 0 {
			e.err = fmt.Errorf("%w: content longer than %d bytes", ErrSize, e.size)
			return e.err
		}
		if err == io.EOF {
			e.left = 0
			e.err = io.EOF
			return nil
		}
		if err != nil {
			e.err = err
			return err
		}
	}
	e.err = io.ErrNoProgress
	return e.err
}
