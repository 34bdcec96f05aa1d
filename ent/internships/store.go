package internships

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"preau/db"
)

// Store keeps offers, applications and the address book in the database.
type Store struct {
	db  *db.DB
	now func() time.Time
}

// New returns a store over d.
func New(d *db.DB) *Store { return &Store{db: d, now: time.Now} }

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// ThirdClass returns the pupil's 3e class of this school year in the school
// (its id and name); ErrNotFound when they have none.
func ThirdClass(ctx context.Context, q db.Querier, pupil, structure int64) (int64, string, error) {
	var id int64
	var name string
	err := q.QueryRow(ctx, `SELECT c.id, c.name FROM enrolments e JOIN classes c ON c.id = e.class_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current
		WHERE e.user_id = ? AND c.structure_id = ? AND c.level = ? AND c.kind = 'class' ORDER BY c.id LIMIT 1`,
		pupil, structure, Level).Scan(&id, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", ErrNotFound
	}
	if err != nil {
		return 0, "", fmt.Errorf("internships: class: %w", err)
	}
	return id, name, nil
}

// PupilSchools returns the schools where the pupil is in a 3e class this
// year (where they may apply).
func (s *Store) PupilSchools(ctx context.Context, pupil int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT DISTINCT c.structure_id FROM enrolments e JOIN classes c ON c.id = e.class_id
		JOIN school_years y ON y.id = c.year_id AND y.is_current
		WHERE e.user_id = ? AND c.level = ? AND c.kind = 'class'`, pupil, Level)
	if err != nil {
		return nil, fmt.Errorf("internships: pupil schools: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ---- offers -------------------------------------------------------------------

const offerColumns = `id, structure_id, company, sector, address, commune, weeks, places, taken, description,
	contact_name, contact_email, contact_phone, author_id, created_at_ms, updated_at_ms`

func scanOffer(r interface{ Scan(...any) error }, o *Offer) error {
	var weeks string
	var created, updated int64
	if err := r.Scan(&o.ID, &o.StructureID, &o.Company, &o.Sector, &o.Address, &o.Commune, &weeks, &o.Places, &o.Taken,
		&o.Description, &o.ContactName, &o.ContactEmail, &o.ContactPhone, &o.AuthorID, &created, &updated); err != nil {
		return err
	}
	o.Weeks, o.CreatedAt, o.UpdatedAt = splitWeeks(weeks), time.UnixMilli(created), time.UnixMilli(updated)
	return nil
}

// Filter chooses offers: of some schools (or all), of a sector, in a
// commune (accents and case ignored, its beginning is enough), on an ISO
// week, with a free place; Limit (default and cap 100) from Offset.
type Filter struct {
	Structures []int64
	AllSchools bool
	Sector     string
	Commune    string
	Week       string
	FreeOnly   bool
	Limit      int
	Offset     int
}

func (f Filter) where() (string, []any, bool) {
	var conds []string
	var args []any
	if !f.AllSchools {
		if len(f.Structures) == 0 {
			return "", nil, false
		}
		conds = append(conds, "structure_id IN ("+placeholders(len(f.Structures))+")")
		args = append(args, int64Args(f.Structures)...)
	}
	if f.Sector != "" {
		conds = append(conds, "sector = ?")
		args = append(args, f.Sector)
	}
	if c := Fold(f.Commune); c != "" {
		conds = append(conds, "commune_key LIKE ?")
		args = append(args, c+"%")
	}
	if f.Week != "" {
		conds = append(conds, "weeks LIKE ?")
		args = append(args, "%,"+f.Week+",%")
	}
	if f.FreeOnly {
		conds = append(conds, "taken < places")
	}
	if len(conds) == 0 {
		conds = append(conds, "1 = 1")
	}
	return strings.Join(conds, " AND "), args, true
}

// Offers returns a page of the filter's offers, by company, and how many
// match in all.
func (s *Store) Offers(ctx context.Context, f Filter) ([]Offer, int, error) {
	w, args, ok := f.where()
	if !ok {
		return nil, 0, nil
	}
	var total int
	if err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM internship_offers WHERE "+w, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("internships: count offers: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 100 {
		f.Limit = 100
	}
	rows, err := s.db.Query(ctx, "SELECT "+offerColumns+" FROM internship_offers WHERE "+w+
		fmt.Sprintf(" ORDER BY company, id LIMIT %d OFFSET %d", f.Limit, max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("internships: offers: %w", err)
	}
	defer rows.Close()
	out := []Offer{}
	for rows.Next() {
		var o Offer
		if err := scanOffer(rows, &o); err != nil {
			return nil, 0, fmt.Errorf("internships: offers: %w", err)
		}
		out = append(out, o)
	}
	return out, total, rows.Err()
}

// Offer returns one offer, whoever asks.
func (s *Store) Offer(ctx context.Context, id int64) (Offer, error) { return offer(ctx, s.db, id) }

func offer(ctx context.Context, q db.Querier, id int64) (Offer, error) {
	var o Offer
	err := scanOffer(q.QueryRow(ctx, "SELECT "+offerColumns+" FROM internship_offers WHERE id = ?", id), &o)
	if errors.Is(err, sql.ErrNoRows) {
		return o, ErrNotFound
	}
	if err != nil {
		return o, fmt.Errorf("internships: offer: %w", err)
	}
	return o, nil
}

func checkStructure(ctx context.Context, q db.Querier, id int64) error {
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM structures WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return invalid("cet établissement n'existe pas")
	}
	return err
}

// CreateOffer checks and stores a new offer (its school and author set by
// the caller).
func (s *Store) CreateOffer(ctx context.Context, o Offer) (Offer, error) {
	if err := NormalizeOffer(&o); err != nil {
		return o, err
	}
	if err := checkStructure(ctx, s.db, o.StructureID); err != nil {
		return o, err
	}
	at := s.now().UnixMilli()
	var id int64
	err := s.db.QueryRow(ctx, `INSERT INTO internship_offers (`+insertColumns+`) VALUES (`+placeholders(15)+`) RETURNING id`,
		offerArgs(o, at)...).Scan(&id)
	if err != nil {
		return o, fmt.Errorf("internships: create offer: %w", err)
	}
	return s.Offer(ctx, id)
}

const insertColumns = `structure_id, company, sector, address, commune, commune_key, weeks, places,
	description, contact_name, contact_email, contact_phone, author_id, created_at_ms, updated_at_ms`

func offerArgs(o Offer, at int64) []any {
	return []any{o.StructureID, o.Company, o.Sector, o.Address, o.Commune, Fold(o.Commune), joinWeeks(o.Weeks),
		o.Places, o.Description, o.ContactName, o.ContactEmail, o.ContactPhone, o.AuthorID, at, at}
}

// InsertOffers stores offers, already normalized, in rows of 50 (the demo
// writes its hundreds of offers this way, inside its transaction).
func InsertOffers(ctx context.Context, q db.Querier, os []Offer, at time.Time) error {
	const chunk = 50
	for len(os) > 0 {
		n := min(len(os), chunk)
		var b strings.Builder
		b.WriteString("INSERT INTO internship_offers (" + insertColumns + ") VALUES ")
		args := make([]any, 0, n*15)
		for i, o := range os[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(15) + ")")
			args = append(args, offerArgs(o, at.UnixMilli())...)
		}
		if _, err := q.Exec(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("internships: insert offers: %w", err)
		}
		os = os[n:]
	}
	return nil
}

// UpdateOffer replaces an offer's fields (its school and author stay). Its
// places may not drop below the placements already accepted: the check is
// the UPDATE's own condition.
func (s *Store) UpdateOffer(ctx context.Context, o Offer) (Offer, error) {
	if err := NormalizeOffer(&o); err != nil {
		return o, err
	}
	res, err := s.db.Exec(ctx, `UPDATE internship_offers SET company = ?, sector = ?, address = ?, commune = ?, commune_key = ?,
		weeks = ?, places = ?, description = ?, contact_name = ?, contact_email = ?, contact_phone = ?, updated_at_ms = ?
		WHERE id = ? AND taken <= ?`, o.Company, o.Sector, o.Address, o.Commune, Fold(o.Commune), joinWeeks(o.Weeks), o.Places,
		o.Description, o.ContactName, o.ContactEmail, o.ContactPhone, s.now().UnixMilli(), o.ID, o.Places)
	if err != nil {
		return o, fmt.Errorf("internships: update offer: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		old, err := s.Offer(ctx, o.ID)
		if err != nil {
			return o, err
		}
		return o, invalid("%d élèves ont déjà été acceptés : il faut au moins %d places", old.Taken, old.Taken)
	}
	return s.Offer(ctx, o.ID)
}

// DeleteOffer removes an offer. Applications keep what they sent; those
// still waiting are refused ("offre retirée"); accepted ones stay.
func (s *Store) DeleteOffer(ctx context.Context, id, by int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := offer(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE internship_applications SET status = ?, note = ?, decided_by = ?, updated_at_ms = ?
			WHERE offer_id = ? AND status IN (?, ?)`, Refused, "Offre retirée par l'établissement.", by, s.now().UnixMilli(), id, Sent, Read); err != nil {
			return fmt.Errorf("internships: delete offer: %w", err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM internship_offers WHERE id = ?", id); err != nil {
			return fmt.Errorf("internships: delete offer: %w", err)
		}
		return nil
	})
}

