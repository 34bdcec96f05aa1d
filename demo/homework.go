package demo

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"preau/ent/homework"
	"preau/ent/timetable"
)

// The demo collège's homework book: for each lesson of the timetable from
// Monday of last week to today, the séance its teacher wrote, and for most
// of them the work to do for the class's next lesson of the subject — so
// that the "à faire" list of eleve.demo has work for tomorrow and the days
// after, one of it already ticked.

// lessonPlan is a séance and, when work is not empty, what to do for next
// time.
type lessonPlan struct{ title, content, work string }

// lessons per subject code, used in turn.
var lessons = map[string][]lessonPlan{
	"MATHS": {
		{"Fractions : comparer et additionner", "Rappel : pour additionner deux fractions, on les met au même dénominateur.\n\nExemples traités en classe : 1/2 + 1/3, 3/4 − 2/5.", "Exercices 12 et 13 p. 58."},
		{"Fractions : multiplier", "Produit de deux fractions ; simplification avant le calcul.", "Apprendre la propriété du cours ; exercice 21 p. 60."},
		{"Théorème de Pythagore", "Énoncé du théorème et de sa réciproque.\n\nVidéo conseillée : https://www.lumni.fr/", "Exercices 5, 6 et 7 p. 142."},
		{"Correction du devoir maison", "Correction détaillée ; les erreurs les plus fréquentes.", ""},
	},
	"FRANCAIS": {
		{"Lecture : Le Horla, de Maupassant", "Lecture analytique des premières pages du journal.", "Lire jusqu'à la page 32 et noter les signes de l'angoisse du narrateur."},
		{"Grammaire : les propositions subordonnées", "Relative, conjonctive, circonstancielle : repérer le mot subordonnant.", "Exercices 2 et 4 p. 210."},
		{"Expression écrite", "Préparation de la rédaction : un récit fantastique à la première personne.", "Rédiger le brouillon du premier paragraphe (15 lignes)."},
	},
	"HISTGEO": {
		{"La Première Guerre mondiale", "Une guerre totale : mobilisation des soldats et des civils.", "Apprendre la leçon et les dates clés (1914, 1916, 1918)."},
		{"Géographie : les aires urbaines", "Étude de cas : l'aire urbaine d'Orléans.", "Compléter le croquis commencé en classe."},
	},
	"ANGLAIS": {
		{"Unit 3: A trip to London", "Vocabulary of transport and directions; the present perfect.", "Learn the vocabulary list p. 45; exercise 3 p. 46."},
		{"Speaking: describing a picture", "Useful phrases: in the foreground, in the background…", "Prepare a one-minute description of the photo p. 48."},
	},
	"ESPAGNOL": {
		{"Unidad 2: la vida en Madrid", "Le présent des verbes irréguliers (ser, ir, tener).", "Apprendre les conjugaisons ; exercice 1 p. 34."},
	},
	"SVT": {
		{"La digestion", "Le trajet des aliments ; rôle des enzymes (expérience de l'amylase).", "Schéma de l'appareil digestif à légender (fiche distribuée)."},
		{"Le système nerveux", "Du stimulus à la réponse : récepteur, nerf, centre nerveux, effecteur.", "Apprendre le schéma bilan."},
	},
	"PHYCHI": {
		{"Les circuits électriques", "Loi d'unicité de l'intensité dans un circuit en série ; mesures à l'ampèremètre.", "Exercices 8 et 9 p. 112."},
		{"Masse volumique", "ρ = m / V ; mesure de la masse volumique de l'eau et de l'huile.", "Compte rendu du TP à terminer."},
	},
	"TECHNO": {
		{"Projet : la maison connectée", "Analyse du besoin ; cahier des charges en groupe.", "Rechercher deux exemples d'objets connectés et leur fonction."},
	},
	"EPS": {
		{"Course de demi-fond", "Échauffement, puis 3 × 6 minutes à allure régulière.", ""},
		{"Badminton", "Le service et le dégagé ; matchs en simple.", ""},
	},
	"ARTPLA": {
		{"L'objet détourné", "Observation d'œuvres de Marcel Duchamp et d'Arman.", "Apporter un petit objet du quotidien pour la prochaine séance."},
	},
	"EDMUS": {
		{"Chant : répétition", "Travail du refrain et de la deuxième voix.", "Réécouter l'enregistrement et apprendre le premier couplet."},
	},
}

