package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"preau/identity"
	"preau/storage/files"
)

// Quotas in the administration (docs/files.md, "Quotas"): the défaults per
// profile and for classes (/admin/quotas, the ENT administrator only), and
// one person's or class's override on their record page (the administrator,
// and a school's direction for its own people and classes).

// quotaCard is the "Espace Documents" card of a person or class page.
type quotaCard struct {
	files.Usage
	Percent     int
	UsedText    string
	LimitText   string
	LimitMo     string // the override in Mo, "" when the default applies
	Action      string // where the form posts; "" when the viewer may not change it
	Error       string
	DefaultText string
}

// quotaCardFor builds the card, or nil when Documents are off or the viewer
// may not read the account.
func (s *Server) quotaCardFor(ctx context.Context, u *user, kind string, id int64, action string) (*quotaCard, error) {
	if s.cfg.Files == nil {
		return nil, nil
	}
	us, err := s.cfg.Files.Quota(ctx, u.Principal, kind, id)
	if errors.Is(err, files.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := &quotaCard{Usage: us, UsedText: frBytes(us.Used), LimitText: frBytes(us.Limit), Action: action}
	if us.Limit > 0 {
		c.Percent = int(min(100, us.Used*100/us.Limit))
	}
	if !us.Default {
		c.LimitMo = frMo(us.Limit)
	}
	return c, nil
}

// frMo writes bytes as a number of Mo for a form field: "500", "1,5".
func frMo(n int64) string {
	return strings.Replace(strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64), ".", ",", 1)
}

// parseMo reads a quota typed in Mo ("500", "1,5", "" for the default) into
// bytes; ok is false with a French message for anything else.
func parseMo(v string) (int64, string) {
	v = strings.TrimSpace(strings.ReplaceAll(strings.TrimSuffix(strings.TrimSpace(v), "Mo"), " ", ""))
	if v == "" {
		return 0, ""
	}
	f, err := strconv.ParseFloat(strings.Replace(v, ",", ".", 1), 64)
	if err != nil || math.IsNaN(f) || f < 1 || f > float64(files.MaxQuota>>20) {
		return 0, "Indiquez un quota en Mo entre 1 et 1 048 576 (1 To), ou laissez vide pour le quota par défaut."
	}
	return int64(math.Round(f * (1 << 20))), ""
}

// quotaLabels names the defaults in French.
var quotaLabels = map[string]string{
	"eleve": "Élèves", "parent": "Parents", "enseignant": "Enseignants", "personnel": "Personnels (vie scolaire, CDI…)",
	"direction": "Direction", "admin": "Administrateurs", files.ClassSubject: "Espace d'une classe",
}

type quotaDefaultRow struct {
	files.QuotaDefault
	Label       string
	LimitMo     string
	BuiltinText string
	LimitText   string
	Error       string
}

type quotaDefaultsData struct {
	AdminNav
	Rows []quotaDefaultRow
}

// adminQuotaUser returns the signed-in ENT administrator; anyone else gets
// 404 (the defaults apply to every school).
func (s *Server) adminQuotaUser(w http.ResponseWriter, r *http.Request) *user {
	u := s.adminUser(w, r)
	if u == nil {
		return nil
	}
	if s.cfg.Files == nil || !global(u) {
		s.notFound(w, r)
		return nil
	}
	return u
}

func (s *Server) quotaDefaultsView(ctx context.Context, u *user, typed map[string]string, errs map[string]string) (view, error) {
	ds, err := s.cfg.Files.QuotaDefaults(ctx)
	if err != nil {
		return view{}, err
	}
	d := quotaDefaultsData{AdminNav: navFor(u, "quotas")}
	for _, q := range ds {
		row := quotaDefaultRow{QuotaDefault: q, Label: quotaLabels[q.Subject], BuiltinText: frBytes(q.Builtin),
			LimitText: frBytes(q.Limit), Error: errs[q.Subject]}
		if q.Set {
			row.LimitMo = frMo(q.Limit)
		}
		if v, ok := typed[q.Subject]; ok {
			row.LimitMo = v
		}
		d.Rows = append(d.Rows, row)
	}
	return view{Title: "Quotas des documents", Data: d}, nil
}

func (s *Server) adminQuotasPage(w http.ResponseWriter, r *http.Request) {
	u := s.adminQuotaUser(w, r)
	if u == nil {
		return
	}
	v, err := s.quotaDefaultsView(r.Context(), u, nil, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.URL.Query().Get("ok") == "1" {
		v.Flash = "Les quotas par défaut sont enregistrés."
	}
	s.render(w, r, http.StatusOK, "admin_quotas", v)
}

// adminSetQuotas saves every default of the form; nothing is saved when one
// field is wrong.
func (s *Server) adminSetQuotas(w http.ResponseWriter, r *http.Request) {
	u := s.adminQuotaUser(w, r)
	if u == nil {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	ctx := r.Context()
	ds, err := s.cfg.Files.QuotaDefaults(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	typed, errs, limits := map[string]string{}, map[string]string{}, map[string]int64{}
	for _, q := range ds {
		v := r.PostForm.Get("quota_" + q.Subject)
		typed[q.Subject] = v
		n, msg := parseMo(v)
		if msg != "" {
			errs[q.Subject] = msg
		}
		limits[q.Subject] = n
	}
	if len(errs) > 0 {
		v, err := s.quotaDefaultsView(ctx, u, typed, errs)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Error = "Certains quotas sont invalides : rien n'a été enregistré."
		s.render(w, r, http.StatusBadRequest, "admin_quotas", v)
		return
	}
	for _, q := range ds {
		if err := s.cfg.Files.SetQuotaDefault(ctx, u.Principal, q.Subject, limits[q.Subject]); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, "/admin/quotas?ok=1", http.StatusSeeOther)
}

// adminSetPersonQuota sets or clears one person's override.
func (s *Server) adminSetPersonQuota(w http.ResponseWriter, r *http.Request) {
	u, sub, ok := s.personAction(w, r, func(p personRights) bool { return p.Quota })
	if !ok {
		return
	}
	n, msg := parseMo(r.PostForm.Get("quota_mo"))
	if msg != "" {
		s.personError(w, r, u, sub, nil, msg)
		return
	}
	if _, err := s.cfg.Files.SetQuota(r.Context(), u.Principal, "person", sub.ID, n); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, personURL(sub.ID, "quota"), http.StatusSeeOther)
}

// adminSetClassQuota sets or clears one class space's override.
func (s *Server) adminSetClassQuota(w http.ResponseWriter, r *http.Request) {
	u := s.adminUser(w, r)
	if u == nil {
		return
	}
	c, ok := s.adminClass(w, r, u)
	if !ok {
		return
	}
	if s.cfg.Files == nil || !adminCan(u, []identity.Target{classTarget(c)}, identity.Quota, identity.Update) {
		s.notFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.error(w, r, http.StatusBadRequest, "Formulaire illisible.")
		return
	}
	n, msg := parseMo(r.PostForm.Get("quota_mo"))
	if msg != "" {
		v, err := s.classView(r, u, c)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		v.Error = msg
		s.render(w, r, http.StatusBadRequest, "admin_class", v)
		return
	}
	if _, err := s.cfg.Files.SetQuota(r.Context(), u.Principal, "class", c.ID, n); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/classes/"+strconv.FormatInt(c.ID, 10)+"?ok=quota", http.StatusSeeOther)
}
