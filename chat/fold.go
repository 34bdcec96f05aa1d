package chat

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"preau/db"
)

// Search ignores case and accents on both databases ("eleve" finds
// "Élève"): neither SQLite's LOWER (ASCII only) nor LIKE knows French, so
// each message keeps a folded copy of its body (messages.body_folded,
// migration 0009), written with the body, and Search matches the folded
// query against it with an escaped LIKE.

// ligatures are spelled out, as a French reader types them.
var ligatures = strings.NewReplacer("œ", "oe", "æ", "ae", "ß", "ss")

// Fold returns s as Search compares it: decomposed (NFD), combining marks
// removed, recomposed (NFC), lower-cased, ligatures spelled out.
func Fold(s string) string {
	if isASCII(s) {
		return strings.ToLower(s) // nothing to decompose: the common case, cheaply
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s // invalid input cannot reach here (CheckBody); fold nothing
	}
	return ligatures.Replace(strings.ToLower(out))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// foldBatch is how many rows foldPending updates per transaction.
const foldBatch = 500

// foldPending writes body_folded for the rows that have none yet (folded
// = 0): those stored before migration 0009, or by a node still running an
// older Préau. It runs before each search; the partial index
// messages_unfolded makes it one cheap lookup once everything is folded.
func (s *Store) foldPending(ctx context.Context) error {
	for {
		type row struct {
			conv, seq int64
			body      string
		}
		var todo []row
		rows, err := s.db.Query(ctx, "SELECT conversation_id, seq, body FROM messages WHERE folded = 0 ORDER BY conversation_id, seq LIMIT ?", foldBatch)
		if err != nil {
			return fmt.Errorf("chat: fold: %w", err)
		}
		for rows.Next() {
			var r row
			if err := rows.Scan(&r.conv, &r.seq, &r.body); err != nil {
				rows.Close()
				return fmt.Errorf("chat: fold: %w", err)
			}
			todo = append(todo, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("chat: fold: %w", err)
		}
		if len(todo) == 0 {
			return nil
		}
		err = s.db.InTx(ctx, func(tx *db.Tx) error {
			for _, r := range todo {
				// folded = 0 again: an edit meanwhile wrote its own fold.
				if _, err := tx.Exec(ctx, "UPDATE messages SET body_folded = ?, folded = 1 WHERE conversation_id = ? AND seq = ? AND folded = 0",
					Fold(r.body), r.conv, r.seq); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("chat: fold: %w", err)
		}
		if len(todo) < foldBatch {
			return nil
		}
	}
}