type demoSlot struct {
	subjectID, teacherID int64
	code                 string
	weekday              int
}

// homework writes the lessons of every collège class since Monday of last
// week, then ticks eleve.demo's first work.
func (w *writer) homework(ctx context.Context, now time.Time) error {
	codes := map[int64]string{}
	for code, id := range w.subjects {
		codes[id] = code
	}
	var start, end string
	if err := w.q.QueryRow(ctx, `SELECT y.starts_on, y.ends_on FROM classes c JOIN school_years y ON y.id = c.year_id WHERE c.id = ?`,
		w.classes[collegeClasses[0].name]).Scan(&start, &end); err != nil {
		return fmt.Errorf("demo: homework: year: %w", err)
	}
	today := now.In(timetable.Paris).Format(timetable.DateLayout)
	from := timetable.Monday(now).AddDate(0, 0, -7)
	for _, c := range collegeClasses {
		class := w.classes[c.name]
		rows, err := w.q.Query(ctx, "SELECT subject_id, COALESCE(teacher_id, 0), weekday FROM timetable_slots WHERE class_id = ? ORDER BY weekday, start_min", class)
		if err != nil {
			return fmt.Errorf("demo: homework: slots: %w", err)
		}
		var slots []demoSlot
		for rows.Next() {
			var s demoSlot
			if err := rows.Scan(&s.subjectID, &s.teacherID, &s.weekday); err != nil {
				rows.Close()
				return err
			}
			s.code = codes[s.subjectID]
			slots = append(slots, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		// nextLesson is the date of the class's next lesson of a subject
		// after day (within three weeks).
		nextLesson := func(subject int64, day time.Time) string {
			for d := day.AddDate(0, 0, 1); d.Before(day.AddDate(0, 0, 21)); d = d.AddDate(0, 0, 1) {
				for _, s := range slots {
					if s.subjectID == subject && s.weekday == int(d.Weekday()) {
						return d.Format(timetable.DateLayout)
					}
				}
			}
			return day.AddDate(0, 0, 7).Format(timetable.DateLayout)
		}
		turn := map[string]int{}
		for day := from; day.Format(timetable.DateLayout) <= today; day = day.AddDate(0, 0, 1) {
			date := day.Format(timetable.DateLayout)
			if date < start || date > end {
				continue
			}
			done := map[int64]bool{} // one entry per subject and day
			for _, s := range slots {
				plans := lessons[s.code]
				if s.weekday != int(day.Weekday()) || s.teacherID == 0 || len(plans) == 0 || done[s.subjectID] {
					continue
				}
				done[s.subjectID] = true
				p := plans[turn[s.code]%len(plans)]
				turn[s.code]++
				e := homework.Entry{ClassID: class, SubjectID: s.subjectID, AuthorID: s.teacherID, LessonOn: date, Title: p.title, Content: p.content}
				if due := nextLesson(s.subjectID, day); p.work != "" && due <= end {
					e.Items = []homework.Item{{Description: p.work, DueOn: due, Minutes: 20 + 10*(turn[s.code]%3)}}
				}
				if _, err := homework.Insert(ctx, w.q, e, now); err != nil {
					return fmt.Errorf("demo: homework %s %s %s: %w", c.name, s.code, date, err)
				}
			}
		}
	}
	// eleve.demo has already done her first work due after today.
	var lea, item int64
	if err := w.q.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", fixedPupil.login).Scan(&lea); err != nil {
		return fmt.Errorf("demo: homework: %s: %w", fixedPupil.login, err)
	}
	err := w.q.QueryRow(ctx, `SELECT i.id FROM homework_items i JOIN homework_entries e ON e.id = i.entry_id
		WHERE e.class_id = ? AND i.due_on > ? ORDER BY i.due_on, i.id LIMIT 1`, w.classes[fixedPupil.class], today).Scan(&item)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // no work ahead (the end of the school year)
	}
	if err != nil {
		return fmt.Errorf("demo: homework: %w", err)
	}
	if _, err := w.q.Exec(ctx, "INSERT INTO homework_done (item_id, pupil_id, done_at) VALUES (?, ?, ?)", item, lea, now.Unix()); err != nil {
		return fmt.Errorf("demo: homework: tick: %w", err)
	}
	return nil
}
