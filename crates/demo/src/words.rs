//! The words people and the business use: names, questions, answers, wishes, reviews.
//!
//! A demo ledger is only convincing when the people in it sound like people: names from the
//! many backgrounds a Dutch business actually serves, questions in the person's own language,
//! answers that are sometimes written for them and sometimes pasted from a script. Everything
//! here is static text, so generating a person allocates nothing for it.

/// Where a name comes from, with the languages such a person may prefer (and how often).
pub struct Origin {
    pub female: &'static [&'static str],
    pub male: &'static [&'static str],
    pub last: &'static [&'static str],
    /// Preferred languages with cumulative weights out of 100.
    pub languages: &'static [(&'static str, u32)],
    /// Phone prefix and the number of digits that follow it.
    pub phone: (&'static str, u32),
    /// How often (out of 100) people of this origin are in the population.
    pub weight: u32,
}

pub const ORIGINS: &[Origin] = &[
    Origin {
        female: &[
            "Anna", "Sanne", "Eva", "Lotte", "Femke", "Marieke", "Ineke", "Noor", "Fleur",
            "Janneke", "Wilma", "Esther", "Iris", "Marloes",
        ],
        male: &[
            "Daan", "Jeroen", "Bram", "Sem", "Ruud", "Willem", "Joost", "Thijs", "Gerrit",
            "Maarten", "Pieter", "Kees", "Sjoerd", "Wouter",
        ],
        last: &[
            "de Vries",
            "Jansen",
            "van den Berg",
            "Bakker",
            "Visser",
            "Smit",
            "Meijer",
            "de Boer",
            "Mulder",
            "de Groot",
            "Bos",
            "Vos",
            "Peters",
            "Hendriks",
            "van Dijk",
            "Dekker",
            "van der Linden",
            "Kuipers",
            "Brouwer",
            "van Leeuwen",
        ],
        languages: &[("nl", 97), ("en", 100)],
        phone: ("+31 6 ", 8),
        weight: 38,
    },
    Origin {
        female: &[
            "Emily",
            "Charlotte",
            "Sophie",
            "Grace",
            "Amelia",
            "Olivia",
            "Hannah",
            "Lucy",
            "Megan",
            "Chloe",
        ],
        male: &[
            "Oliver", "James", "Harry", "Jack", "William", "George", "Thomas", "Daniel", "Samuel",
            "Ryan",
        ],
        last: &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
            "Robinson", "Wright", "O'Brien", "Evans", "Walker", "Hughes",
        ],
        languages: &[("en", 90), ("nl", 100)],
        phone: ("+44 7", 9),
        weight: 12,
    },
    Origin {
        female: &[
            "Ayşe", "Fatma", "Zeynep", "Elif", "Özlem", "Emine", "Hülya", "Merve", "Derya",
        ],
        male: &[
            "Mehmet", "Mustafa", "Emre", "Burak", "Hakan", "Ahmet", "Murat", "Serkan", "Yusuf",
        ],
        last: &[
            "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Arslan",
            "Doğan", "Koç", "Kılıç",
        ],
        languages: &[("nl", 60), ("tr", 95), ("en", 100)],
        phone: ("+31 6 ", 8),
        weight: 10,
    },
    Origin {
        female: &[
            "Fatima", "Khadija", "Naima", "Samira", "Latifa", "Nadia", "Malika", "Hanan", "Imane",
        ],
        male: &[
            "Mohamed", "Youssef", "Said", "Rachid", "Karim", "Hamid", "Mustapha", "Bilal", "Ayoub",
        ],
        last: &[
            "El Amrani",
            "Benali",
            "Bouzid",
            "El Idrissi",
            "Ouali",
            "Tahiri",
            "Ait Said",
            "Chaouki",
            "Ziani",
            "El Khatib",
            "Azzouz",
            "Boukhari",
        ],
        languages: &[("nl", 75), ("fr", 95), ("en", 100)],
        phone: ("+31 6 ", 8),
        weight: 10,
    },
    Origin {
        female: &[
            "Agnieszka",
            "Małgorzata",
            "Katarzyna",
            "Joanna",
            "Ewa",
            "Magdalena",
            "Zofia",
            "Barbara",
        ],
        male: &[
            "Piotr",
            "Krzysztof",
            "Tomasz",
            "Paweł",
            "Michał",
            "Łukasz",
            "Marcin",
            "Grzegorz",
        ],
        last: &[
            "Nowak",
            "Wójcik",
            "Kowalczyk",
            "Woźniak",
            "Mazur",
            "Krawczyk",
            "Kaczmarek",
            "Zając",
            "Król",
            "Wieczorek",
        ],
        languages: &[("pl", 50), ("nl", 75), ("en", 100)],
        phone: ("+48 ", 9),
        weight: 8,
    },
    Origin {
        female: &[
            "Siti", "Dewi", "Sri", "Putri", "Wulan", "Ratna", "Indah", "Ayu",
        ],
        male: &[
            "Budi", "Agus", "Rudi", "Hendra", "Andi", "Joko", "Bambang", "Eko",
        ],
        last: &[
            "Santoso", "Wijaya", "Saputra", "Hidayat", "Kusuma", "Pratama", "Setiawan", "Gunawan",
            "Halim", "Nugroho",
        ],
        languages: &[("nl", 50), ("id", 80), ("en", 100)],
        phone: ("+62 812 ", 8),
        weight: 6,
    },
    Origin {
        female: &[
            "Shanti", "Sharmila", "Indira", "Vanessa", "Priya", "Ingrid", "Sunita", "Jennifer",
        ],
        male: &[
            "Ravi", "Jerry", "Roy", "Clifton", "Anand", "Ramon", "Sandeep", "Errol",
        ],
        last: &[
            "Ramdin",
            "Sewdien",
            "Biharie",
            "Kromodimedjo",
            "Pinas",
            "Doelwijt",
            "Jagroep",
            "Sapoen",
            "Brunings",
            "Tjin-A-Tsoi",
            "Ramsaran",
            "Karijopawiro",
        ],
        languages: &[("nl", 100)],
        phone: ("+31 6 ", 8),
        weight: 7,
    },
    Origin {
        female: &[
            "Julia",
            "Lena",
            "Katharina",
            "Sabine",
            "Ursula",
            "Miriam",
            "Johanna",
        ],
        male: &[
            "Lukas", "Jonas", "Stefan", "Jürgen", "Matthias", "Felix", "Andreas",
        ],
        last: &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Becker",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Richter",
        ],
        languages: &[("de", 80), ("nl", 90), ("en", 100)],
        phone: ("+49 151 ", 8),
        weight: 5,
    },
    Origin {
        female: &[
            "Camille", "Léa", "Chloé", "Manon", "Élodie", "Amélie", "Céline",
        ],
        male: &[
            "Lucas", "Hugo", "Julien", "Mathieu", "Théo", "Nicolas", "Benoît",
        ],
        last: &[
            "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau",
            "Fontaine", "Lambert",
        ],
        languages: &[("fr", 85), ("en", 100)],
        phone: ("+33 6 ", 8),
        weight: 4,
    },
];

