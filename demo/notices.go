package demo

import (
	"context"
	"fmt"
	"time"

	"preau/ent/notices"
	"preau/identity"
)

// The demo collège's notice board: a welcome word of the direction to
// everyone, a museum outing for which the parents of 3e A acknowledge (a
// few already have; parent.demo has not, so the button shows), the
// mathematics teacher's word to 3e A, the class photo for pupils, and a
// draft of the direction for the staff.

// notices writes the demo notices, dated around now.
func (w *writer) notices(ctx context.Context, now time.Time) error {
	id := func(login string) (int64, error) {
		var id int64
		err := w.q.QueryRow(ctx, "SELECT id FROM users WHERE login = ?", login).Scan(&id)
		if err != nil {
			return 0, fmt.Errorf("demo: notices: %s: %w", login, err)
		}
		return id, nil
	}
	head, err := id(fixedHead.login)
	if err != nil {
		return err
	}
	cpe, err := id(fixedCPE.login)
	if err != nil {
		return err
	}
	day := func(d int) string { return now.In(notices.Paris).AddDate(0, 0, d).Format(notices.DateLayout) }
	c3A := w.classes["3e A"]
	list := []notices.Notice{
		{AuthorID: head, Title: "Bienvenue sur Préau", From: day(-10), Until: day(60),
			Body: "L'espace numérique de travail du collège est ouvert à tous : emploi du temps, notes, cahier de textes, " +
				"messagerie et actualités.\n\nEn cas de difficulté, consultez l'aide : https://preau.example/aide",
			Audience: []notices.Audience{{Kind: notices.School}}},
		{AuthorID: cpe, Title: "Sortie au musée des Beaux-Arts — 3e A", From: day(-2), Until: day(14), RequiresAck: true,
			Body: "Les élèves de 3e A visiteront le musée des Beaux-Arts d'Orléans le jeudi de la semaine prochaine, " +
				"de 9 h à 12 h, accompagnés de leurs professeurs.\nDépart et retour au collège ; prévoir un goûter.\n\n" +
				"Merci de confirmer que vous avez pris connaissance de cette sortie.",
			Audience: []notices.Audience{{Kind: notices.ClassParents, ClassID: c3A}}},
		{AuthorID: w.teachers["MATHS"]["3e A"], Title: "Calculatrice obligatoire", From: day(-1), Until: day(20),
			Body:     "À partir de lundi, chaque élève apporte sa calculatrice à tous les cours de mathématiques.",
			Audience: []notices.Audience{{Kind: notices.Class, ClassID: c3A}}},
		{AuthorID: cpe, Title: "Photo de classe", From: day(0), Until: day(7),
			Body:     "La photo de classe aura lieu mardi matin dans la cour. Tenue correcte de rigueur !",
			Audience: []notices.Audience{{Kind: notices.Profile, Profile: identity.Pupil}}},
		{AuthorID: head, Title: "Conseil pédagogique (brouillon)", From: day(3), Until: day(10), Draft: true,
			Body: "Ordre du jour à compléter.", Audience: []notices.Audience{{Kind: notices.Profile, Profile: identity.Teacher}}},
	}
	var outing int64
	for i, n := range list {
		n.StructureID = w.college
		saved, err := notices.Insert(ctx, w.q, n, now.Add(time.Duration(i-len(list))*time.Hour))
		if err != nil {
			return fmt.Errorf("demo: notice %q: %w", n.Title, err)
		}
		if n.RequiresAck {
			outing = saved.ID
		}
	}
	// Three families of 3e A other than the Martins have acknowledged (one
	// parent each).
	rows, err := w.q.Query(ctx, `SELECT MIN(g.parent_id) FROM guardianships g JOIN enrolments e ON e.user_id = g.child_id
		JOIN users u ON u.id = g.child_id WHERE e.class_id = ? AND u.last_name <> ? GROUP BY g.child_id ORDER BY g.child_id LIMIT 3`,
		c3A, fixedPupil.last)
	if err != nil {
		return fmt.Errorf("demo: notices: %w", err)
	}
	var parents []int64
	for rows.Next() {
		var p int64
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return err
		}
		parents = append(parents, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i, p := range parents {
		if err := notices.InsertAck(ctx, w.q, outing, p, now.Add(-time.Duration(30+i*7)*time.Hour)); err != nil {
			return err
		}
	}
	return nil
}