// ---- applications -------------------------------------------------------------

const appColumns = `a.id, a.offer_id, a.structure_id, a.pupil_id, u.first_name || ' ' || u.last_name, a.class_id, c.name,
	a.company, a.sector, a.commune, a.weeks, a.contact_name, a.contact_email, a.contact_phone, a.message,
	a.cv_file_id, a.cv_version, a.cv_name, a.cv_size, a.cv_content_type, a.cv_sha256, a.cv_key,
	a.status, a.note, a.decided_by, a.created_at_ms, a.updated_at_ms`

const appFrom = ` FROM internship_applications a JOIN users u ON u.id = a.pupil_id JOIN classes c ON c.id = a.class_id`

func loadApplications(ctx context.Context, q db.Querier, where string, args ...any) ([]Application, error) {
	rows, err := q.Query(ctx, "SELECT "+appColumns+appFrom+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("internships: applications: %w", err)
	}
	defer rows.Close()
	out := []Application{}
	for rows.Next() {
		var a Application
		var cv CV
		var weeks string
		var created, updated int64
		if err := rows.Scan(&a.ID, &a.OfferID, &a.StructureID, &a.PupilID, &a.PupilName, &a.ClassID, &a.ClassName,
			&a.Company, &a.Sector, &a.Commune, &weeks, &a.ContactName, &a.ContactEmail, &a.ContactPhone, &a.Message,
			&cv.FileID, &cv.Version, &cv.Name, &cv.Size, &cv.ContentType, &cv.SHA256, &cv.Key,
			&a.Status, &a.Note, &a.DecidedBy, &created, &updated); err != nil {
			return nil, fmt.Errorf("internships: applications: %w", err)
		}
		if cv.Key != "" {
			a.CV = &cv
		}
		a.Weeks, a.CreatedAt, a.UpdatedAt = splitWeeks(weeks), time.UnixMilli(created), time.UnixMilli(updated)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Application returns one application, whoever asks.
func (s *Store) Application(ctx context.Context, id int64) (Application, error) {
	return application(ctx, s.db, id)
}

func application(ctx context.Context, q db.Querier, id int64) (Application, error) {
	as, err := loadApplications(ctx, q, "a.id = ?", id)
	if err != nil {
		return Application{}, err
	}
	if len(as) == 0 {
		return Application{}, ErrNotFound
	}
	return as[0], nil
}

// AppFilter chooses applications: of some pupils, or of some classes, or
// of one offer (the first set wins), newest first.
type AppFilter struct {
	Pupils  []int64
	Classes []int64
	OfferID int64
}

// Applications lists the filter's applications.
func (s *Store) Applications(ctx context.Context, f AppFilter) ([]Application, error) {
	switch {
	case len(f.Pupils) > 0:
		return loadApplications(ctx, s.db, "a.pupil_id IN ("+placeholders(len(f.Pupils))+") ORDER BY a.created_at_ms DESC, a.id DESC",
			int64Args(f.Pupils)...)
	case len(f.Classes) > 0:
		return loadApplications(ctx, s.db, "a.class_id IN ("+placeholders(len(f.Classes))+") ORDER BY a.created_at_ms DESC, a.id DESC",
			int64Args(f.Classes)...)
	case f.OfferID != 0:
		return loadApplications(ctx, s.db, "a.offer_id = ? ORDER BY a.created_at_ms DESC, a.id DESC", f.OfferID)
	}
	return []Application{}, nil
}

// Apply stores a pupil's application to an offer: a.OfferID, a.PupilID,
// a.Message and (optionally) a.CV, whose copy the caller made. Only a
// pupil of a 3e class of the offer's school applies, once per offer, while
// they have no placement, to an offer with a free place.
func (s *Store) Apply(ctx context.Context, a Application) (Application, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		a, err = ApplyIn(ctx, tx, a, s.now())
		return err
	})
	if err != nil {
		return a, err
	}
	return s.Application(ctx, a.ID)
}

