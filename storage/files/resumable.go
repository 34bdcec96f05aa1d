package files

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"preau/db"
	"preau/identity"
	"preau/storage"
)

// Resumable uploads: the client announces the file (BeginUpload), sends
// parts of PartSize bytes (the last one shorter) in any order and again
// after a dropped connection (PutPart), asks which parts arrived
// (UploadStatus), then completes (CompleteUpload), which joins the parts in
// the store and commits the version like a one-request upload. Nothing is
// visible nor charged before that; an abandoned upload expires (Sweep).

// PartSize is the size of every part but the last.
const PartSize = 8 << 20

// ResumableUpload describes an upload in progress.
type ResumableUpload struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Size      int64     `json:"size"`
	PartSize  int64     `json:"part_size"`
	Parts     int       `json:"parts"`    // how many parts in all
	Received  []int     `json:"received"` // part numbers stored, ascending
	ExpiresAt time.Time `json:"expires_at"`
}

type uploadRow struct {
	id                    string
	userID                int64
	spaceID, parentID     int64
	name                  string
	size, partSize        int64
	key, storageID, ctype string
	expiresMs             int64
}

func (u uploadRow) parts() int { return int((u.size + u.partSize - 1) / u.partSize) }

// BeginUpload starts a resumable upload of size bytes (at most
// MaxResumable) named name into a folder.
func (s *Service) BeginUpload(ctx context.Context, p *identity.Principal, spaceID, folderID int64, name string, size int64) (ResumableUpload, error) {
	if s.up == nil {
		return ResumableUpload{}, fmt.Errorf("%w: this store takes no parts", ErrInvalid)
	}
	t, err := s.prepare(ctx, p, spaceID, folderID, name, size, s.cfg.MaxResumable)
	if err != nil {
		return ResumableUpload{}, err
	}
	key := newKey()
	sid, err := s.up.BeginUpload(ctx, key)
	if err != nil {
		return ResumableUpload{}, storeErr("begin upload", err)
	}
	u := uploadRow{id: newID(), userID: p.UserID, spaceID: t.sp.ID, parentID: folderID, name: t.name, size: size,
		partSize: PartSize, key: key, storageID: sid, expiresMs: s.cfg.Now().Add(s.cfg.UploadTTL).UnixMilli()}
	if _, err := s.db.Exec(ctx, `INSERT INTO file_uploads (id, user_id, space_id, parent_id, name, size, part_size, storage_key,
		storage_upload_id, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.id, u.userID, u.spaceID, u.parentID, u.name, u.size, u.partSize, u.key, u.storageID, s.nowMs(), u.expiresMs); err != nil {
		s.up.AbortUpload(context.WithoutCancel(ctx), key, sid)
		return ResumableUpload{}, fmt.Errorf("files: begin upload: %w", err)
	}
	return s.describeUpload(ctx, u, false)
}

// loadUpload finds the caller's own live upload; anyone else's is ErrNotFound.
func (s *Service) loadUpload(ctx context.Context, p *identity.Principal, id string) (uploadRow, error) {
	var u uploadRow
	err := s.db.QueryRow(ctx, `SELECT id, user_id, space_id, parent_id, name, size, part_size, storage_key, storage_upload_id,
		content_type, expires_at_ms FROM file_uploads WHERE id = ?`, id).
		Scan(&u.id, &u.userID, &u.spaceID, &u.parentID, &u.name, &u.size, &u.partSize, &u.key, &u.storageID, &u.ctype, &u.expiresMs)
	if err != nil || u.userID != p.UserID || u.expiresMs < s.nowMs() {
		return u, ErrNotFound
	}
	return u, nil
}

// describeUpload says which parts arrived: through Préau (recorded), and,
// when direct is set, straight to the store (asked to the store).
func (s *Service) describeUpload(ctx context.Context, u uploadRow, direct bool) (ResumableUpload, error) {
	out := ResumableUpload{ID: u.id, Name: u.name, Size: u.size, PartSize: u.partSize, Parts: u.parts(),
		Received: []int{}, ExpiresAt: ms(u.expiresMs)}
	rows, err := s.db.Query(ctx, "SELECT n FROM file_upload_parts WHERE upload_id = ? ORDER BY n", u.id)
	if err != nil {
		return out, err
	}
	got := map[int]bool{}
	for rows.Next() {
		var n int
		rows.Scan(&n)
		got[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	if direct {
		if err := s.storedParts(ctx, u, got); err != nil {
			return out, err
		}
	}
	for n := 1; n <= u.parts(); n++ {
		if got[n] {
			out.Received = append(out.Received, n)
		}
	}
	return out, nil
}

// UploadStatus tells which parts of an upload have arrived.
func (s *Service) UploadStatus(ctx context.Context, p *identity.Principal, id string) (ResumableUpload, error) {
	u, err := s.loadUpload(ctx, p, id)
	if err != nil {
		return ResumableUpload{}, err
	}
	return s.describeUpload(ctx, u, true)
}

// PutPart stores part n (from 1) of an upload: exactly PartSize bytes, or
// the rest for the last part. Sending a part again replaces it.
func (s *Service) PutPart(ctx context.Context, p *identity.Principal, id string, n int, size int64, r io.Reader) (ResumableUpload, error) {
	u, err := s.loadUpload(ctx, p, id)
	if err != nil {
		return ResumableUpload{}, err
	}
	if n < 1 || n > u.parts() {
		return ResumableUpload{}, fmt.Errorf("%w: part %d of %d", ErrInvalid, n, u.parts())
	}
	want := u.partSize
	if n == u.parts() {
		want = u.size - int64(n-1)*u.partSize
	}
	if size != want {
		return ResumableUpload{}, fmt.Errorf("%w: part %d is %d bytes, want %d", ErrInvalid, n, size, want)
	}
	if n == 1 {
		// The first bytes decide the content type; a name claiming an
		// image must hold one.
		head := make([]byte, min(512, size))
		if _, err := io.ReadFull(r, head); err != nil {
			return ResumableUpload{}, fmt.Errorf("%w: %v", ErrInterrupted, err)
		}
		u.ctype = Sniff(head)
		if err := checkClaim(u.name, u.ctype); err != nil {
			s.AbortUpload(ctx, p, id)
			return ResumableUpload{}, err
		}
		r = io.MultiReader(bytes.NewReader(head), r)
	}
	if err := s.up.PutPart(ctx, u.key, u.storageID, n, r, size); err != nil {
		return ResumableUpload{}, storeErr("put part", err)
	}
	ctype := ""
	if n == 1 {
		ctype = u.ctype
	}
	if err := s.recordPart(ctx, u, n, size, ctype); err != nil {
		return ResumableUpload{}, err
	}
	return s.describeUpload(ctx, u, false)
}

// Direct parts (docs/files.md, "Uploads straight to MinIO"): on an S3 store
// that browsers reach, the page sends the parts of a resumable upload
// straight to MinIO with presigned URLs (PartURLs, a few at a time). Which
// parts arrived is read from the store (a part of the wrong size counts as
// missing); completion checks the joined object's size against the one
// announced (the quota charged) and sniffs its first bytes, since no byte
// passed through Préau.

// MaxPartURLs is how many part URLs one PartURLs call signs.
const MaxPartURLs = 16

// PartURL is where the browser PUTs part N.
type PartURL struct {
	N   int    `json:"n"`
	URL string `json:"url"`
}

// DirectUploads reports whether the parts of resumable uploads may go
// straight from the browser to the store.
func (s *Service) DirectUploads() bool {
	_, parts := s.store.(storage.PartPresigner)
	return parts && s.DirectDownloads() && s.up != nil
}

// DirectOrigin is the store's public origin when DirectUploads, else "".
func (s *Service) DirectOrigin() string {
	o, ok := s.store.(interface{ PublicOrigin() string })
	if !ok || !s.DirectUploads() {
		return ""
	}
	return o.PublicOrigin()
}

// PartURLs signs URLs, valid storage.MaxPresignTTL, for parts from … from
// + count − 1 (at most MaxPartURLs, not past the last) of the caller's
// upload id.
func (s *Service) PartURLs(ctx context.Context, p *identity.Principal, id string, from, count int) ([]PartURL, time.Time, error) {
	pp, ok := s.store.(storage.PartPresigner)
	if !ok || !s.DirectUploads() {
		return nil, time.Time{}, ErrNotFound
	}
	u, err := s.loadUpload(ctx, p, id)
	if err != nil {
		return nil, time.Time{}, err
	}
	if from < 1 || from > u.parts() || count < 1 || count > MaxPartURLs {
		return nil, time.Time{}, fmt.Errorf("%w: parts %d+%d of %d (at most %d at once)", ErrInvalid, from, count, u.parts(), MaxPartURLs)
	}
	out := make([]PartURL, 0, count)
	for n := from; n < from+count && n <= u.parts(); n++ {
		url, err := pp.PresignPart(ctx, u.key, u.storageID, n, storage.MaxPresignTTL)
		if err != nil {
			return nil, time.Time{}, storeErr("presign part", err)
		}
		out = append(out, PartURL{N: n, URL: url})
	}
	return out, s.cfg.Now().Add(storage.MaxPresignTTL), nil
}

// storedParts adds to got the parts the store holds with the right size,
// when parts may arrive there directly.
func (s *Service) storedParts(ctx context.Context, u uploadRow, got map[int]bool) error {
	pp, ok := s.store.(storage.PartPresigner)
	if !ok || !s.DirectUploads() {
		return nil
	}
	sizes, err := pp.PartSizes(ctx, u.key, u.storageID)
	if err != nil {
		return storeErr("list parts", err)
	}
	for n, size := range sizes {
		want := u.partSize
		if n == u.parts() {
			want = u.size - int64(n-1)*u.partSize
		}
		if n >= 1 && n <= u.parts() && size == want {
			got[n] = true
		}
	}
	return nil
}

// recordPart notes part n as received (ctype: the sniffed type, from part
// 1 when it passed through Préau; "" otherwise).
func (s *Service) recordPart(ctx context.Context, u uploadRow, n int, size int64, ctype string) error {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.Exec(ctx, "DELETE FROM file_upload_parts WHERE upload_id = ? AND n = ?", u.id, n); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO file_upload_parts (upload_id, n, size) VALUES (?, ?, ?)", u.id, n, size); err != nil {
			return err
		}
		if ctype != "" {
			_, err := tx.Exec(ctx, "UPDATE file_uploads SET content_type = ? WHERE id = ?", ctype, u.id)
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("files: record part: %w", err)
	}
	return nil
}

// MissingPartsError lists the parts CompleteUpload still needs.
type MissingPartsError struct{ Missing []int }

func (e *MissingPartsError) Error() string { return fmt.Sprintf("files: parts missing: %v", e.Missing) }

// Is makes errors.Is(err, ErrIncomplete) true.
func (e *MissingPartsError) Is(target error) bool { return target == ErrIncomplete }

// CompleteUpload joins the parts and commits the file; the quota is charged
// then. With parts missing it is a *MissingPartsError and the upload stays
// open for them.
func (s *Service) CompleteUpload(ctx context.Context, p *identity.Principal, id string) (Node, error) {
	u, err := s.loadUpload(ctx, p, id)
	if err != nil {
		return Node{}, err
	}
	st, err := s.describeUpload(ctx, u, true)
	if err != nil {
		return Node{}, err
	}
	got := map[int]bool{}
	for _, n := range st.Received {
		got[n] = true
	}
	var missing []int
	for n := 1; n <= u.parts(); n++ {
		if !got[n] {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return Node{}, &MissingPartsError{Missing: missing}
	}
	t, err := s.prepare(ctx, p, u.spaceID, u.parentID, u.name, u.size, s.cfg.MaxResumable)
	if err != nil {
		return Node{}, err
	}
	if err := s.up.CompleteUpload(ctx, u.key, u.storageID, u.parts()); err != nil {
		return Node{}, storeErr("complete upload", err)
	}
	// The joined object is there; from now on a failure deletes it.
	if info, err := s.store.Stat(ctx, u.key); err != nil || info.Size != u.size {
		s.dropKeys(u.key)
		s.forgetUpload(ctx, u.id)
		if err == nil {
			err = storage.ErrSize
		}
		return Node{}, storeErr("check upload", err)
	}
	if u.ctype == "" {
		// Every part went straight to the store: sniff the joined object.
		if u.ctype, err = s.sniffStored(ctx, u.key, u.size); err == nil {
			err = checkClaim(u.name, u.ctype)
		}
		if err != nil {
			s.dropKeys(u.key)
			s.forgetUpload(ctx, u.id)
			return Node{}, err
		}
	}
	n, err := s.commit(ctx, p, t, version{key: u.key, size: u.size, ctype: u.ctype})
	if err != nil {
		s.dropKeys(u.key)
		s.forgetUpload(ctx, u.id)
		return Node{}, err
	}
	s.forgetUpload(ctx, u.id)
	return n, nil
}

// sniffStored reads the first bytes of a stored object and sniffs its type.
func (s *Service) sniffStored(ctx context.Context, key string, size int64) (string, error) {
	rc, err := s.store.Get(ctx, key, 0, min(512, size))
	if err != nil {
		return "", storeErr("sniff", err)
	}
	defer rc.Close()
	head, err := io.ReadAll(io.LimitReader(rc, 512))
	if err != nil {
		return "", storeErr("sniff", err)
	}
	return Sniff(head), nil
}

// AbortUpload drops an upload and its parts.
func (s *Service) AbortUpload(ctx context.Context, p *identity.Principal, id string) error {
	u, err := s.loadUpload(ctx, p, id)
	if err != nil {
		return err
	}
	if err := s.up.AbortUpload(ctx, u.key, u.storageID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return storeErr("abort upload", err)
	}
	s.forgetUpload(ctx, u.id)
	return nil
}

func (s *Service) forgetUpload(ctx context.Context, id string) {
	if _, err := s.db.Exec(context.WithoutCancel(ctx), "DELETE FROM file_uploads WHERE id = ?", id); err != nil {
		s.log.Warn("files: forget upload", "id", id, "err", err)
	}
}

// expireUploads aborts uploads past their expiry.
func (s *Service) expireUploads(ctx context.Context) error {
	rows, err := s.db.Query(ctx, "SELECT id, storage_key, storage_upload_id FROM file_uploads WHERE expires_at_ms < ?", s.nowMs())
	if err != nil {
		return fmt.Errorf("files: expire uploads: %w", err)
	}
	type up struct{ id, key, sid string }
	var ups []up
	for rows.Next() {
		var u up
		rows.Scan(&u.id, &u.key, &u.sid)
		ups = append(ups, u)
	}
	rows.Close()
	for _, u := range ups {
		if s.up != nil {
			if err := s.up.AbortUpload(ctx, u.key, u.sid); err != nil && !errors.Is(err, storage.ErrNotFound) {
				s.log.Warn("files: abort expired upload", "id", u.id, "err", err)
				continue
			}
		}
		s.forgetUpload(ctx, u.id)
	}
	return nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
