package files

import (
	"context"
	"errors"
	"io"
	"strings"

	"preau/identity"
)

// Attachments: the messaging (chat) attaches the current version of a file
// its sender may read. CopyAttachment copies that content, at send time,
// into a key of its own ("m/…") that the message keeps: replacing the file
// (and the pruning of old versions), renaming it, binning or purging it
// change nothing to what was sent. The conversation's members then download
// the copy through the chat, which checks their membership instead of the
// file's rules (docs/protocol.md, "Attachments and replies").
//
// Quota: the copy is not charged to any Documents quota. A copy belongs to
// a message, not to a space; what bounds it is the chat's own limits (5
// files of at most 10 MiB per message, 20 messages per 10 s per user), and
// the sender's Documents quota was already charged for the original. On a
// store that copies server-side (S3, MinIO) the copy costs no transfer.

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
	SHA256      string
	// Key is the message's own copy of the content (CopyAttachment); ""
	// from Attachable.
	Key string
	// src is the version's storage key, the source of the copy.
	src string
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
	if err := s.db.QueryRow(ctx, "SELECT n, size, content_type, sha256, storage_key FROM file_versions WHERE id = ?", n.VersionID).
		Scan(&a.Version, &a.Size, &a.ContentType, &a.SHA256, &a.src); err != nil {
		return Attachable{}, ErrNotFound
	}
	if a.Size > MaxAttachment {
		return Attachable{}, ErrTooLarge
	}
	return a, nil
}

// CopyAttachment checks, like Attachable, that p may read file id and that
// it is at most MaxAttachment bytes, then copies its current version's
// content into a new key that the message will own (Attachable.Key). A
// copy that ends up attached to no message (the send was refused or was a
// resend) is given back with DropAttachmentCopies.
func (s *Service) CopyAttachment(ctx context.Context, p *identity.Principal, id int64) (Attachable, error) {
	a, err := s.Attachable(ctx, p, id)
	if err != nil {
		return Attachable{}, err
	}
	key := "m/" + newID()
	if err := s.store.Copy(ctx, key, a.src); err != nil {
		// The version may have been pruned between the two steps: the
		// sender tries again with the file's new current version.
		return Attachable{}, storeErr("copy attachment", err)
	}
	a.Key = key
	return a, nil
}

// DropAttachmentCopies deletes message copies (CopyAttachment) that no
// message keeps; a failure only leaves an orphan, logged.
func (s *Service) DropAttachmentCopies(keys ...string) {
	var ours []string
	for _, k := range keys {
		if strings.HasPrefix(k, "m/") {
			ours = append(ours, k)
		}
	}
	if len(ours) > 0 {
		s.dropKeys(ours...)
	}
}

// OpenAttachmentCopy describes a message's copy for Reader, for a download
// the caller has authorized by other means (a conversation's membership).
// Node carries only the name and type: the copy has no node of its own.
func (s *Service) OpenAttachmentCopy(key, name string, size int64, contentType, sha string) (Download, error) {
	if !strings.HasPrefix(key, "m/") {
		return Download{}, ErrNotFound
	}
	return Download{Node: Node{Name: name, Kind: File, Size: size, ContentType: contentType}, Key: key, Size: size,
		ContentType: contentType, SHA256: sha}, nil
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
