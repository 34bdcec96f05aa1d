package files

import (
	"context"
	"errors"
	"io"

	"preau/identity"
)

// Attachments: the messaging (chat) refers to one version of a file its
// sender may read; the conversation's members then download that version
// through the chat, which checks their membership instead of the file's
// rules (docs/protocol.md, "Attachments and replies").

// AttachFolder is the folder of the sender's personal space that receives
// files uploaded from a conversation page.
const AttachFolder = "Pièces jointes"

// MaxAttachment is the largest file that may be attached to a message
// (SECURITY.md: 10 MiB in chat).
const MaxAttachment = 10 << 20

// Attachable describes one version of a file attached to a message.
type Attachable struct {
	FileID      int64
	Version     int64 // the version's number n
	Name        string
	Size        int64
	ContentType string
}

// Attachable checks that p may read file id and that it is at most
// MaxAttachment bytes, and describes its current version. A file out of
// reach is ErrNotFound; a larger one ErrTooLarge.
func (s *Service) Attachable(ctx context.Context, p *identity.Principal, id int64) (Attachable, error) {
	n, _, _, _, err := s.reach(ctx, s.db, p, id)
	if err != nil {
		return Attachable{}, err
	}
	if n.Kind != File || n.VersionID == 0 {
		return Attachable{}, ErrNotFound
	}
	a := Attachable{FileID: n.ID, Name: n.Name}
	if err := s.db.QueryRow(ctx, "SELECT n, size, content_type FROM file_versions WHERE id = ?", n.VersionID).
		Scan(&a.Version, &a.Size, &a.ContentType); err != nil {
		return Attachable{}, ErrNotFound
	}
	if a.Size > MaxAttachment {
		return Attachable{}, ErrTooLarge
	}
	return a, nil
}

// UploadAttachment stores a file sent from a conversation page in the
// folder AttachFolder of p's personal space (made on first use), under a
// free name ("nom (2).pdf" when taken), at most MaxAttachment bytes.
func (s *Service) UploadAttachment(ctx context.Context, p *identity.Principal, name string, size int64, body io.Reader) (Node, error) {
	if size > MaxAttachment {
		return Node{}, ErrTooLarge
	}
	name, err := CleanName(name)
	if err != nil {
		return Node{}, err
	}
	sp, err := s.PersonalSpace(ctx, p)
	if err != nil {
		return Node{}, err
	}
	folder, err := childByName(ctx, s.db, sp.ID, 0, AttachFolder)
	if errors.Is(err, ErrNotFound) {
		var f Node
		f, err = s.CreateFolder(ctx, p, sp.ID, 0, AttachFolder)
		if errors.Is(err, ErrExists) { // made meanwhile by another upload
			folder, err = childByName(ctx, s.db, sp.ID, 0, AttachFolder)
		} else {
			folder.ID, folder.Kind = f.ID, Folder
		}
	}
	if err != nil {
		return Node{}, err
	}
	if folder.Kind != Folder {
		return Node{}, ErrExists
	}
	if name, err = freeName(ctx, s.db, sp.ID, folder.ID, name); err != nil {
		return Node{}, err
	}
	return s.Upload(ctx, p, Upload{SpaceID: sp.ID, FolderID: folder.ID, Name: name, Size: size, Body: body})
}

// OpenVersion returns version n of a file for a download that the caller
// has authorized by other means (a conversation's membership): no access
// rule of the file is checked, and the file may since have been renamed,
// replaced or put in the bin. A version pruned or purged is ErrNotFound.
func (s *Service) OpenVersion(ctx context.Context, id, n int64) (Download, error) {
	nd, err := loadNode(ctx, s.db, id)
	if err != nil || nd.Kind != File {
		return Download{}, ErrNotFound
	}
	d := Download{Node: nd.public(readAccess)}
	if err := s.db.QueryRow(ctx, "SELECT storage_key, size, content_type, sha256 FROM file_versions WHERE node_id = ? AND n = ?",
		id, n).Scan(&d.Key, &d.Size, &d.ContentType, &d.SHA256); err != nil {
		return Download{}, ErrNotFound
	}
	return d, nil
}