/// Mail domains reserved for examples (RFC 2606): no real person can receive these.
pub const MAIL_DOMAINS: &[&str] = &["example.org", "example.com", "example.net"];

/// Lower-case ASCII for an e-mail address: diacritics folded, spaces and marks dropped.
pub fn fold_into(out: &mut String, name: &str) {
    for c in name.chars() {
        let r: &str = match c {
            'a'..='z' | '0'..='9' => {
                out.push(c);
                continue;
            }
            'A'..='Z' => {
                out.push(c.to_ascii_lowercase());
                continue;
            }
            'ı' | 'İ' | 'í' | 'ì' | 'î' | 'ï' => "i",
            'ş' | 'Ş' | 'ś' | 'Ś' => "s",
            'ç' | 'Ç' | 'ć' => "c",
            'ğ' | 'Ğ' => "g",
            'ö' | 'Ö' | 'ó' | 'ô' => "o",
            'ü' | 'Ü' | 'ú' | 'û' => "u",
            'ł' | 'Ł' => "l",
            'ą' | 'ä' | 'à' | 'â' | 'á' => "a",
            'ę' | 'é' | 'è' | 'ê' | 'ë' | 'É' => "e",
            'ź' | 'ż' | 'Ż' | 'Ź' => "z",
            'ń' => "n",
            'ß' => "ss",
            _ => "",
        };
        out.push_str(r);
    }
}

