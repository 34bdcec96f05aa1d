package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"preau/chat"
	"preau/identity"
	"preau/storage/files"
)

// Attachments of the Messagerie (docs/protocol.md, "Chat"): a file of the
// sender's Documents, or one uploaded from the conversation page into its
// "Pièces jointes" folder, is sent by id in the WebSocket's send frame; the
// conversation's members download it here, by membership.

// ChatFiles adapts the Documents to chat.FileResolver: main hands it to the
// hub with chat.Hub.SetFiles so that messages may carry attachments.
type ChatFiles struct{ Files *files.Service }

// ResolveAttachment checks that p may read the file and copies its current
// version for the message (files.Service.CopyAttachment).
func (c ChatFiles) ResolveAttachment(ctx context.Context, p *identity.Principal, id int64) (chat.Attachment, error) {
	a, err := c.Files.CopyAttachment(ctx, p, id)
	if err != nil {
		return chat.Attachment{}, err
	}
	return chat.Attachment{FileID: a.FileID, Version: a.Version, Name: a.Name, Size: a.Size, ContentType: a.ContentType,
		Key: a.Key, SHA256: a.SHA256}, nil
}

// DropAttachments deletes copies that no stored message keeps.
func (c ChatFiles) DropAttachments(keys []string) { c.Files.DropAttachmentCopies(keys...) }

func (s *Server) attachmentPages(r chi.Router) {
	r.Get("/messagerie/{id}/pieces-jointes/{seq}/{n}", s.attachmentDownload)
	// Raw body, ≤ 10 MiB: its own limit rather than MaxBody.
	r.Post("/messagerie/{id}/pieces-jointes", s.attachmentUpload)
}

// attachmentUpload stores a file sent from a conversation page
// (?name=, raw body with Content-Length) in the sender's "Pièces jointes"
// and answers its id, name and size as JSON, for the next send frame.
func (s *Server) attachmentUpload(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Files == nil {
		s.notFound(w, r)
		return
	}
	if _, ok := s.conversation(w, r); !ok {
		return
	}
	if r.ContentLength < 0 {
		apiError(w, http.StatusLengthRequired, "length_required", "La taille du fichier (Content-Length) est requise.")
		return
	}
	if r.ContentLength > files.MaxAttachment {
		apiError(w, http.StatusRequestEntityTooLarge, "too_large", "Une pièce jointe fait 10 Mo au plus.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, files.MaxAttachment)
	n, err := s.cfg.Files.UploadAttachment(r.Context(), currentUser(r).Principal, r.URL.Query().Get("name"), r.ContentLength, r.Body)
	if errors.Is(err, files.ErrTooLarge) {
		apiError(w, http.StatusRequestEntityTooLarge, "too_large", "Une pièce jointe fait 10 Mo au plus.")
		return
	}
	if err != nil {
		s.fileError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
		Size int64  `json:"size"`
	}{n.ID, n.Name, n.Size})
}

// attachmentDownload sends attachment n of message seq to a member of the
// conversation: always as an attachment (RFC 6266) with nosniff and a
// sandboxing CSP, under the name it had when sent, from the message's own
// copy. Anything else — not a member, a deleted message, a version no
// longer kept for an attachment sent before copies existed — is 404.
func (s *Server) attachmentDownload(w http.ResponseWriter, r *http.Request) {
	conv, ok1 := idParam(r, "id")
	seq, ok2 := idParam(r, "seq")
	n, ok3 := idParam(r, "n")
	if !ok1 || !ok2 || !ok3 || n > chat.MaxAttachments || s.cfg.Files == nil {
		s.notFound(w, r)
		return
	}
	a, err := s.chat.Attachment(r.Context(), conv, seq, int(n), currentUser(r).UserID)
	if errors.Is(err, chat.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var d files.Download
	if a.Key != "" {
		d, err = s.cfg.Files.OpenAttachmentCopy(a.Key, a.Name, a.Size, a.ContentType, a.SHA256)
	} else {
		d, err = s.cfg.Files.OpenVersion(r.Context(), a.FileID, a.Version)
	}
	if errors.Is(err, files.ErrNotFound) {
		s.notFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.serveDownload(w, r, d, a.Name, d.Node.CreatedAt)
}

// attachmentRow is an attachment as the page shows it.
type attachmentRow struct {
	Href, Name, Size string
}

func attachmentRows(conv int64, m chat.Message) []attachmentRow {
	if m.DeletedAtMs != 0 {
		return nil
	}
	out := make([]attachmentRow, 0, len(m.Attachments))
	for i, a := range m.Attachments {
		out = append(out, attachmentRow{
			Href: "/messagerie/" + strconv.FormatInt(conv, 10) + "/pieces-jointes/" + strconv.FormatInt(m.Seq, 10) + "/" + strconv.Itoa(i+1),
			Name: a.Name, Size: frBytes(a.Size)})
	}
	return out
}
