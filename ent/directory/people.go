package directory

import (
	"context"
	"fmt"
	"preau/db"
	"strconv"
	"strings"
	"time"
)

// PersonColumns lists the columns that ScanPerson reads, from the users
// table aliased a ("" for no alias), for packages that query people in their
// own SQL.
func PersonColumns(a string) string {
	if a != "" {
		a += "."
	}
	return strings.NewReplacer("@", a).Replace("@id, @login, @civility, @first_name, @last_name, @birth_date, @email, " +
		"COALESCE(@ine, ''), COALESCE(@external_id, ''), @disabled, @password_hash IS NOT NULL, @created_at")
}

var personCols = PersonColumns("")

// ScanPerson reads a row of PersonColumns.
func ScanPerson(r interface{ Scan(...any) error }, p *Person) error {
	return r.Scan(&p.ID, &p.Login, &p.Civility, &p.FirstName, &p.LastName, &p.BirthDate, &p.Email,
		&p.INE, &p.ExternalID, &p.Disabled, &p.Activated, &p.CreatedAt)
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreatePerson adds a person with a fresh identifier made from their name
// (LoginBase, with a number when taken) unless p.Login is set. It returns the
// person as stored.
func CreatePerson(ctx context.Context, q db.Querier, p Person) (Person, error) {
	p.FirstName, p.LastName = strings.TrimSpace(p.FirstName), strings.TrimSpace(p.LastName)
	if p.FirstName == "" || p.LastName == "" {
		return p, fmt.Errorf("%w: nom et prénom sont obligatoires", ErrInvalid)
	}
	if err := checkText("la fiche", p.Login, p.Civility, p.FirstName, p.LastName, p.BirthDate, p.Email, p.INE, p.ExternalID); err != nil {
		return p, err
	}
	if p.Login == "" {
		login, err := freeLogin(ctx, q, LoginBase(p.FirstName, p.LastName))
		if err != nil {
			return p, err
		}
		p.Login = login
	}
	p.CreatedAt = time.Now().Unix()
	err := q.QueryRow(ctx, `INSERT INTO users (login, civility, first_name, last_name, birth_date, email, ine, external_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		p.Login, p.Civility, p.FirstName, p.LastName, p.BirthDate, p.Email,
		nullIfEmpty(p.INE), nullIfEmpty(p.ExternalID), p.CreatedAt).Scan(&p.ID)
	if db.IsUniqueViolation(err) {
		return p, fmt.Errorf("%w: identifiant, INE ou identifiant externe déjà utilisé (%s)", ErrConflict, p.Login)
	}
	if err != nil {
		return p, fmt.Errorf("directory: create person: %w", err)
	}
	return p, nil
}

// freeLogin returns base, or base2, base3… whichever is free. It asks for
// candidates by equality, 20 at a time, so the unique index on login answers
// (a LIKE 'base%' scan would read the whole table on PostgreSQL).
func freeLogin(ctx context.Context, q db.Querier, base string) (string, error) {
	const batch = 20
	for start := 1; ; start += batch {
		cands := make([]any, 0, batch)
		for i := start; i < start+batch; i++ {
			if i == 1 {
				cands = append(cands, base)
			} else {
				cands = append(cands, base+strconv.Itoa(i))
			}
		}
		rows, err := q.Query(ctx, "SELECT login FROM users WHERE login IN (?"+strings.Repeat(", ?", batch-1)+")", cands...)
		if err != nil {
			return "", err
		}
		taken := map[string]bool{}
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				rows.Close()
				return "", err
			}
			taken[l] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
		for _, c := range cands {
			if l := c.(string); !taken[l] {
				return l, nil
			}
		}
	}
}

// UpdatePerson changes a person's directory fields (not login or password).
func UpdatePerson(ctx context.Context, q db.Querier, p Person) error {
	if strings.TrimSpace(p.FirstName) == "" || strings.TrimSpace(p.LastName) == "" {
		return fmt.Errorf("%w: nom et prénom sont obligatoires", ErrInvalid)
	}
	if err := checkText("la fiche", p.Civility, p.FirstName, p.LastName, p.BirthDate, p.Email, p.INE, p.ExternalID); err != nil {
		return err
	}
	res, err := q.Exec(ctx, `UPDATE users SET civility = ?, first_name = ?, last_name = ?, birth_date = ?, email = ?, ine = ?, external_id = ?
		WHERE id = ?`, p.Civility, strings.TrimSpace(p.FirstName), strings.TrimSpace(p.LastName), p.BirthDate, p.Email,
		nullIfEmpty(p.INE), nullIfEmpty(p.ExternalID), p.ID)
	if db.IsUniqueViolation(err) {
		return fmt.Errorf("%w: INE ou identifiant externe déjà utilisé", ErrConflict)
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// PersonBy finds a person by "id", "login", "ine" or "external_id".
func PersonBy(ctx context.Context, q db.Querier, field string, value any) (Person, error) {
	switch field {
	case "id", "login", "ine", "external_id":
	default:
		return Person{}, fmt.Errorf("directory: PersonBy %q", field)
	}
	var p Person
	err := ScanPerson(q.QueryRow(ctx, "SELECT "+personCols+" FROM users WHERE "+field+" = ?", value), &p)
	return p, notFound(err)
}

// Person returns one person.
func (s *Store) Person(ctx context.Context, id int64) (Person, error) {
	return PersonBy(ctx, s.DB, "id", id)
}