/// Products on the business's menu: (label, price in euro cents).
pub const PRODUCTS: &[(&str, i64)] = &[
    ("espresso-beans-1kg", 2495),
    ("filter-coffee-500g", 1150),
    ("green-tea-loose-250g", 895),
    ("oat-drink-6pack", 1299),
    ("ceramic-mug", 1450),
    ("travel-mug", 2199),
    ("hand-grinder", 5900),
    ("moka-pot-6cup", 3495),
    ("paper-filters-100", 399),
    ("descaler", 749),
    ("cocoa-powder-250g", 675),
    ("biscotti-box", 550),
    ("gift-card-25", 2500),
    ("barista-course", 8900),
    ("repair-service", 4500),
    ("milk-frother", 3999),
];

pub const CHANNELS: &[&str] = &["email", "phone", "chat", "whatsapp", "letter"];
/// Service agents: their label in events, and the name they sign with.
pub const AGENTS: &[(&str, &str)] = &[
    ("agent-ruben", "Ruben"),
    ("agent-fatima", "Fatima"),
    ("agent-sanne", "Sanne"),
    ("agent-mehmet", "Mehmet"),
    ("agent-joost", "Joost"),
    ("agent-priya", "Priya"),
    ("agent-kasia", "Kasia"),
    ("agent-tom", "Tom"),
];

/// Contact topics and what people ask about them, per language.
pub const TOPICS: &[&str] = &["delivery", "invoice", "product", "account", "returns"];

