package demo

import "math/rand/v2"

// origin is a family background with its surnames and the first names given
// in it, to children born around 2012–2015 and to their parents born around
// 1975–1990. Families mostly keep to one origin, so that names read as real
// French class lists do, mixed but not random.
type origin struct {
	weight      int // share of families, out of the sum of weights
	last        []string
	girls, boys []string
	women, men  []string
}

// origins are weighted roughly as in a collège of a French préfecture.
var origins = []origin{
	{ // France
		weight: 56,
		last: []string{
			"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
			"Simon", "Laurent", "Lefebvre", "Michel", "David", "Bertrand", "Roux", "Vincent", "Fournier", "Morel",
			"Girard", "André", "Lefèvre", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Legrand", "Garnier",
			"Faure", "Rousseau", "Blanc", "Guérin", "Henry", "Roussel", "Perrin", "Morin", "Mathieu", "Clément",
			"Gauthier", "Dumont", "Fontaine", "Chevalier", "Robin", "Masson", "Gérard", "Boyer", "Denis", "Lemaire",
			"Duval", "Joly", "Roger", "Roche", "Noël", "Meunier", "Marchand", "Dufour", "Blanchard", "Barbier",
			"Brun", "Dumas", "Brunet", "Schmitt", "Leroux", "Colin", "Renard", "Arnaud", "Caron", "Aubert",
			"Giraud", "Leclerc", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Lacroix", "Dupuis",
			"Charpentier", "Moulin", "Rivière", "Le Gall", "Le Goff", "Hubert", "Carpentier", "Maréchal", "Besnard",
			"Pichon", "Hervé", "Tessier", "Lebrun", "Chauvin", "Poirier", "Prévost", "Germain", "Cordier",
			"Delaunay", "Pasquier", "Boucher", "Texier",
		},
		girls: []string{
			"Emma", "Jade", "Louise", "Alice", "Chloé", "Léa", "Manon", "Rose", "Anna", "Camille", "Lola", "Ambre",
			"Zoé", "Juliette", "Romane", "Agathe", "Jeanne", "Clara", "Margaux", "Lucie", "Adèle", "Victoire",
			"Mathilde", "Capucine", "Louane", "Maëlys", "Océane", "Lilou", "Pauline", "Élise", "Apolline",
			"Clémence", "Charlotte", "Justine", "Solène", "Gabrielle",
		},
		boys: []string{
			"Gabriel", "Raphaël", "Louis", "Arthur", "Jules", "Hugo", "Maël", "Paul", "Gabin", "Tom", "Théo",
			"Noé", "Timéo", "Enzo", "Mathis", "Baptiste", "Malo", "Antoine", "Victor", "Clément", "Mathéo",
			"Lucas", "Tristan", "Valentin", "Maxime", "Alexis", "Corentin", "Bastien", "Quentin", "Romain",
			"Titouan", "Evan", "Axel", "Sacha", "Martin", "Augustin",
		},
		women: []string{
			"Aurélie", "Céline", "Émilie", "Julie", "Stéphanie", "Sandrine", "Virginie", "Nathalie", "Sophie",
			"Caroline", "Élodie", "Laetitia", "Karine", "Marion", "Audrey", "Amandine", "Mélanie", "Claire",
			"Delphine", "Vanessa", "Anne-Sophie", "Hélène", "Séverine", "Christelle", "Gaëlle", "Magali", "Cécile",
			"Laure", "Isabelle", "Valérie", "Charlotte", "Pauline", "Anaïs", "Jessica",
		},
		men: []string{
			"Nicolas", "Julien", "Sébastien", "Christophe", "Stéphane", "Guillaume", "Mickaël", "Jérôme",
			"Frédéric", "David", "Olivier", "Laurent", "Thomas", "Alexandre", "Cédric", "Fabien", "Arnaud",
			"Vincent", "Yann", "Sylvain", "Franck", "Damien", "Benoît", "Mathieu", "Grégory", "Ludovic", "Romain",
			"Pierre", "Florent", "Jean-Baptiste", "Anthony", "Xavier",
		},
	},
	{ // Maghreb
		weight: 15,
		last: []string{
			"Benali", "Haddad", "Belkacem", "Mansouri", "Cherif", "Boukhris", "Benaïssa", "Bouzid", "Amrani",
			"El Idrissi", "Saïdi", "Hamdi", "Ziani", "Bensaïd", "Meziane", "Brahimi", "Kaci", "Djebbar", "Rahmani",
			"Benyahia", "Lahlou", "Tahiri", "Ouali", "Mokrani", "Chaouch", "Ferhat", "Bouaziz", "Zerrouki",
		},
		girls: []string{
			"Inès", "Yasmine", "Lina", "Aya", "Sofia", "Nour", "Salma", "Rania", "Lyna", "Maryam", "Kenza",
			"Imane", "Assia", "Sara", "Hiba", "Malak", "Nesrine", "Amira", "Leïla", "Jannat",
		},
		boys: []string{
			"Adam", "Rayan", "Yanis", "Mohamed", "Ilyes", "Ayoub", "Amir", "Nassim", "Sami", "Bilal", "Ismaël",
			"Zakaria", "Mehdi", "Yacine", "Anis", "Wassim", "Younès", "Idriss", "Soufiane", "Ryad",
		},
		women: []string{
			"Fatima", "Samira", "Nadia", "Leïla", "Khadija", "Sonia", "Malika", "Nora", "Karima", "Yamina",
			"Houria", "Saïda", "Naïma", "Farida", "Latifa", "Amel", "Soraya",
		},
		men: []string{
			"Mohamed", "Karim", "Rachid", "Mehdi", "Samir", "Youssef", "Nordine", "Farid", "Hakim", "Mourad",
			"Abdelkader", "Kamel", "Djamel", "Saïd", "Hicham", "Nabil", "Omar",
		},
	},
	{ // West Africa
		weight: 8,
		last: []string{
			"Traoré", "Diallo", "Diop", "Ndiaye", "Koné", "Camara", "Sow", "Cissé", "Touré", "Sylla", "Keïta",
			"Fofana", "Konaté", "Bamba", "Ba", "Dembélé", "Sissoko", "Coulibaly", "Kanté", "Diarra", "Mbaye",
			"Faye", "Gueye",
		},
		girls: []string{
			"Aminata", "Fatoumata", "Mariam", "Awa", "Kadiatou", "Binta", "Aïssata", "Hawa", "Oumou", "Assa",
			"Coumba", "Nafissatou", "Djeneba", "Ramata",
		},
		boys: []string{
			"Mamadou", "Moussa", "Ibrahima", "Oumar", "Souleymane", "Amadou", "Boubacar", "Cheikh", "Issa",
			"Modibo", "Seydou", "Adama", "Lassana", "Ousmane",
		},
		women: []string{
			"Aminata", "Fatoumata", "Mariama", "Aïssatou", "Kadiatou", "Awa", "Ndèye", "Astou", "Hawa", "Bintou",
			"Rokia", "Oumou",
		},
		men: []string{
			"Mamadou", "Moussa", "Ibrahima", "Abdoulaye", "Oumar", "Amadou", "Boubacar", "Cheikh", "Souleymane",
			"Babacar", "Lamine", "Idrissa",
		},
	},
	{ // Portugal and Spain
		weight: 9,
		last: []string{
			"Ferreira", "Da Silva", "Pereira", "Rodrigues", "Santos", "Oliveira", "Gonçalves", "Fernandes",
			"Lopes", "Martins", "Carvalho", "Sousa", "Costa", "Garcia", "Martinez", "Lopez", "Sanchez",
			"Fernandez", "Perez", "Gomez", "Ruiz", "Moreno", "Alves", "Teixeira", "Ribeiro",
		},
		girls: []string{
			"Beatriz", "Mariana", "Lara", "Carolina", "Lucia", "Elena", "Carla", "Alba", "Leonor", "Sofia",
			"Luna", "Daniela",
		},
		boys: []string{
			"Tiago", "Diego", "Rafael", "Pablo", "Mateo", "Nuno", "Rodrigo", "Alejandro", "Daniel", "Miguel",
			"Bruno", "Enzo",
		},
		women: []string{
			"Maria", "Ana", "Sandra", "Carla", "Cristina", "Patricia", "Isabel", "Sonia", "Paula", "Rosa",
			"Marta", "Elisabete", "Carmen",
		},
		men: []string{
			"João", "José", "Paulo", "Carlos", "Manuel", "António", "Luís", "Fernando", "Jorge", "Ricardo",
			"Miguel", "Pedro", "Sergio", "Javier",
		},
	},
	{ // Viet Nam
		weight: 3,
		last: []string{
			"Nguyen", "Tran", "Pham", "Le", "Hoang", "Vo", "Dang", "Bui", "Truong", "Lam", "Ly", "Phan", "Do", "Huynh",
		},
		girls: []string{"Linh", "Mai", "Lan", "Anh", "Thao", "Ngoc", "Lily", "Jade"},
		boys:  []string{"Minh", "Nam", "Bao", "Duc", "Tuan", "Khoa", "Long", "Kevin"},
		women: []string{"Linh", "Mai", "Huong", "Thuy", "Hoa", "Phuong", "Lan", "Ngoc", "Trang", "Hanh"},
		men:   []string{"Minh", "Hung", "Tuan", "Dung", "Quang", "Thanh", "Long", "Hai", "Son", "Vinh"},
	},
	{ // Turkey
		weight: 4,
		last: []string{
			"Yilmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydin", "Arslan", "Doğan", "Koç", "Yildiz",
			"Polat", "Aksoy",
		},
		girls: []string{"Elif", "Zeynep", "Ecrin", "Azra", "Eylül", "Defne", "Melek", "Asya", "Ayşe", "Esma"},
		boys:  []string{"Emir", "Yusuf", "Eymen", "Mert", "Kerem", "Berat", "Enes", "Hamza", "Ömer", "Burak"},
		women: []string{"Ayşe", "Fatma", "Emine", "Hatice", "Esra", "Merve", "Derya", "Gül", "Seda", "Sevgi"},
		men:   []string{"Mehmet", "Mustafa", "Ahmet", "Ali", "Hasan", "Murat", "Hüseyin", "Kemal", "Serkan", "Osman"},
	},
	{ // Italy
		weight: 3,
		last: []string{
			"Rossi", "Russo", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Conti",
			"De Luca", "Moretti",
		},
		girls: []string{"Giulia", "Chiara", "Alessia", "Sofia", "Aurora", "Bianca"},
		boys:  []string{"Lorenzo", "Matteo", "Luca", "Leonardo", "Marco", "Tommaso"},
		women: []string{"Francesca", "Giulia", "Paola", "Silvia", "Valentina", "Federica"},
		men:   []string{"Marco", "Giuseppe", "Luca", "Andrea", "Stefano", "Alessandro"},
	},
	{ // Poland and Romania
		weight: 2,
		last: []string{
			"Nowak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Dudek", "Popescu", "Ionescu",
			"Popa", "Constantin",
		},
		girls: []string{"Zofia", "Maja", "Julia", "Ioana", "Elena", "Alexandra"},
		boys:  []string{"Jakub", "Kacper", "Antoni", "Andrei", "Stefan", "David"},
		women: []string{"Katarzyna", "Agnieszka", "Magdalena", "Ioana", "Elena", "Monica"},
		men:   []string{"Piotr", "Tomasz", "Marcin", "Andrei", "Florin", "Mihai"},
	},
}

