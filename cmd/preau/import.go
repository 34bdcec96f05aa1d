package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"preau/db"
	"preau/ent/directory"
	"preau/ent/directory/csvimport"
)

// runImport loads one CSV file of pupils, parents or teachers into the
// directory (see package csvimport), and writes the activation codes of the
// new accounts to a CSV file for the school to hand out.
func runImport(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	uai := fs.String("uai", "", "code UAI de l'établissement, ex. 0451234A (obligatoire)")
	typ := fs.String("type", "", "contenu du fichier : eleves, parents ou enseignants (deviné d'après les en-têtes si absent)")
	dryRun := fs.Bool("dry-run", false, "simulation : affiche les changements sans rien enregistrer")
	codes := fs.String("codes", "", "fichier CSV des codes d'activation des nouveaux comptes\n(défaut : codes-activation-UAI-type-AAAAMMJJ-HHMMSS.csv, créé seulement s'il y a de nouveaux comptes)")
	stName := fs.String("nom-etablissement", "", "crée l'établissement --uai s'il n'existe pas encore, avec ce nom")
	stKind := fs.String("type-etablissement", directory.College, "avec --nom-etablissement : college ou lycee")
	verbose := fs.Bool("v", false, "affiche chaque création et modification (toujours en simulation)")
	dataDir := fs.String("data", envOr("PREAU_DATA", "./data"), "dossier des données (base SQLite) ; env PREAU_DATA")
	dbURL := fs.String("database-url", os.Getenv("PREAU_DATABASE_URL"), "URL postgres://… ; vide : SQLite dans --data ; env PREAU_DATABASE_URL")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage : preau import --uai 0451234A [--type eleves|parents|enseignants] [--dry-run] [--codes codes.csv] FICHIER.csv")
		fmt.Fprintln(fs.Output(), "Importe élèves, responsables ou enseignants d'un fichier CSV (UTF-8 ou Latin-1, séparateur ; , ou tabulation).")
		fmt.Fprintln(fs.Output(), "Le fichier est appliqué en entier ou pas du tout ; FICHIER peut être - (entrée standard).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import: un fichier CSV est attendu")
	}
	if *uai == "" {
		return errors.New("import: --uai est obligatoire")
	}
	kind, err := csvimport.ParseKind(*typ)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}

	in, name := io.Reader(os.Stdin), "entrée standard"
	if path := fs.Arg(0); path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Size() > csvimport.MaxFileSize {
			return fmt.Errorf("import: %s : %w", path, csvimport.ErrFileTooLarge)
		}
		in, name = f, path
	}

	d, err := db.Open(ctx, db.Config{URL: *dbURL, DataDir: *dataDir})
	if err != nil {
		return err
	}
	defer d.Close()

	if *stName != "" {
		if _, err := directory.StructureByUAI(ctx, d, *uai); errors.Is(err, directory.ErrNotFound) {
			if _, err := directory.CreateStructure(ctx, d, directory.Structure{UAI: *uai, Name: *stName, Kind: *stKind}); err != nil {
				return fmt.Errorf("import: établissement : %w", err)
			}
			fmt.Printf("établissement %s créé : %s\n", strings.ToUpper(*uai), *stName)
		} else if err != nil {
			return err
		}
	}

	started := time.Now()
	codesPath := *codes
	if codesPath == "" {
		codesPath = fmt.Sprintf("codes-activation-%s-%s-%s.csv", *uai, kind, started.Format("20060102-150405"))
		if kind == "" {
			codesPath = fmt.Sprintf("codes-activation-%s-%s.csv", *uai, started.Format("20060102-150405"))
		}
	}
	out := &lazyFile{path: codesPath}
	opt := csvimport.Options{UAI: *uai, Kind: kind, DryRun: *dryRun, Codes: out}
	if *dryRun || *verbose {
		opt.Changes = os.Stdout
	}
	rep, err := csvimport.Import(ctx, d, in, opt)
	if err != nil {
		out.discard()
		return fmt.Errorf("import de %s : %w", name, err)
	}
	if err := out.commit(); err != nil {
		return fmt.Errorf("import: codes d'activation : %w (l'import est enregistré ; réémettez les codes depuis l'administration)", err)
	}
	mode := ""
	if *dryRun {
		mode = " (simulation : rien n'a été enregistré)"
	}
	fmt.Printf("%s : %d lignes, %d créés, %d modifiés, %d inchangés, %d codes d'activation — %.1f s%s\n",
		rep.Kind.Label(), rep.Rows, rep.Created, rep.Updated, rep.Unchanged, rep.Codes, time.Since(started).Seconds(), mode)
	if out.f != nil {
		fmt.Printf("codes d'activation des nouveaux comptes : %s (à distribuer, valables 72 h)\n", codesPath)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// lazyFile is created on the first write, as a temporary file next to path
// (readable by the owner only: it holds activation codes); commit renames it
// into place, discard removes it.
type lazyFile struct {
	path string
	f    *os.File
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if l.f == nil {
		f, err := os.CreateTemp(filepath.Dir(l.path), ".codes-*.tmp")
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	return l.f.Write(p)
}

func (l *lazyFile) commit() error {
	if l.f == nil {
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return err
	}
	if err := l.f.Close(); err != nil {
		return err
	}
	return os.Rename(l.f.Name(), l.path)
}

func (l *lazyFile) discard() {
	if l.f != nil {
		l.f.Close()
		os.Remove(l.f.Name())
		l.f = nil
	}
}
