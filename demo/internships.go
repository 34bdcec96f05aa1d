package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"preau/ent/internships"
)

// The demo collège's internships ("Décroche ton stage"): about 600 offers
// of companies of the Loiret for the two weeks of the 3e internship period
// (the first two ISO weeks of February), generated the same way on every
// start, a few of them proposed by prof.demo, the others by the CPE; and
// applications of a few 3e pupils — two placements (so the address book
// has them), replies waiting, one refusal. eleve.demo has sent one
// application and may send more.

// DemoOffers is how many offers the demo collège gets.
const DemoOffers = 600

// loiretCommune is a commune with its postcode and how many offers it
// gets, relatively.
type loiretCommune struct {
	name, postcode string
	weight         int
}

var loiretCommunes = []loiretCommune{
	{"Orléans", "45000", 10}, {"Olivet", "45160", 3}, {"Fleury-les-Aubrais", "45400", 3}, {"Saint-Jean-de-Braye", "45800", 3},
	{"Saint-Jean-de-la-Ruelle", "45140", 2}, {"Saran", "45770", 2}, {"Ingré", "45140", 1}, {"La Chapelle-Saint-Mesmin", "45380", 1},
	{"Saint-Jean-le-Blanc", "45650", 1}, {"Saint-Denis-en-Val", "45560", 1}, {"Chécy", "45430", 1}, {"Saint-Pryvé-Saint-Mesmin", "45750", 1},
	{"Montargis", "45200", 2}, {"Amilly", "45200", 1}, {"Pithiviers", "45300", 2}, {"Gien", "45500", 2}, {"Briare", "45250", 1},
	{"Beaugency", "45190", 1}, {"Meung-sur-Loire", "45130", 1}, {"Jargeau", "45150", 1}, {"Sully-sur-Loire", "45600", 1},
	{"Châteauneuf-sur-Loire", "45110", 1}, {"Neuville-aux-Bois", "45170", 1}, {"Le Malesherbois", "45330", 1},
}

var demoStreets = []string{"rue de la République", "rue Jeanne d'Arc", "avenue de Paris", "rue Nationale", "rue des Écoles",
	"avenue du Général de Gaulle", "rue Victor Hugo", "rue de la Gare", "boulevard Jean Jaurès", "rue Pasteur", "rue de la Loire",
	"rue du Commerce", "place du Marché", "rue des Carmes", "allée des Tilleuls", "rue de Bourgogne", "zone d'activités des Montées"}

// demoCompanies are, per sector code, kinds of companies: %s is a
// surname, {commune} the commune.
var demoCompanies = map[string][]string{
	"agriculture":   {"EARL %s", "Pépinières %s", "Clinique vétérinaire %s", "Jardinerie %s", "Haras %s", "Horticulture %s"},
	"alimentation":  {"Boulangerie %s", "Pâtisserie %s", "Boucherie %s", "Restaurant Chez %s", "Crêperie %s", "Fromagerie %s", "Traiteur %s"},
	"artisanat":     {"Ébénisterie %s", "Atelier de reliure %s", "Ferronnerie %s", "Fleuriste %s", "Tapisserie %s", "Poterie %s"},
	"automobile":    {"Garage %s", "Carrosserie %s", "Transports %s", "Moto Service %s", "Auto-école %s", "Contrôle technique de {commune}"},
	"banque":        {"Agence immobilière %s", "Cabinet d'assurances %s", "Cabinet comptable %s", "Banque du Centre, agence de {commune}"},
	"batiment":      {"Menuiserie %s", "Plomberie %s", "Électricité %s", "Maçonnerie %s", "Peinture %s", "Charpente %s", "Couverture %s"},
	"commerce":      {"Librairie %s", "Supérette %s", "Sports %s", "Optique %s", "Quincaillerie %s", "Bricolage de {commune}"},
	"communication": {"Imprimerie %s", "Studio photo %s", "Agence de communication %s", "Médiathèque de {commune}", "Cinéma de {commune}"},
	"droit":         {"Mairie de {commune}", "Étude de Maître %s", "Cabinet d'avocats %s", "Communauté de communes de {commune}"},
	"education":     {"École élémentaire de {commune}", "Centre de loisirs de {commune}", "Club de football de {commune}", "Piscine de {commune}", "Crèche de {commune}"},
	"industrie":     {"Logistique %s", "Emballages %s", "Métallerie %s", "Entrepôts %s", "Énergies %s"},
	"informatique":  {"%s Informatique", "Web Agence %s", "Réparation PC %s", "%s Numérique", "Studio jeux vidéo %s"},
	"sante":         {"Pharmacie %s", "Cabinet de kinésithérapie %s", "EHPAD de {commune}", "Cabinet dentaire %s", "Laboratoire %s", "Cabinet infirmier %s"},
	"securite":      {"Centre de secours de {commune}", "Police municipale de {commune}", "Sécurité %s"},
	"tourisme":      {"Hôtel %s", "Camping de {commune}", "Office de tourisme de {commune}", "Gîte %s", "Base de loisirs de {commune}"},
	"beaute":        {"Salon de coiffure %s", "Institut de beauté %s", "Barbier %s", "Boutique de mode %s", "Retouches %s"},
}