// Children's first names given in families of every origin in France around
// 2012–2015.
var (
	commonGirls = []string{
		"Emma", "Léa", "Chloé", "Inès", "Sarah", "Lina", "Jade", "Zoé", "Camille", "Manon", "Eva", "Nina", "Mia",
		"Louna", "Maëlys", "Léna", "Lou", "Julia", "Anna", "Clara", "Alice", "Lilou", "Romane", "Elsa", "Iris",
		"Mila", "Noémie", "Lisa", "Maya", "Éléna",
	}
	commonBoys = []string{
		"Lucas", "Nathan", "Léo", "Hugo", "Adam", "Ethan", "Noah", "Liam", "Enzo", "Louis", "Gabriel", "Raphaël",
		"Théo", "Nolan", "Mathis", "Sacha", "Aaron", "Samuel", "Axel", "Kylian", "Tom", "Noam", "Rayan", "Yanis",
		"Ilan", "Eliott", "Timothée", "Elias",
	}
)

// pickOrigin draws an origin by weight.
func pickOrigin(r *rand.Rand) *origin {
	total := 0
	for _, o := range origins {
		total += o.weight
	}
	n := r.IntN(total)
	for i := range origins {
		if n < origins[i].weight {
			return &origins[i]
		}
		n -= origins[i].weight
	}
	return &origins[0]
}

// childName draws a child's first name: most often from the family's origin,
// otherwise from the names common to all.
func (o *origin) childName(r *rand.Rand, girl bool) string {
	own, common := o.boys, commonBoys
	if girl {
		own, common = o.girls, commonGirls
	}
	if r.IntN(10) < 4 {
		return pick(r, common)
	}
	return pick(r, own)
}

// adultName draws an adult's first name.
func (o *origin) adultName(r *rand.Rand, woman bool) string {
	if woman {
		return pick(r, o.women)
	}
	return pick(r, o.men)
}

func pick(r *rand.Rand, list []string) string { return list[r.IntN(len(list))] }
