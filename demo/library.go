package demo

import (
	"context"
	"fmt"
	"time"

	"preau/ent/library"
)

// The demo collège's CDI: about sixty titles — classics of the collège
// programmes, youth novels, comics and documentaries — with one to three
// copies each; eleve.demo has a book out, a pupil of 3e B is late with
// another (the overdue list has a line), and a pupil of 6e A has a
// reservation ready at the desk. The titles carry no ISBN: the demo does
// not invent numbers that would look like real ones.

// demoBook is a title of the demo catalogue: authors and subjects
// separated by ';'.
type demoBook struct {
	title, authors string
	year           int
	subjects, cote string
	copies         int
}

var demoCatalogue = []demoBook{
	{"Le Petit Prince", "Saint-Exupéry, Antoine de", 1943, "Conte; Philosophie", "R SAI", 3},
	{"Vingt mille lieues sous les mers", "Verne, Jules", 1870, "Roman; Aventure; Science-fiction", "R VER", 3},
	{"Le Tour du monde en quatre-vingts jours", "Verne, Jules", 1872, "Roman; Aventure", "R VER", 2},
	{"L'Île mystérieuse", "Verne, Jules", 1875, "Roman; Aventure", "R VER", 1},
	{"Le Horla", "Maupassant, Guy de", 1887, "Nouvelle; Fantastique", "R MAU", 3},
	{"Contes du jour et de la nuit", "Maupassant, Guy de", 1885, "Nouvelle", "R MAU", 1},
	{"Les Misérables", "Hugo, Victor", 1862, "Roman; Histoire", "R HUG", 2},
	{"Notre-Dame de Paris", "Hugo, Victor", 1831, "Roman; Histoire; Moyen Âge", "R HUG", 1},
	{"Le Dernier Jour d'un condamné", "Hugo, Victor", 1829, "Roman; Peine de mort", "R HUG", 2},
	{"L'Avare", "Molière", 1668, "Théâtre; Comédie", "T MOL", 3},
	{"Le Bourgeois gentilhomme", "Molière", 1670, "Théâtre; Comédie", "T MOL", 2},
	{"Les Fourberies de Scapin", "Molière", 1671, "Théâtre; Comédie", "T MOL", 3},
	{"Le Malade imaginaire", "Molière", 1673, "Théâtre; Comédie", "T MOL", 2},
	{"Le Cid", "Corneille, Pierre", 1637, "Théâtre; Tragédie", "T COR", 2},
	{"Antigone", "Anouilh, Jean", 1944, "Théâtre; Mythologie", "T ANO", 2},
	{"Fables", "La Fontaine, Jean de", 1668, "Poésie; Fable", "P LAF", 2},
	{"Les Contemplations", "Hugo, Victor", 1856, "Poésie", "P HUG", 1},
	{"Alcools", "Apollinaire, Guillaume", 1913, "Poésie", "P APO", 1},
	{"Paroles", "Prévert, Jacques", 1946, "Poésie", "P PRE", 2},
	{"Le Journal d'Anne Frank", "Frank, Anne", 1947, "Témoignage; Seconde Guerre mondiale; Shoah", "940 FRA", 2},
	{"Un sac de billes", "Joffo, Joseph", 1973, "Récit; Seconde Guerre mondiale", "R JOF", 3},
	{"L'Ami retrouvé", "Uhlman, Fred", 1971, "Roman; Seconde Guerre mondiale", "R UHL", 2},
	{"No et moi", "Vigan, Delphine de", 2007, "Roman; Société", "R VIG", 2},
	{"Vendredi ou la Vie sauvage", "Tournier, Michel", 1971, "Roman; Aventure", "R TOU", 2},
	{"Le Lion", "Kessel, Joseph", 1958, "Roman; Animaux; Afrique", "R KES", 2},
	{"L'Enfant et la Rivière", "Bosco, Henri", 1945, "Roman; Enfance", "R BOS", 2},
	{"La Gloire de mon père", "Pagnol, Marcel", 1957, "Autobiographie; Enfance; Provence", "R PAG", 2},
	{"Le Château de ma mère", "Pagnol, Marcel", 1957, "Autobiographie; Enfance; Provence", "R PAG", 1},
	{"Les Contes du chat perché", "Aymé, Marcel", 1939, "Conte; Animaux", "R AYM", 2},
	{"Le Passe-muraille", "Aymé, Marcel", 1943, "Nouvelle; Fantastique", "R AYM", 1},
	{"Matin brun", "Pavloff, Franck", 1998, "Nouvelle; Citoyenneté", "R PAV", 3},
	{"Harry Potter à l'école des sorciers", "Rowling, J. K.", 1997, "Roman; Fantasy", "R ROW", 1},
	{"Harry Potter et la Chambre des secrets", "Rowling, J. K.", 1998, "Roman; Fantasy", "R ROW", 1},
	{"Le Hobbit", "Tolkien, J. R. R.", 1937, "Roman; Fantasy", "R TOL", 2},
	{"La Communauté de l'anneau", "Tolkien, J. R. R.", 1954, "Roman; Fantasy", "R TOL", 1},
	{"Eragon", "Paolini, Christopher", 2002, "Roman; Fantasy; Dragons", "R PAO", 1},
	{"Hunger Games", "Collins, Suzanne", 2008, "Roman; Science-fiction; Dystopie", "R COL", 1},
	{"Le Grand Meaulnes", "Alain-Fournier", 1913, "Roman; Adolescence", "R ALA", 1},
	{"Poil de carotte", "Renard, Jules", 1894, "Roman; Enfance", "R REN", 2},
	{"Lettres de mon moulin", "Daudet, Alphonse", 1869, "Conte; Provence", "R DAU", 2},
	{"Le Chien des Baskerville", "Conan Doyle, Arthur", 1902, "Roman; Policier", "R DOY", 2},
	{"Le Mystère de la chambre jaune", "Leroux, Gaston", 1907, "Roman; Policier", "R LER", 1},
	{"Ils étaient dix", "Christie, Agatha", 1939, "Roman; Policier", "R CHR", 2},
	{"L'Appel de la forêt", "London, Jack", 1903, "Roman; Aventure; Animaux", "R LON", 2},
	{"Croc-Blanc", "London, Jack", 1906, "Roman; Aventure; Animaux", "R LON", 2},
	{"L'Île au trésor", "Stevenson, Robert Louis", 1883, "Roman; Aventure; Pirates", "R STE", 2},
	{"Robinson Crusoé", "Defoe, Daniel", 1719, "Roman; Aventure", "R DEF", 1},
	{"Les Aventures de Tom Sawyer", "Twain, Mark", 1876, "Roman; Aventure", "R TWA", 1},
	{"Frankenstein", "Shelley, Mary", 1818, "Roman; Fantastique; Science-fiction", "R SHE", 1},
	{"Dracula", "Stoker, Bram", 1897, "Roman; Fantastique", "R STO", 1},
	{"L'Odyssée", "Homère", 0, "Épopée; Mythologie; Antiquité", "R HOM", 3},
	{"Le Roman de Renart", "", 0, "Moyen Âge; Conte; Animaux", "R ROM", 2},
	{"Tristan et Iseut", "", 0, "Moyen Âge; Légende", "R TRI", 1},
	{"Astérix le Gaulois", "Goscinny, René; Uderzo, Albert", 1961, "Bande dessinée; Humour; Antiquité", "BD GOS", 2},
	{"Le Lotus bleu", "Hergé", 1936, "Bande dessinée; Aventure; Chine", "BD HER", 2},
	{"Persepolis", "Satrapi, Marjane", 2000, "Bande dessinée; Autobiographie; Iran", "BD SAT", 1},
	{"Maus", "Spiegelman, Art", 1986, "Bande dessinée; Shoah; Seconde Guerre mondiale", "BD SPI", 1},
	{"Le Système solaire", "", 0, "Documentaire; Astronomie; Sciences", "523 SYS", 2},
	{"Le Corps humain", "", 0, "Documentaire; Sciences de la vie; Santé", "612 COR", 2},
	{"Volcans et séismes", "", 0, "Documentaire; Géologie; Sciences", "551 VOL", 1},
	{"La Révolution française", "", 0, "Documentaire; Histoire", "944 REV", 2},
	{"Atlas du monde", "", 0, "Documentaire; Géographie", "912 ATL", 2},
	{"Les Dinosaures", "", 0, "Documentaire; Paléontologie; Sciences", "567 DIN", 1},
	{"Dictionnaire de français collège", "", 0, "Dictionnaire; Langue française", "443 DIC", 3},
}

