package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"preau/chat"
)

// Search in one's conversations, and the unread counts behind the live
// badge of the home page (static/chat.js).

func (s *Server) messageSearchPages(r chi.Router) {
	r.Get("/messagerie/recherche", s.searchPage)
	r.Get("/messagerie/non-lus", s.unreadJSON)
}

type foundRow struct {
	ConvID int64
	Conv   string
	Seq    int64
	Sender string
	At     string
	Parts  []textPart
}

type searchData struct {
	Query   string
	Results []foundRow
}

func (s *Server) searchPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := currentUser(r)
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if len([]rune(q)) > 100 {
		q = string([]rune(q)[:100])
	}
	d := searchData{Query: q}
	found, err := s.chat.Search(ctx, u.UserID, q, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[int64]string{0: "Préau"}
	name := func(id int64) string {
		if n, ok := names[id]; ok {
			return n
		}
		p, err := s.dir.Person(ctx, id)
		if err != nil {
			p.FirstName = "Ancien membre"
		}
		names[id] = p.FullName()
		return names[id]
	}
	titles := map[int64]string{}
	for _, f := range found {
		title, ok := titles[f.ConversationID]
		if !ok {
			title = f.Title
			if f.Kind == chat.KindPrivate {
				ms, err := s.chat.Members(ctx, f.ConversationID)
				if err != nil {
					s.fail(w, r, err)
					return
				}
				for _, m := range ms {
					if m.UserID != u.UserID {
						title = name(m.UserID)
					}
				}
			}
			titles[f.ConversationID] = title
		}
		d.Results = append(d.Results, foundRow{ConvID: f.ConversationID, Conv: title, Seq: f.Seq, Sender: name(f.SenderID),
			At: frDateTime(time.UnixMilli(f.CreatedAtMs)), Parts: splitLinks(f.Body)})
	}
	s.render(w, r, http.StatusOK, "messages_search", view{Title: "Rechercher dans mes messages", Data: d})
}

type unreadConv struct {
	ID      int64 `json:"id"`
	LastSeq int64 `json:"last_seq"`
	Unread  int   `json:"unread"`
}

// unreadJSON gives the home page's badge its starting point: the total
// unread and, per conversation, the seq to subscribe after.
func (s *Server) unreadJSON(w http.ResponseWriter, r *http.Request) {
	list, err := s.chat.ConversationsOf(r.Context(), currentUser(r).UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Messages held for quiet hours are not counted yet: the badge
	// subscribes before the first of them, and the hub sends them when the
	// conversation opens (chat/quiet.go).
	held, err := s.chat.Held(r.Context(), currentUser(r).UserID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		Unread        int          `json:"unread"`
		Conversations []unreadConv `json:"conversations"`
	}{Conversations: []unreadConv{}}
	for _, l := range list {
		last, unread := l.LastSeq, l.Unread
		if h, ok := held[l.ID]; ok {
			last, unread = h.FirstSeq-1, max(0, unread-h.Count)
		}
		out.Unread += unread
		if len(out.Conversations) < chat.MaxSubscribe {
			out.Conversations = append(out.Conversations, unreadConv{l.ID, last, unread})
		}
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}