/// Questions: (topic index, language, text).
pub const QUESTIONS: &[(usize, &str, &str)] = &[
    (
        0,
        "nl",
        "Mijn bestelling is nog steeds niet binnen. Kunt u kijken waar hij blijft?",
    ),
    (
        0,
        "nl",
        "De bezorger is langs geweest terwijl ik thuis was, maar heeft niet aangebeld.",
    ),
    (
        0,
        "nl",
        "Kan ik de levering verplaatsen naar zaterdag? Doordeweeks ben ik niet thuis.",
    ),
    (
        1,
        "nl",
        "Ik zie twee keer hetzelfde bedrag op mijn factuur staan. Klopt dat wel?",
    ),
    (
        1,
        "nl",
        "Kan ik de factuur in termijnen betalen? Het is deze maand krap.",
    ),
    (
        1,
        "nl",
        "Waarom is er verzendkosten gerekend? Ik dacht dat dat gratis was boven de 50 euro.",
    ),
    (
        2,
        "nl",
        "Hoe ontkalk ik het apparaat? De handleiding is erg onduidelijk.",
    ),
    (
        2,
        "nl",
        "De maalgraad van de molen blijft verspringen. Is dat normaal?",
    ),
    (
        3,
        "nl",
        "Ik ben verhuisd. Waar kan ik mijn nieuwe adres doorgeven?",
    ),
    (
        3,
        "nl",
        "Ik wil geen nieuwsbrief meer, maar wel de facturen per mail. Kan dat?",
    ),
    (
        4,
        "nl",
        "Ik wil de mok terugsturen, hij is kleiner dan op de foto. Hoe gaat dat?",
    ),
    (
        4,
        "nl",
        "Mijn retour is al drie weken onderweg, wanneer krijg ik mijn geld terug?",
    ),
    (
        0,
        "en",
        "My order still hasn't arrived. Could you check where it is?",
    ),
    (
        0,
        "en",
        "The tracking link says delivered, but there is nothing at my door.",
    ),
    (
        1,
        "en",
        "I was charged twice for the same order. Can you refund one of them?",
    ),
    (
        1,
        "en",
        "Could you send the invoice with our company's VAT number on it?",
    ),
    (
        2,
        "en",
        "Is the travel mug dishwasher safe? The label doesn't say.",
    ),
    (2, "en", "Which beans would you recommend for a moka pot?"),
    (
        3,
        "en",
        "I can't log in to my account since the update. Password reset doesn't arrive.",
    ),
    (
        4,
        "en",
        "How do I return an item I received as a gift without the receipt?",
    ),
    (
        0,
        "tr",
        "Siparişim hâlâ gelmedi. Nerede olduğunu kontrol edebilir misiniz?",
    ),
    (
        1,
        "tr",
        "Faturada aynı ürün iki kez yazıyor. Lütfen düzeltir misiniz?",
    ),
    (2, "tr", "Bu kahve çekirdekleri Türk kahvesi için uygun mu?"),
    (4, "tr", "Kırık gelen fincanı nasıl iade edebilirim?"),
    (
        0,
        "pl",
        "Moje zamówienie jeszcze nie dotarło. Czy możecie sprawdzić, gdzie jest?",
    ),
    (1, "pl", "Czy mogę zapłacić fakturę w dwóch ratach?"),
    (
        2,
        "pl",
        "Jak odkamienić ekspres? Instrukcja jest tylko po niderlandzku.",
    ),
    (
        3,
        "pl",
        "Zmieniłem numer telefonu. Gdzie mogę go zaktualizować?",
    ),
    (
        0,
        "fr",
        "Ma commande n'est toujours pas arrivée. Pouvez-vous vérifier ?",
    ),
    (
        1,
        "fr",
        "Je pense avoir été facturée deux fois. Pouvez-vous vérifier ?",
    ),
    (
        2,
        "fr",
        "Le moulin fait un bruit étrange depuis hier. Est-ce grave ?",
    ),
    (4, "fr", "Comment renvoyer un article abîmé ?"),
    (
        0,
        "de",
        "Meine Bestellung ist immer noch nicht da. Können Sie nachsehen?",
    ),
    (
        1,
        "de",
        "Auf meiner Rechnung fehlt der Rabatt, der im Newsletter stand.",
    ),
    (2, "de", "Ist die Mühle auch für Espresso fein genug?"),
    (
        3,
        "de",
        "Bitte schicken Sie mir keine Werbung mehr per Post.",
    ),
    (
        0,
        "id",
        "Pesanan saya belum sampai. Bisa tolong dicek di mana posisinya?",
    ),
    (1, "id", "Apakah saya bisa membayar tagihan dengan cicilan?"),
    (2, "id", "Apakah biji kopi ini cocok untuk kopi tubruk?"),
    (
        3,
        "id",
        "Saya pindah rumah. Bagaimana cara mengganti alamat saya?",
    ),
];

/// Questions caused by something the business did wrong, per language.
pub const INCIDENT_QUESTIONS: &[(&str, &str)] = &[
    (
        "nl",
        "Mijn pakket kwam beschadigd aan, de molen is gebroken. Wat nu?",
    ),
    (
        "nl",
        "Ik heb een verkeerd product ontvangen. Hoe lossen we dit op?",
    ),
    (
        "nl",
        "Er is geld van mijn rekening afgeschreven voor een bestelling die ik nooit heb gedaan.",
    ),
    ("en", "My parcel arrived broken. What now?"),
    (
        "en",
        "You sent me someone else's order. How do we fix this?",
    ),
    (
        "en",
        "Your site charged my card but the order never went through.",
    ),
    ("tr", "Paketim hasarlı geldi. Ne yapmalıyım?"),
    ("pl", "Paczka przyszła uszkodzona. Co teraz?"),
    ("fr", "Mon colis est arrivé abîmé. Que faire ?"),
    ("de", "Mein Paket kam beschädigt an. Was nun?"),
    (
        "id",
        "Paket saya datang dalam keadaan rusak. Bagaimana ini?",
    ),
];

/// What went wrong in an incident (written by the business, in its own language).
pub const INCIDENTS: &[&str] = &[
    "Parcel damaged by our carrier",
    "Wrong item picked in the warehouse",
    "Card charged twice by a payment-provider fault",
    "Delivery two weeks late after a warehouse backlog",
    "Account locked by a faulty security update",
    "Invoice sent with the wrong discount",
    "Subscription delivery skipped without notice",
];