// library writes the demo catalogue, then the loans and the reservation.
func (w *writer) library(ctx context.Context, now time.Time) error {
	ids := map[string]int64{}
	for _, b := range demoCatalogue {
		bk := library.Book{StructureID: w.college, Title: b.title, Year: b.year, Authors: []string{b.authors},
			Subjects: []string{b.subjects}}
		out, err := library.InsertBook(ctx, w.q, bk, b.cote, b.copies, now)
		if err != nil {
			return fmt.Errorf("demo: library %q: %w", b.title, err)
		}
		ids[b.title] = out.ID
	}
	var doc int64
	if err := w.q.QueryRow(ctx, "SELECT user_id FROM roles WHERE structure_id = ? AND function = ?", w.college,
		fixedLibrary.function).Scan(&doc); err != nil {
		return fmt.Errorf("demo: library: documentaliste: %w", err)
	}
	pupil := func(login, class string) (int64, error) {
		var id int64
		var err error
		if login != "" {
			err = w.q.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", login).Scan(&id)
		} else {
			err = w.q.QueryRow(ctx, `SELECT e.user_id FROM enrolments e JOIN users u ON u.id = e.user_id
				WHERE e.class_id = ? ORDER BY u.last_name, u.first_name, u.id LIMIT 1`, w.classes[class]).Scan(&id)
		}
		if err != nil {
			return 0, fmt.Errorf("demo: library: pupil %s%s: %w", login, class, err)
		}
		return id, nil
	}
	lea, err := pupil(fixedPupil.login, "")
	if err != nil {
		return err
	}
	late, err := pupil("", "3e B")
	if err != nil {
		return err
	}
	reader, err := pupil("", "6e A")
	if err != nil {
		return err
	}
	day := func(d int) string { return library.Today(now.AddDate(0, 0, d)) }
	firstCopy := func(title string) (int64, error) {
		var id int64
		err := w.q.QueryRow(ctx, "SELECT id FROM library_copies WHERE book_id = ? AND state = 'available' ORDER BY id LIMIT 1", ids[title]).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("demo: library: copy of %q: %w", title, err)
		}
		return id, nil
	}
	for _, l := range []struct {
		title  string
		person int64
		lent   int
	}{
		{"Le Petit Prince", lea, -5},
		{"Harry Potter à l'école des sorciers", late, -30}, // due 9 days ago: overdue
		{"Le Lion", reader, -10},
	} {
		c, err := firstCopy(l.title)
		if err != nil {
			return err
		}
		if err := library.InsertLoan(ctx, w.q, c, l.person, doc, day(l.lent), day(l.lent+library.DefaultLoanDays),
			now.AddDate(0, 0, l.lent)); err != nil {
			return fmt.Errorf("demo: library loan: %w", err)
		}
	}
	return library.InsertReservation(ctx, w.q, ids["Hunger Games"], reader, now.Add(-2*time.Hour))
}
