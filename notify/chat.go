package notify

import (
	"context"
	"strings"
	"time"

	"preau/chat"
)

// ChatSource is the Source of the chat's conversations.
type ChatSource struct {
	Store *chat.Store
}

var _ Source = ChatSource{}

// UnreadBefore implements Source with chat.Store.UnreadForDigest.
func (c ChatSource) UnreadBefore(ctx context.Context, before time.Time) ([]Unread, error) {
	items, err := c.Store.UnreadForDigest(ctx, before)
	if err != nil {
		return nil, err
	}
	out := make([]Unread, len(items))
	for i, it := range items {
		out[i] = Unread{UserID: it.UserID, Email: it.Email, Name: strings.TrimSpace(it.FirstName + " " + it.LastName),
			Kind: string(it.Kind), Title: it.Title, Count: it.Unread, Newest: time.UnixMilli(it.NewestMs)}
	}
	return out, nil
}