// ApplyIn is Apply inside the caller's transaction, as of at (the demo
// school writes its applications this way).
func ApplyIn(ctx context.Context, tx db.Querier, a Application, at time.Time) (Application, error) {
	var err error
	if a.Message, err = NormalizeMessage(a.Message); err != nil {
		return a, err
	}
	err = apply(ctx, tx, &a, at)
	return a, err
}

// apply checks an application against the offer and the pupil's others,
// then stores it (a.ID and the offer's copy filled in).
func apply(ctx context.Context, tx db.Querier, a *Application, at time.Time) error {
	o, err := offer(ctx, tx, a.OfferID)
	if err != nil {
		return err
	}
	a.ClassID, _, err = ThirdClass(ctx, tx, a.PupilID, o.StructureID)
	if errors.Is(err, ErrNotFound) {
		return invalid("seuls les élèves de 3e de l'établissement peuvent candidater")
	}
	if err != nil {
		return err
	}
	var placed, open, here int
	if err := tx.QueryRow(ctx, `SELECT
			COALESCE(SUM(CASE WHEN status = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status IN (?, ?) THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN offer_id = ? AND status IN (?, ?, ?) THEN 1 ELSE 0 END), 0)
			FROM internship_applications WHERE pupil_id = ?`, Accepted, Sent, Read, o.ID, Sent, Read, Accepted, a.PupilID).
		Scan(&placed, &open, &here); err != nil {
		return fmt.Errorf("internships: apply: %w", err)
	}
	switch {
	case here > 0:
		return invalid("vous avez déjà candidaté à cette offre")
	case placed > 0:
		return invalid("vous avez déjà un stage accepté : retirez-le avant de candidater ailleurs")
	case open >= MaxOpen:
		return invalid("vous avez déjà %d candidatures en attente de réponse", MaxOpen)
	case o.Free() == 0:
		return ErrFull
	}
	a.StructureID, a.Company, a.Sector, a.Commune, a.Weeks = o.StructureID, o.Company, o.Sector, o.Commune, o.Weeks
	a.ContactName, a.ContactEmail, a.ContactPhone, a.Status = o.ContactName, o.ContactEmail, o.ContactPhone, Sent
	cv := CV{}
	if a.CV != nil {
		cv = *a.CV
	}
	now := at.UnixMilli()
	err = tx.QueryRow(ctx, `INSERT INTO internship_applications (offer_id, structure_id, pupil_id, class_id, company, sector,
			commune, weeks, contact_name, contact_email, contact_phone, message, cv_file_id, cv_version, cv_name, cv_size,
			cv_content_type, cv_sha256, cv_key, status, created_at_ms, updated_at_ms)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.OfferID, a.StructureID, a.PupilID, a.ClassID, a.Company, a.Sector, a.Commune, joinWeeks(a.Weeks),
		a.ContactName, a.ContactEmail, a.ContactPhone, a.Message, cv.FileID, cv.Version, cv.Name, cv.Size,
		cv.ContentType, cv.SHA256, cv.Key, Sent, now, now).Scan(&a.ID)
	if db.IsUniqueViolation(err) {
		return invalid("vous avez déjà candidaté à cette offre")
	}
	if err != nil {
		return fmt.Errorf("internships: apply: %w", err)
	}
	return nil
}

// Move changes an application's status (the caller checked MayMove): by
// is who records it, note an optional remark. Accepting takes a place of
// the offer with a conditional UPDATE (taken < places) in the same
// transaction, so that two acceptances racing for the last place never
// both succeed (ErrFull for the second); it writes the company into the
// address book. Withdrawing an accepted application gives its place back.
func (s *Store) Move(ctx context.Context, id int64, to string, by int64, note string) (Application, error) {
	err := s.db.InTx(ctx, func(tx *db.Tx) error { return MoveIn(ctx, tx, id, to, by, note, s.now()) })
	if err != nil {
		return Application{}, err
	}
	return s.Application(ctx, id)
}

// MoveIn is Move inside the caller's transaction, as of at.
func MoveIn(ctx context.Context, tx db.Querier, id int64, to string, by int64, note string, at time.Time) error {
	note, err := NormalizeNote(note)
	if err != nil {
		return err
	}
	a, err := application(ctx, tx, id)
	if err != nil {
		return err
	}
	if !CanGo(a.Status, to) {
		return invalid("cette candidature est « %s » : elle ne peut plus devenir « %s »", StatusLabel(a.Status), StatusLabel(to))
	}
	now := at.UnixMilli()
	if to == Accepted {
		res, err := tx.Exec(ctx, "UPDATE internship_offers SET taken = taken + 1, updated_at_ms = ? WHERE id = ? AND taken < places", now, a.OfferID)
		if err != nil {
			return fmt.Errorf("internships: take a place: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := offer(ctx, tx, a.OfferID); errors.Is(err, ErrNotFound) {
				return invalid("cette offre a été retirée")
			}
			return ErrFull
		}
	}
	res, err := tx.Exec(ctx, `UPDATE internship_applications SET status = ?, note = ?, decided_by = ?, updated_at_ms = ?
			WHERE id = ? AND status = ?`, to, note, by, now, id, a.Status)
	if db.IsUniqueViolation(err) {
		return invalid("cet élève a déjà un stage accepté")
	}
	if err != nil {
		return fmt.Errorf("internships: move: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return invalid("la candidature vient de changer : rechargez la page")
	}
	switch {
	case to == Accepted:
		return remember(ctx, tx, a, now)
	case a.Status == Accepted && to == Withdrawn:
		if _, err := tx.Exec(ctx, "UPDATE internship_offers SET taken = taken - 1 WHERE id = ? AND taken > 0", a.OfferID); err != nil {
			return fmt.Errorf("internships: free a place: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE internship_companies SET placements = placements - 1
				WHERE structure_id = ? AND name_key = ? AND commune_key = ? AND placements > 0`,
			a.StructureID, Fold(a.Company), Fold(a.Commune)); err != nil {
			return fmt.Errorf("internships: address book: %w", err)
		}
	}
	return nil
}

