package csvimport

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Synthetic files for tests and measurements. They are made up: names drawn
// from short lists, INE numbers that follow the shape only.

var (
	genFirst = []string{"Léa", "Hugo", "Chloé", "Lucas", "Inès", "Maël", "Zoé", "Noé", "Anaïs", "Théo", "Jade",
		"Gabriel", "Manon", "Raphaël", "Éléonore", "Loïc", "Sarah", "Adam", "Agathe", "Mathéo", "Clémence",
		"Yanis", "Océane", "Jérôme", "Françoise", "Hélène", "Benoît", "Cécile", "Aurélien", "Maëlys"}
	genLast = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
		"Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent",
		"Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François",
		"Martinez", "Légaré", "Benoît", "Gaillard", "Chevalier", "Perrin", "Faure", "Rousseau", "Blanc", "Guérin",
		"Muller", "Henry", "Roussel", "Nicolas", "Perret", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez",
		"Fontaine", "Brun", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillot", "Barbier", "Arnaud", "Œhmichen"}
)

// GenINE is the INE GeneratePupils gives pupil i for seed.
func GenINE(seed int64, i int) string {
	return fmt.Sprintf("%010d%c", (uint64(seed)*1_000_003+uint64(i))%10_000_000_000, 'A'+rune(i%26))
}

// GenClass is the class GeneratePupils puts pupil i in: 28 pupils a class,
// levels 6e to 3e ("6A", "5A", "4A", "3A", "6B"…).
func GenClass(i int) string {
	c := i / 28
	level, section := 6-c%4, c/4
	if section < 26 {
		return fmt.Sprintf("%d%c", level, 'A'+rune(section))
	}
	return fmt.Sprintf("%d%c%d", level, 'A'+rune(section%26), section/26)
}

// GeneratePupils writes a pupils file of n rows as a school exports it
// (UTF-8, ';', header Nom;Prénom;Date de naissance;Classe;INE;Identifiant).
// It writes as it goes, so n may be large. The same seed gives the same file.
func GeneratePupils(w io.Writer, n int, seed int64) error {
	bw := bufio.NewWriter(w)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	fmt.Fprintln(bw, "Nom;Prénom;Date de naissance;Classe;INE;Identifiant")
	for i := range n {
		last, first := genLast[rng.IntN(len(genLast))], genFirst[rng.IntN(len(genFirst))]
		if rng.IntN(8) == 0 {
			last += "-" + genLast[rng.IntN(len(genLast))]
		}
		year := 2008 + int(GenClass(i)[0]-'0') + rng.IntN(2) // 6e: born 2014-2015
		if _, err := fmt.Fprintf(bw, "%s;%s;%02d/%02d/%d;%s;%s;%d\n", strings.ToUpper(last), first, 1+rng.IntN(28), 1+rng.IntN(12), year,
			GenClass(i), GenINE(seed, i), 100000+i); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// GenerateParents writes the parents file that goes with GeneratePupils(n,
// seed): Civilité;Nom;Prénom;Courriel;Lien;INE élève;Identifiant. Most
// pupils have two parents; every tenth pair of pupils are siblings sharing
// theirs, so some parents have two children.
func GenerateParents(w io.Writer, n int, seed int64) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "Civilité;Nom;Prénom;Courriel;Lien;INE élève;Identifiant")
	for i := range n {
		family := i
		if i%20 == 1 {
			family = i - 1 // sibling of the previous pupil
		}
		last := genLast[family%len(genLast)]
		parents := 1 + (family % 5 % 2) // one or two
		for k := range parents {
			civ, rel, first := "Mme", "Mère", genFirst[(family+k*7)%len(genFirst)]
			if k == 1 {
				civ, rel = "M.", "Père"
			}
			id := 2*family + k + 500000
			if _, err := fmt.Fprintf(bw, "%s;%s;%s;parent%d@example.fr;%s;%s;%d\n", civ, strings.ToUpper(last), first, id, rel,
				GenINE(seed, i), id); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