/// Apologies, in the business's languages.
pub const APOLOGIES: &[(&str, &str)] = &[
    (
        "nl",
        "Het spijt ons echt. Dit had niet mogen gebeuren; we sturen vandaag een nieuwe.",
    ),
    (
        "nl",
        "Onze excuses: dit was onze fout. U krijgt het volledige bedrag terug.",
    ),
    (
        "en",
        "We are sorry: our packaging was not good enough. A new one leaves today.",
    ),
    (
        "en",
        "This was our mistake and we apologise. The charge has been reversed.",
    ),
    (
        "de",
        "Es tut uns sehr leid. Wir schicken Ihnen heute Ersatz.",
    ),
    (
        "fr",
        "Toutes nos excuses, c'était notre erreur. Un remplacement part aujourd'hui.",
    ),
];

/// Boilerplate: the same words sent to everyone who asks anything, per language.
pub const SCRIPTED: &[(&str, &str)] = &[
    (
        "nl",
        "Bedankt voor uw bericht. Wij hebben uw vraag in goede orde ontvangen en streven ernaar deze binnen vijf werkdagen te beantwoorden. Raadpleeg voor veelgestelde vragen onze website.",
    ),
    (
        "nl",
        "Beste klant, wij begrijpen uw vraag. Helaas kunnen wij hier geen uitzondering maken. Wij vertrouwen erop u hiermee voldoende te hebben geïnformeerd.",
    ),
    (
        "en",
        "Thank you for contacting us. Your request has been received and will be handled in order of arrival. Please see our FAQ for answers to common questions.",
    ),
    (
        "en",
        "Dear customer, we understand your concern. Unfortunately we are unable to make an exception. We trust this answers your question.",
    ),
    (
        "de",
        "Vielen Dank für Ihre Nachricht. Wir haben Ihre Anfrage erhalten und bearbeiten sie in der Reihenfolge des Eingangs.",
    ),
    (
        "fr",
        "Merci pour votre message. Votre demande a bien été reçue et sera traitée dans l'ordre d'arrivée.",
    ),
];

/// Parts of a personal answer: each written by a person, combined so no two are the same.
pub struct AnswerParts {
    pub lang: &'static str,
    pub greet: &'static [&'static str],
    pub ack: &'static [&'static str],
    /// Per topic (same order as [`TOPICS`]).
    pub body: [&'static [&'static str]; 5],
    pub product: &'static [&'static str],
    pub next: &'static [&'static str],
    pub close: &'static [&'static str],
}