// remember writes the company of an accepted application into the address
// book, or counts one more pupil taken.
func remember(ctx context.Context, q db.Querier, a Application, now int64) error {
	var address string
	if err := q.QueryRow(ctx, "SELECT address FROM internship_offers WHERE id = ?", a.OfferID).Scan(&address); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("internships: address book: %w", err)
	}
	_, err := q.Exec(ctx, `INSERT INTO internship_companies (structure_id, name, name_key, sector, address, commune, commune_key,
		contact_name, contact_email, contact_phone, placements, last_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
		ON CONFLICT (structure_id, name_key, commune_key) DO UPDATE SET name = excluded.name, sector = excluded.sector,
		address = excluded.address, commune = excluded.commune, contact_name = excluded.contact_name,
		contact_email = excluded.contact_email, contact_phone = excluded.contact_phone,
		placements = internship_companies.placements + 1, last_at_ms = excluded.last_at_ms`,
		a.StructureID, a.Company, Fold(a.Company), a.Sector, address, a.Commune, Fold(a.Commune),
		a.ContactName, a.ContactEmail, a.ContactPhone, now)
	if err != nil {
		return fmt.Errorf("internships: address book: %w", err)
	}
	return nil
}

// ---- follow-up ----------------------------------------------------------------

// Follow-up summaries of a pupil.
const (
	Placed  = "placed"  // an accepted application
	Waiting = "waiting" // applications waiting for a reply
	Nothing = "nothing" // no application, or all refused or withdrawn
)

