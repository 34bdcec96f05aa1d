package files

import (
	"context"
	"errors"
	"io"

	"preau/storage"
)

// ObjectReader reads a stored object as an io.ReadSeeker, which
// http.ServeContent needs for range requests: a Seek only moves the offset,
// and the next Read asks the store for the rest of the object from there.
// Sequential reads reuse one open body.
type ObjectReader struct {
	ctx  context.Context
	st   storage.Store
	key  string
	size int64
	off  int64
	body io.ReadCloser
}

// NewObjectReader reads key, of the given size, from st.
func NewObjectReader(ctx context.Context, st storage.Store, key string, size int64) *ObjectReader {
	return &ObjectReader{ctx: ctx, st: st, key: key, size: size}
}

// Read implements io.Reader.
func (r *ObjectReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		b, err := r.st.Get(r.ctx, r.key, r.off, -1)
		if err != nil {
			return 0, storeErr("get", err)
		}
		r.body = b
	}
	if rest := r.size - r.off; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	if err == io.EOF && r.off < r.size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// Seek implements io.Seeker.
func (r *ObjectReader) Seek(offset int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.off + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, errors.New("files: seek: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("files: seek: negative position")
	}
	if abs != r.off && r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.off = abs
	return abs, nil
}

// Close releases the open body, if any.
func (r *ObjectReader) Close() error {
	if r.body != nil {
		err := r.body.Close()
		r.body = nil
		return err
	}
	return nil
}