var demoDescriptions = []string{
	"Accueil d'un élève de 3e pour découvrir nos métiers : observation aux côtés de l'équipe, participation aux tâches simples.",
	"Vous suivrez une journée type de l'entreprise, de l'ouverture à la fermeture. Tenue correcte demandée.",
	"Découverte de l'entreprise et de ses différents postes. Horaires : 9 h – 12 h et 14 h – 17 h.",
	"Petite équipe accueillante : l'élève observera le travail quotidien et pourra poser toutes ses questions.",
	"Stage d'observation : présentation des métiers, visite des locaux, accompagnement d'un professionnel.",
}

// internshipWeeks are the two weeks of the 3e internship period of the
// school year that began in startYear.
func internshipWeeks(startYear int) []string {
	return []string{fmt.Sprintf("%04d-W05", startYear+1), fmt.Sprintf("%04d-W06", startYear+1)}
}

// demoSlug makes an e-mail local part: "Émilie Martin" → "emilie.martin".
func demoSlug(s string) string { return strings.ReplaceAll(internships.Fold(s), " ", ".") }

// internshipOffers generates the demo offers of the school, authored by
// cpe, every 25th by teacher.
func internshipOffers(school, cpe, teacher int64, startYear int) []internships.Offer {
	r := rand.New(rand.NewPCG(2026, 45))
	var sectors []string
	for _, s := range internships.Sectors {
		sectors = append(sectors, s.Code)
	}
	total := 0
	for _, c := range loiretCommunes {
		total += c.weight
	}
	french := origins[0]
	weeks := internshipWeeks(startYear)
	seen := map[string]bool{}
	out := make([]internships.Offer, 0, DemoOffers)
	for len(out) < DemoOffers {
		n := r.IntN(total)
		c := loiretCommunes[0]
		for _, x := range loiretCommunes {
			if n < x.weight {
				c = x
				break
			}
			n -= x.weight
		}
		sector := sectors[r.IntN(len(sectors))]
		kind := pick(r, demoCompanies[sector])
		name := strings.ReplaceAll(strings.ReplaceAll(kind, "{commune}", c.name), " de Le ", " du ")
		if strings.Contains(name, "%s") {
			name = fmt.Sprintf(name, pick(r, french.last))
		}
		if seen[name+"|"+c.name] {
			continue
		}
		seen[name+"|"+c.name] = true
		woman := r.IntN(2) == 0
		first, civ := french.adultName(r, woman), "M."
		if woman {
			civ = "Mme"
		}
		last := pick(r, french.last)
		o := internships.Offer{StructureID: school, Company: name, Sector: sector,
			Address: fmt.Sprintf("%d %s, %s", 1+r.IntN(120), pick(r, demoStreets), c.postcode), Commune: c.name,
			Weeks: weeks[:1+r.IntN(2)], Places: 1 + r.IntN(3), Description: pick(r, demoDescriptions),
			ContactName: civ + " " + first + " " + last, ContactEmail: demoSlug(first) + "." + demoSlug(last) + "@exemple.fr",
			ContactPhone: fmt.Sprintf("02 38 %02d %02d %02d", r.IntN(100), r.IntN(100), r.IntN(100)), AuthorID: cpe}
		if r.IntN(2) == 0 {
			o.Weeks = weeks[r.IntN(2):]
		}
		if len(out)%25 == 0 {
			o.AuthorID = teacher
		}
		out = append(out, o)
	}
	return out
}

