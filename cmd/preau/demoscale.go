package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"preau/auth"
	"preau/db"
	"preau/demo"
)

// runDemoScale fills a database with the demo school scaled to a
// département (demo.Scale), for load tests and the heavy-page benchmark
// (docs/benchmarks.md). It must run alone on its database.
func runDemoScale(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("demo-scale", flag.ContinueOnError)
	pupils := fs.Int("eleves", 30_000, "nombre d'élèves en tout, collège de démonstration compris")
	colleges := fs.Int("colleges", 0, "nombre de collèges en tout (défaut : un pour ~526 élèves, 57 au plus)")
	password := fs.String("mot-de-passe", demo.DefaultPassword, "mot de passe de tous les comptes")
	dataDir := fs.String("data", envOr("PREAU_DATA", "./data"), "dossier des données (base SQLite) ; env PREAU_DATA")
	dbURL := fs.String("database-url", os.Getenv("PREAU_DATABASE_URL"), "URL postgres://… ; vide : SQLite dans --data ; env PREAU_DATABASE_URL")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage : preau demo-scale [--eleves 30000] [--colleges 57] [--data DOSSIER | --database-url URL]")
		fmt.Fprintln(fs.Output(), "Crée le collège de démonstration puis un département généré (classes, familles, notes, emploi du temps…).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := db.Open(ctx, db.Config{URL: *dbURL, DataDir: *dataDir})
	if err != nil {
		return err
	}
	defer d.Close()
	res, err := demo.Scale(ctx, d, auth.NewHasher(auth.Params{}), demo.ScaleOptions{Pupils: *pupils, Colleges: *colleges,
		Password: *password, Now: time.Now(), Progress: func(step string, at time.Duration) {
			fmt.Printf("%-14s %6.1f s\n", step, at.Seconds())
		}})
	if err != nil {
		return fmt.Errorf("demo-scale: %w", err)
	}
	fmt.Printf("%d collèges générés, %d classes, %d élèves, %d parents, %d enseignants\n",
		res.Colleges, res.Classes, res.Pupils, res.Parents, res.Teachers)
	fmt.Printf("%d évaluations, %d notes, %d créneaux, %d séances, %d absences, %d actualités en %s\n",
		res.Evaluations, res.Grades, res.Slots, res.Homework, res.Absences, res.Notices, res.Took.Round(100*time.Millisecond))
	fmt.Printf("Parent de deux enfants dans deux collèges : %s ; enseignant de plusieurs classes : %s\n", res.Parent, res.Teacher)
	return nil
}