pub const ANSWERS: &[AnswerParts] = &[
    AnswerParts {
        lang: "nl",
        greet: &["Beste", "Hoi", "Hallo", "Goedemiddag", "Goedemorgen"],
        ack: &[
            "Vervelend dat dit zo gelopen is.",
            "Goed dat u het even laat weten.",
            "Ik snap dat u hier niet op zat te wachten.",
            "Dank voor uw duidelijke uitleg.",
            "Wat fijn dat u het meteen meldt.",
            "Ik heb even met het magazijn gebeld.",
        ],
        body: [
            &[
                "Uw pakket lag nog bij het sorteercentrum in Nieuwegein; het gaat vanavond mee.",
                "De bezorger had een verkeerd huisnummer, dat heb ik aangepast.",
                "Ik heb de levering verplaatst naar zaterdagochtend.",
            ],
            &[
                "De dubbele regel is een fout van ons, ik heb een creditnota gemaakt.",
                "U mag het bedrag in twee delen betalen, de tweede over een maand.",
                "De verzendkosten hadden er niet op moeten staan, ik heb ze eraf gehaald.",
            ],
            &[
                "Ontkalken gaat het best met een halve liter water en één zakje ontkalker.",
                "Het verspringen komt door een losse stelring; ik stuur u een nieuwe.",
                "Voor een mokapot raad ik een middelgrove maling aan.",
            ],
            &[
                "Uw nieuwe adres staat erin; de volgende levering gaat daarheen.",
                "De nieuwsbrief staat uit, de facturen komen gewoon per mail.",
                "Ik heb uw account ontgrendeld, u kunt weer inloggen.",
            ],
            &[
                "U kunt het retourlabel in de bijlage gebruiken, de kosten zijn voor ons.",
                "Uw retour is binnen; het geld staat binnen twee dagen op uw rekening.",
                "Ik heb een ophaalafspraak gemaakt voor donderdag.",
            ],
        ],
        product: &[
            "Bij de volgende bestelling doe ik er een extra zak bonen bij.",
            "Ik heb de handleiding als pdf meegestuurd.",
            "De nieuwe mok gaat vandaag nog de deur uit.",
            "Als het nog eens gebeurt, bel me dan direct.",
            "Ik heb er een notitie bij gezet zodat mijn collega's het ook weten.",
            "Laat u even weten of het zo goed is?",
        ],
        next: &[
            "Ik bel u morgen even na om te horen of het gelukt is.",
            "Mocht er nog iets zijn, dan hoor ik het graag.",
            "U hoeft verder niets te doen.",
            "Ik houd het in de gaten tot het bij u is.",
        ],
        close: &[
            "Groet,",
            "Hartelijke groet,",
            "Met vriendelijke groet,",
            "Groetjes,",
            "Tot snel,",
        ],
    },
    AnswerParts {
        lang: "en",
        greet: &["Dear", "Hi", "Hello", "Good afternoon", "Good morning"],
        ack: &[
            "I'm sorry this happened.",
            "Thanks for letting us know.",
            "I understand this is frustrating.",
            "Thank you for the clear explanation.",
            "Good that you told us straight away.",
            "I've just called the warehouse about it.",
        ],
        body: [
            &[
                "Your parcel was stuck at the sorting centre; it goes out tonight.",
                "The courier had the wrong house number, which I've corrected.",
                "I've moved the delivery to Saturday morning.",
            ],
            &[
                "The double line was our error; I've issued a credit note.",
                "You can pay in two parts, the second one next month.",
                "The shipping charge should not have been there, I've removed it.",
            ],
            &[
                "Yes, the travel mug is dishwasher safe on the top rack.",
                "For a moka pot I'd pick our medium roast, ground medium-fine.",
                "The noise comes from a loose burr; I'm sending you a new one.",
            ],
            &[
                "I've unlocked your account and you can log in again.",
                "Your new address is saved; the next delivery goes there.",
                "The password reset went to an old address, I've updated it.",
            ],
            &[
                "You can use the attached return label, free of charge.",
                "Your return has arrived; the refund reaches you within two days.",
                "I've booked a pickup for Thursday.",
            ],
        ],
        product: &[
            "I've added an extra bag of beans to your next order.",
            "I've attached the manual as a PDF.",
            "The replacement mug leaves today.",
            "If it happens again, call me directly.",
            "I've made a note so my colleagues know too.",
            "Let me know if this works for you?",
        ],
        next: &[
            "I'll call you tomorrow to check it worked.",
            "If there's anything else, just reply to this message.",
            "There's nothing else you need to do.",
            "I'll keep an eye on it until it reaches you.",
        ],
        close: &[
            "Best,",
            "Kind regards,",
            "Warm wishes,",
            "Cheers,",
            "All the best,",
        ],
    },
];

/// Wishes people state in their own words, per language.
pub const WISHES: &[(&str, &str)] = &[
    ("nl", "Bel me alsjeblieft na 17:00, nooit eerder."),
    (
        "nl",
        "Ik wil graag één keer per maand een bestelling, altijd op vrijdag.",
    ),
    (
        "nl",
        "Geen plastic verpakking meer alstublieft, ik hergebruik liever mijn eigen potten.",
    ),
    (
        "nl",
        "Kunnen jullie me mailen in plaats van bellen? Ik werk in ploegendienst.",
    ),
    ("en", "Please call me after 5 pm, never before."),
    (
        "en",
        "I'd like to pick up my orders at the shop instead of having them delivered.",
    ),
    (
        "en",
        "Please send paper invoices, my accountant needs them.",
    ),
    (
        "tr",
        "Lütfen bana Türkçe yazın, Hollandaca okumakta zorlanıyorum.",
    ),
    ("pl", "Proszę o kontakt po polsku, jeśli to możliwe."),
    ("fr", "Merci de m'écrire en français si possible."),
    (
        "de",
        "Bitte nur per E-Mail, ich bin telefonisch schlecht erreichbar.",
    ),
    ("id", "Tolong kirim pesanan saya ke kantor, bukan ke rumah."),
];