// FollowRow is one pupil of a class in the follow-up.
type FollowRow struct {
	PupilID      int64         `json:"pupil_id"`
	PupilName    string        `json:"pupil_name"`
	Summary      string        `json:"summary"`
	Company      string        `json:"company,omitempty"` // the placement's
	Applications []Application `json:"applications"`
}

// SummaryLabel is the summary in French.
func (r FollowRow) SummaryLabel() string {
	switch r.Summary {
	case Placed:
		return "Stage trouvé"
	case Waiting:
		return "En attente de réponse"
	}
	if len(r.Applications) > 0 {
		return "Sans stage pour l'instant"
	}
	return "Aucune candidature"
}

// FollowUp returns the pupils of a class with their applications and
// whether they have found a placement, by name.
func (s *Store) FollowUp(ctx context.Context, classID int64) ([]FollowRow, error) {
	rows, err := s.db.Query(ctx, `SELECT u.id, u.first_name || ' ' || u.last_name FROM enrolments e JOIN users u ON u.id = e.user_id
		WHERE e.class_id = ? ORDER BY u.last_name, u.first_name, u.id`, classID)
	if err != nil {
		return nil, fmt.Errorf("internships: follow-up: %w", err)
	}
	out := []FollowRow{}
	idx := map[int64]int{}
	var ids []int64
	for rows.Next() {
		var r FollowRow
		if err := rows.Scan(&r.PupilID, &r.PupilName); err != nil {
			rows.Close()
			return nil, fmt.Errorf("internships: follow-up: %w", err)
		}
		r.Summary, r.Applications = Nothing, []Application{}
		idx[r.PupilID] = len(out)
		ids = append(ids, r.PupilID)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return out, err
	}
	as, err := s.Applications(ctx, AppFilter{Pupils: ids})
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		r := &out[idx[a.PupilID]]
		r.Applications = append(r.Applications, a)
		switch {
		case a.Status == Accepted:
			r.Summary, r.Company = Placed, a.Company
		case (a.Status == Sent || a.Status == Read) && r.Summary != Placed:
			r.Summary = Waiting
		}
	}
	return out, nil
}

