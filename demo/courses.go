package demo

import (
	"context"
	"fmt"
	"time"

	"preau/ent/courses"
)

// The demo collège's online course: prof.demo's maths course for 3e A,
// two chapters of Markdown lessons, a link and the class's live lesson,
// all published — plus one draft that only prof.demo sees.

// courseChapter is a chapter of the demo course and its items.
type courseChapter struct {
	title string
	items []courses.Item
}

var demoCourse = struct {
	title, summary string
	chapters       []courseChapter
}{
	title:   "Théorème de Pythagore",
	summary: "Le cours du chapitre 7, avec des exercices pour s'entraîner à la maison.\n\nLes questions se posent dans la discussion de la classe.",
	chapters: []courseChapter{
		{"1. Découvrir le théorème", []courses.Item{
			{Kind: courses.Text, Title: "Le cours", PublishedAt: 1, Body: "## Énoncé\n\n" +
				"Dans un triangle **rectangle**, le carré de la longueur de l'hypoténuse est égal à la somme des carrés des longueurs des deux autres côtés :\n\n" +
				"> Si ABC est rectangle en A, alors BC² = AB² + AC².\n\n" +
				"## Exemple\n\n1. AB = 3 cm et AC = 4 cm.\n2. BC² = 9 + 16 = 25.\n3. Donc BC = 5 cm.\n\n" +
				"Pour revoir la démonstration : [la vidéo de Lumni](https://www.lumni.fr/)."},
			{Kind: courses.Link, Title: "Animation : le puzzle de Pythagore", URL: "https://www.geogebra.org/", PublishedAt: 1},
			{Kind: courses.Live, Title: "Classe virtuelle du mercredi", PublishedAt: 1},
		}},
		{"2. S'entraîner", []courses.Item{
			{Kind: courses.Text, Title: "Exercices", PublishedAt: 1, Body: "Faites les exercices dans l'ordre :\n\n" +
				"- [ ] exercice 5 p. 142 (calculer une hypoténuse) ;\n- [ ] exercice 6 p. 142 (calculer un autre côté) ;\n" +
				"- [ ] exercice 7 p. 142 (*la réciproque*).\n\nLes corrigés seront publiés vendredi."},
			{Kind: courses.Text, Title: "Corrigés", Body: "Corrigés des exercices 5 à 7 — à publier vendredi."},
		}},
	},
}

// courses writes the demo course of 3e A by its maths teacher (prof.demo).
func (w *writer) courses(ctx context.Context, now time.Time) error {
	class, teacher := w.classes["3e A"], w.teachers["MATHS"]["3e A"]
	if class == 0 || teacher == 0 {
		return nil // a smaller demo plan without 3e A maths
	}
	id, err := courses.Insert(ctx, w.q, courses.Course{ClassID: class, AuthorID: teacher, Title: demoCourse.title, Summary: demoCourse.summary}, now)
	if err != nil {
		return fmt.Errorf("demo: course: %w", err)
	}
	for _, ch := range demoCourse.chapters {
		chID, err := courses.InsertChapter(ctx, w.q, id, ch.title)
		if err != nil {
			return fmt.Errorf("demo: course chapter: %w", err)
		}
		for _, it := range ch.items {
			if _, err := courses.InsertItem(ctx, w.q, chID, it, now); err != nil {
				return fmt.Errorf("demo: course item %q: %w", it.Title, err)
			}
		}
	}
	return nil
}
