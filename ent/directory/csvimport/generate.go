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
		"Yanis", "Océane", "Jérôme", "Françoise", "Hélène", "Benoît", "Cécile", "Aurélien", "Maëlys", "Louise",
		"Arthur", "Alice", "Jules", "Ambre", "Louis", "Rose", "Nathan", "Lina", "Ethan", "Mila", "Sacha", "Romane",
		"Timéo", "Lou", "Aaron", "Nina", "Paul", "Élise", "Victor", "Camille", "Baptiste", "Margaux", "Félix",
		"Juliette", "Côme", "Solène", "Ismaël", "Capucine", "Titouan", "Apolline"}
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

// pupilName draws the next pupil's name and birth date from rng.
func pupilName(rng *rand.Rand, i int) (last, first, birth string) {
	last, first = genLast[rng.IntN(len(genLast))], genFirst[rng.IntN(len(genFirst))]
	if rng.IntN(8) == 0 {
		last += "-" + genLast[rng.IntN(len(genLast))]
	}
	year := 2008 + int(GenClass(i)[0]-'0') + rng.IntN(2) // 6e: born 2014-2015
	return strings.ToUpper(last), first, fmt.Sprintf("%02d/%02d/%d", 1+rng.IntN(28), 1+rng.IntN(12), year)
}

// GeneratePupils writes a pupils file of n rows as a school exports it
// (UTF-8, ';', header Nom;Prénom;Date de naissance;Classe;INE;Identifiant).
// It writes as it goes, so n may be large. The same seed gives the same file.
func GeneratePupils(w io.Writer, n int, seed int64) error {
	bw := bufio.NewWriter(w)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	fmt.Fprintln(bw, "Nom;Prénom;Date de naissance;Classe;INE;Identifiant")
	for i := range n {
		last, first, birth := pupilName(rng, i)
		if _, err := fmt.Fprintf(bw, "%s;%s;%s;%s;%s;%d\n", last, first, birth, GenClass(i), GenINE(seed, i), 100000+i); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// GenerateParents writes the parents file that goes with GeneratePupils(n,
// seed): Civilité;Nom;Prénom;Courriel;Lien;INE élève;Identifiant. Parents
// bear their child's name; most pupils have two parents, some one; every
// tenth pair of pupils are siblings sharing theirs, so some parents have two
// children.
func GenerateParents(w io.Writer, n int, seed int64) error {
	bw := bufio.NewWriter(w)
	pupils := rand.New(rand.NewPCG(uint64(seed), 1)) // replays GeneratePupils' names
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	fmt.Fprintln(bw, "Civilité;Nom;Prénom;Courriel;Lien;INE élève;Identifiant")
	type parent struct{ civ, last, first, rel string }
	var fam [2]parent
	for i := range n {
		last, _, _ := pupilName(pupils, i)
		family := i
		if i%20 == 1 {
			family = i - 1 // sibling of the previous pupil: same parents
		} else {
			fam[0] = parent{"Mme", last, genFirst[rng.IntN(len(genFirst))], "Mère"}
			fam[1] = parent{"M.", last, genFirst[rng.IntN(len(genFirst))], "Père"}
		}
		for k := range 1 + (family % 5 % 2) { // one or two parents
			p, id := fam[k], 2*family+k+500000
			if _, err := fmt.Fprintf(bw, "%s;%s;%s;parent%d@example.fr;%s;%s;%d\n", p.civ, p.last, p.first, id, p.rel,
				GenINE(seed, i), id); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}