// ---- address book -------------------------------------------------------------

// CompanyFilter chooses entries of the address book: of some schools (or
// all), of a sector, in a commune (as Filter).
type CompanyFilter struct {
	Structures []int64
	AllSchools bool
	Sector     string
	Commune    string
}

const companyColumns = `id, structure_id, name, sector, address, commune, contact_name, contact_email, contact_phone, placements, last_at_ms`

func scanCompany(r interface{ Scan(...any) error }, c *Company) error {
	var last int64
	err := r.Scan(&c.ID, &c.StructureID, &c.Name, &c.Sector, &c.Address, &c.Commune, &c.ContactName, &c.ContactEmail,
		&c.ContactPhone, &c.Placements, &last)
	c.LastAt = time.UnixMilli(last)
	return err
}

// Companies lists the address book's companies that took pupils, by name
// (500 at most).
func (s *Store) Companies(ctx context.Context, f CompanyFilter) ([]Company, error) {
	fl := Filter{Structures: f.Structures, AllSchools: f.AllSchools, Sector: f.Sector, Commune: f.Commune}
	w, args, ok := fl.where()
	if !ok {
		return []Company{}, nil
	}
	rows, err := s.db.Query(ctx, "SELECT "+companyColumns+" FROM internship_companies WHERE placements > 0 AND "+w+
		" ORDER BY name_key, id LIMIT 500", args...)
	if err != nil {
		return nil, fmt.Errorf("internships: companies: %w", err)
	}
	defer rows.Close()
	out := []Company{}
	for rows.Next() {
		var c Company
		if err := scanCompany(rows, &c); err != nil {
			return nil, fmt.Errorf("internships: companies: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Company returns one entry of the address book.
func (s *Store) Company(ctx context.Context, id int64) (Company, error) {
	var c Company
	err := scanCompany(s.db.QueryRow(ctx, "SELECT "+companyColumns+" FROM internship_companies WHERE id = ?", id), &c)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("internships: company: %w", err)
	}
	return c, nil
}

// DeleteCompany removes an entry of the address book (a company that asks
// not to be listed).
func (s *Store) DeleteCompany(ctx context.Context, id int64) error {
	if _, err := s.db.Exec(ctx, "DELETE FROM internship_companies WHERE id = ?", id); err != nil {
		return fmt.Errorf("internships: delete company: %w", err)
	}
	return nil
}