/// Menu items and their options.
pub const MENU: &[(&str, &[&str])] = &[
    ("channel", &["email", "phone", "post", "chat"]),
    ("frequency", &["weekly", "monthly", "quarterly", "never"]),
    ("delivery", &["home", "pickup-point", "shop", "office"]),
    ("invoice", &["pdf", "paper"]),
    ("packaging", &["minimal", "reusable", "standard"]),
    ("roast", &["light", "medium", "dark"]),
];

/// Proposals for things not on the menu: (item, text).
pub const PROPOSALS: &[(Option<&str>, &str)] = &[
    (
        Some("delivery"),
        "Could you deliver to my allotment on Saturdays?",
    ),
    (
        Some("packaging"),
        "Kunnen jullie de bonen in mijn eigen blik doen als ik ze ophaal?",
    ),
    (
        None,
        "A monthly tasting evening in the shop would be lovely.",
    ),
    (
        Some("invoice"),
        "Eén verzamelfactuur per kwartaal zou ons veel werk schelen.",
    ),
    (
        None,
        "Bieden jullie ook reparatie van oude molens aan? Ik heb er een van mijn opa.",
    ),
    (
        Some("roast"),
        "Please offer a decaf version of the house blend.",
    ),
];

pub const CONSENT_PURPOSES: &[&str] = &["newsletter", "offers", "surveys", "profiling"];
pub const CONSENT_HOW: &[&str] = &[
    "self-service page",
    "e-mail reply",
    "phone call",
    "web form",
    "paper form",
];

pub const OUTREACH_TOPICS: &[&str] = &["newsletter", "offers", "surveys", "reminder"];
pub const OUTREACH_CHANNELS: &[&str] = &["email", "email", "email", "sms", "post", "phone"];

/// Reasons people give for disputing an invoice.
pub const DISPUTE_REASONS: &[&str] = &[
    "Charged twice for the same delivery",
    "De korting uit de nieuwsbrief is niet verrekend",
    "I returned this item weeks ago",
    "Verzendkosten gerekend terwijl het gratis zou zijn",
    "Wrong quantity: I ordered two, not five",
    "Never received this order",
];

/// Promises the business makes, in its own words.
pub const PROMISES: &[&str] = &[
    "Call back with the tracking details",
    "Replacement delivered by the end of the week",
    "Refund on the account within five working days",
    "Corrected invoice sent",
    "Technician visit scheduled",
];

/// Review texts by score band (0–3, 4–6, 7–8, 9–10), per language.
pub const REVIEWS: &[[(&str, &str); 2]] = &[
    [
        ("nl", "Nooit meer. Niemand neemt de telefoon op."),
        (
            "en",
            "Awful. Nobody ever answers and my money is still gone.",
        ),
    ],
    [
        ("nl", "Prima koffie, maar de bezorging is een loterij."),
        ("en", "Good products, but the service is hit and miss."),
    ],
    [
        (
            "nl",
            "Fijne winkel, snel geleverd, één keer iets mis maar netjes opgelost.",
        ),
        (
            "en",
            "Solid shop, quick delivery, they sorted out the one problem I had.",
        ),
    ],
    [
        ("nl", "Ze kennen me bij naam en denken echt mee. Aanrader!"),
        (
            "en",
            "They fixed it without fuss. I send all my friends here.",
        ),
    ],
];

/// The wish of the showcase person who tests that pages escape what people write.
pub const HOSTILE_WISH: &str = "Please stop sending me offers <script>alert(1)</script> — and my company name is \"><img src=x onerror=alert(1)>";