// internships writes the offers and the demo applications.
func (w *writer) internships(ctx context.Context, now time.Time) error {
	id := func(login string) (int64, error) {
		var id int64
		err := w.q.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", login).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("demo: internships: %s: %w", login, err)
		}
		return id, nil
	}
	cpe, err := id(fixedCPE.login)
	if err != nil {
		return err
	}
	teacher, err := id(fixedTeacher.login)
	if err != nil {
		return err
	}
	lea, err := id(fixedPupil.login)
	if err != nil {
		return err
	}
	offers := internshipOffers(w.college, cpe, teacher, startYear(now))
	for i := range offers {
		if err := internships.NormalizeOffer(&offers[i]); err != nil {
			return fmt.Errorf("demo: offer %q: %w", offers[i].Company, err)
		}
	}
	at := now.AddDate(0, 0, -14)
	if err := internships.InsertOffers(ctx, w.q, offers, at); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	var first int64
	if err := w.q.QueryRow(ctx, "SELECT MIN(id) FROM internship_offers WHERE structure_id = ?", w.college).Scan(&first); err != nil {
		return fmt.Errorf("demo: internships: %w", err)
	}
	pupils := func(class string) ([]int64, error) {
		rows, err := w.q.Query(ctx, "SELECT user_id FROM enrolments WHERE class_id = ? AND user_id <> ? ORDER BY user_id LIMIT 4", w.classes[class], lea)
		if err != nil {
			return nil, fmt.Errorf("demo: internships: %w", err)
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
	a3, err := pupils("3e A")
	if err != nil {
		return err
	}
	b3, err := pupils("3e B")
	if err != nil {
		return err
	}
	if len(a3) < 4 || len(b3) < 2 {
		return fmt.Errorf("demo: internships: too few 3e pupils")
	}
	const msg = "Bonjour,\n\nJe suis en 3e au collège Jean Zay d'Orléans et je cherche un stage d'observation. " +
		"Votre métier m'intéresse beaucoup et je serais très heureux de le découvrir auprès de vous.\n\nMerci de votre attention."
	// offer index, pupil, final status.
	for _, x := range []struct {
		offer int64
		pupil int64
		to    []string
	}{
		{3, a3[0], []string{internships.Read, internships.Accepted}},
		{5, a3[1], nil},
		{8, a3[1], []string{internships.Read}},
		{13, a3[2], []string{internships.Refused}},
		{21, b3[0], []string{internships.Accepted}},
		{34, b3[1], nil},
		{55, lea, nil},
	} {
		a, err := internships.ApplyIn(ctx, w.q, internships.Application{OfferID: first + x.offer, PupilID: x.pupil, Message: msg}, at.Add(time.Hour))
		if err != nil {
			return fmt.Errorf("demo: application: %w", err)
		}
		for i, to := range x.to {
			if err := internships.MoveIn(ctx, w.q, a.ID, to, cpe, "", at.Add(time.Duration(48+24*i)*time.Hour)); err != nil {
				return fmt.Errorf("demo: application: %w", err)
			}
		}
	}
	return nil
}
