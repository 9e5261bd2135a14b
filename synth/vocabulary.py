"""Word material for fictional but Dutch-looking names, and the free text of street furniture.

Everything here is data plus the few pure functions that combine it. Names are built from parts so
that thousands of distinct names exist without a list of real places; every character is in
Windows-1252, because the register is exported in that encoding.
"""

from __future__ import annotations

import itertools

# ---- places -------------------------------------------------------------------------------------

PLACE_STEMS: tuple[str, ...] = (
    "Amel",
    "Bever",
    "Bloem",
    "Bronk",
    "Dal",
    "Eem",
    "Elder",
    "Gaas",
    "Gelder",
    "Haren",
    "Hel",
    "Hork",
    "Ijssel",
    "Kamer",
    "Kolk",
    "Laar",
    "Lin",
    "Maas",
    "Mid",
    "Molen",
    "Nes",
    "Ommer",
    "Peel",
    "Raven",
    "Rijn",
    "Sonne",
    "Stok",
    "Tes",
    "Uit",
    "Valken",
    "Veen",
    "Vier",
    "Wad",
    "Walde",
    "Wester",
    "Wolder",
    "Zand",
    "Zwaan",
    "Aster",
    "Bruin",
    "Diep",
    "Elst",
    "Fries",
    "Grun",
    "Hoogh",
    "Kraai",
    "Lutte",
    "Mark",
)
# Each place suffix with an older spelling of it, so every place name has an old spelling.
PLACE_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("veen", "veene"),
    ("dam", "damme"),
    ("dijk", "dyk"),
    ("horst", "horste"),
    ("wijk", "wyk"),
    ("broek", "broeck"),
    ("hoven", "hooven"),
    ("lo", "loo"),
    ("sum", "summe"),
    ("rade", "raede"),
    ("zijl", "zyl"),
    ("mond", "monde"),
    ("hem", "heim"),
    ("kerk", "kerck"),
    ("vliet", "vlied"),
    ("woude", "wolde"),
    ("haven", "haeven"),
    ("berg", "bergh"),
    ("beek", "beeck"),
    ("meer", "meere"),
)
PLACE_PREFIXES: tuple[str, ...] = (
    "",
    "Nieuw-",
    "Oud-",
    "Groot-",
    "Klein-",
    "Oost-",
    "West-",
    "Noord-",
    "Zuid-",
    "Sint-",
)
# A few merged municipalities carry a regional name that is no place at all.
REGIONAL_GEMEENTE_NAMES: tuple[str, ...] = (
    "Súdwest-Wâlden",
    "Het Hogeland",
    "Midden-Veluwezoom",
    "Land van Ommeren",
    "Oostelijke Polders",
    "De Wolden Oost",
    "Altena-Maaskant",
    "Bergen en Dal",
    "Hollands Kroon Zuid",
    "Westerkwartier",
)


def place_names() -> tuple[list[str], list[str]]:
    """All composable place names and their old spellings (same order), distinct names only."""
    names: list[str] = []
    old: list[str] = []
    for prefix, stem, (suffix, old_suffix) in itertools.product(PLACE_PREFIXES, PLACE_STEMS, PLACE_SUFFIXES):
        body = stem + suffix
        names.append(prefix + (body[:2].upper() + body[2:] if body.startswith("Ij") else body))
        old.append(prefix + stem.replace("ij", "y").replace("Ij", "Y") + old_suffix)
    return names, old


# ---- streets ------------------------------------------------------------------------------------

STREET_WORDS: tuple[str, ...] = (
    "Kerk",
    "Dorps",
    "School",
    "Molen",
    "Beuken",
    "Eiken",
    "Linden",
    "Wilgen",
    "Berken",
    "Esdoorn",
    "Kastanje",
    "Populier",
    "Vlier",
    "Hazelaar",
    "Iepen",
    "Meidoorn",
    "Lijster",
    "Merel",
    "Zwaluw",
    "Kievit",
    "Reiger",
    "Valk",
    "Spreeuw",
    "Roodborst",
    "Koekoek",
    "Nachtegaal",
    "Tulp",
    "Rozen",
    "Lelie",
    "Narcis",
    "Krokus",
    "Iris",
    "Anjer",
    "Hyacint",
    "Akker",
    "Veld",
    "Heide",
    "Bos",
    "Weide",
    "Beemd",
    "Hoeve",
    "Haven",
    "Sluis",
    "Brug",
    "Stations",
    "Markt",
    "Boomgaard",
    "Wind",
    "Zon",
    "Maan",
    "Ster",
    "Regenboog",
    "Parel",
    "Smaragd",
    "Robijn",
    "Saffier",
    "Jade",
    "Koper",
    "Zilver",
    "Goud",
    "Tin",
    "Ijzer",
    "Graaf",
    "Ridder",
    "Kasteel",
    "Slot",
    "Poort",
    "Wal",
    "Gracht",
    "Vaart",
    "Kanaal",
    "Polder",
    "Dijk",
    "Duin",
    "Strand",
    "Zee",
    "Meer",
    "Bron",
    "Beek",
    "Venne",
    "Turf",
    "Klei",
    "Zand",
    "Grind",
    "Steen",
    "Klaver",
    "Haver",
    "Rogge",
    "Tarwe",
    "Gerst",
    "Vlas",
    "Hennep",
    "Hop",
    "Appel",
    "Peren",
    "Kersen",
    "Pruimen",
    "Noten",
    "Bessen",
    "Druiven",
    "Ruïne",
    "Coöperatie",
    "Fabriek",
    "Werf",
    "Loods",
    "Bakkers",
    "Smids",
    "Schoenmakers",
    "Kuipers",
    "Touwslagers",
    "Wevers",
    "Ververs",
    "Molenaars",
    "Visschers",
    "Jagers",
    "Herders",
    "Boeren",
)
STREET_SUFFIXES: tuple[str, ...] = (
    "straat",
    "weg",
    "laan",
    "pad",
    "hof",
    "plein",
    "singel",
    "kade",
    "dreef",
    "steeg",
    "gracht",
    "dijk",
)
PERSON_TITLES: tuple[str, ...] = (
    "Burgemeester",
    "Pastoor",
    "Dokter",
    "Professor",
    "Generaal",
    "Kapitein",
    "Admiraal",
    "Wethouder",
    "Meester",
)
SURNAMES: tuple[str, ...] = (
    "van Nieuwenhuysen",
    "de Ruyter",
    "van der Meulen",
    "Hooft",
    "Tromp",
    "Drees",
    "Lely",
    "Thorbecke",
    "van Heutsz",
    "de Kock",
    "van Limburg Stirum",
    "Schaepman",
    "van den Bergh",
    "Kuyper",
    "de Savornin Lohman",
    "van Rijckevorsel",
    "Ruijs de Beerenbrouck",
    "Cort van der Linden",
    "Colijn",
    "de Geer",
    "Aalberse",
    "van Hogendorp",
    "Troelstra",
    "Domela Nieuwenhuis",
    "Nolens",
    "van Houten",
    "Buys",
    "de Visser",
    "Bakker",
    "Jansen",
    "de Vries",
    "van Dijk",
    "Smit",
    "Mulder",
    "de Boer",
    "Vermeulen",
    "Hendriks",
    "van Leeuwen",
)
ROYALS: tuple[tuple[str, str], ...] = (
    ("Prins", "Bernhard"),
    ("Prins", "Hendrik"),
    ("Prins", "Willem-Alexander"),
    ("Prins", "Claus"),
    ("Prinses", "Margriet"),
    ("Prinses", "Irene"),
    ("Prinses", "Christina"),
    ("Prinses", "Marijke"),
    ("Prinses", "Beatrix"),
    ("Koningin", "Wilhelmina"),
    ("Koningin", "Juliana"),
    ("Koningin", "Emma"),
    ("Koning", "Willem"),
    ("Sint", "Jans"),
    ("Sint", "Jozef"),
    ("Sint", "Nicolaas"),
    ("Sint", "Maarten"),
    ("Sint", "Servaas"),
    ("Sint", "Antonius"),
)
PERSON_SUFFIXES: tuple[str, ...] = ("straat", "laan", "weg", "plein", "singel", "park")
FAMOUS: tuple[str, ...] = ("Van Gogh", "Rembrandt", "Vondel", "J.P. Coen", "Mr. Troelstra", "Dr. Schaepman", "Erasmus")
ADJECTIVES: tuple[str, ...] = ("Lange", "Korte", "Oude", "Nieuwe", "Hoge", "Lage", "Grote", "Kleine")
PLAIN_NAMES: tuple[str, ...] = (
    "Markt",
    "Brink",
    "Dorp",
    "Ring",
    "Noordeinde",
    "Zuideinde",
    "Voorstraat",
    "Achterom",
    "Oude Rijksstraatweg",
    "Provinciale Weg Oost",
    "Industrieweg",
    "Bedrijvenpark Noord",
    "Sportpark",
    "Stationsplein",
    "Ambachtsweg",
)


def _person_street(person: str, suffix: str) -> str:
    """'de Ruyter' + 'straat' -> 'De Ruyterstraat'; Dutch joins the last word of a name to the suffix."""
    name = person[0].upper() + person[1:]
    return name + suffix


def street_names() -> list[str]:
    """The pool every woonplaats draws its street names from (so 'Kerkstraat' recurs, as it does)."""
    names: list[str] = [word + suffix for word, suffix in itertools.product(STREET_WORDS, STREET_SUFFIXES)]
    names += [
        f"{title} {surname}{suffix}"
        for title, surname, suffix in itertools.product(PERSON_TITLES, SURNAMES, PERSON_SUFFIXES[:3])
    ]
    names += [f"{title} {given}{suffix}" for (title, given), suffix in itertools.product(ROYALS, PERSON_SUFFIXES)]
    names += [
        _person_street(person, suffix) for person, suffix in itertools.product(SURNAMES + FAMOUS, PERSON_SUFFIXES)
    ]
    names += [
        f"{adjective} {word}{suffix}"
        for adjective, word, suffix in itertools.product(ADJECTIVES, STREET_WORDS[:40], ("straat", "weg", "dijk"))
    ]
    names += list(PLAIN_NAMES)
    return list(dict.fromkeys(names))


# Street-name abbreviations a register clerk uses; applied in this order (longer forms first).
STREET_ABBREVIATIONS: tuple[tuple[str, str], ...] = (
    (r"\bBurgemeester ", "Burg. "),
    (r"\bPrinses ", "Pr. "),
    (r"\bPrins ", "Pr. "),
    (r"\bKoningin ", "Kon. "),
    (r"\bKoning ", "Kon. "),
    (r"\bSint ", "St. "),
    (r"\bProfessor ", "Prof. "),
    (r"\bDokter ", "Dr. "),
    (r"\bGeneraal ", "Gen. "),
    (r"\bPastoor ", "Past. "),
    (r"\bWethouder ", "Weth. "),
    (r"\bvan de[rn]? ", "v.d. "),
    (r"\bvan ", "v. "),
    (r"straat$", "str."),
)
# A street is abbreviable when any of the rules above would change it.
ABBREVIABLE_PATTERN = "|".join(pattern for pattern, _ in STREET_ABBREVIATIONS)

# ---- grid operators -----------------------------------------------------------------------------

# (name, 3-digit EAN company code after the 871 prefix)
NETBEHEERDERS: tuple[tuple[str, int], ...] = (
    ("Noordernet Netbeheer", 687),
    ("Delta Rivierenland Netwerk", 694),
    ("Zuidoost Energienet", 718),
)

# ---- free text of connections -------------------------------------------------------------------

# Descriptions of street furniture per residue class, as clerks type them: abbreviations, capitals,
# the odd typo. `{n}` becomes a number, `{street}` the nearest street's name.
INFRA_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "public_lighting": (
        "OV mast",
        "OVL kast",
        "ovl-kast {n}",
        "Lichtmast",
        "lichtmast {n}",
        "OV-mast nr {n}",
        "openbare verlichting",
        "Openbare Verlichting {street}",
        "OVL",
        "OV kast {n}",
        "lantaarnpaal",
        "OVL KAST {street}",
        "Lichtmasten parkeerterrein",
        "lichmast",
    ),
    "street_clock": (
        "straatklok",
        "Straatklok Markt",
        "klok {street}",
        "STRAATKLOK",
        "stationsklok",
        "uurwerk kerkplein",
    ),
    "bus_shelter": (
        "abri",
        "Abri",
        "ABRI halte {street}",
        "wachthuisje",
        "Wachthuisje",
        "bushokje",
        "bushalte {street}",
        "abri nr {n}",
        "abrie",
    ),
    "traffic_signal": (
        "VRI kruising",
        "VRI {n}",
        "vri",
        "verkeerslicht",
        "verkeerslichten kruising {street}",
        "VRI kruispunt N{n}",
        "verkeersregelinstallatie",
        "VRI-kast",
    ),
    "telecom_cabinet": (
        "telecom kast",
        "glasvezel kast",
        "Glasvezelkast {street}",
        "KPN kast",
        "zendmast",
        "GSM mast",
        "antenne-installatie",
        "telecomkast {n}",
        "straatkast telecom",
        "glasvezl kast",
    ),
    "ev_charger": (
        "laadpaal LP-{n}",
        "Laadpaal",
        "LP {n}",
        "laadpunt",
        "oplaadpunt",
        "laadstation",
        "Laadpaal {street}",
        "LAADPAAL",
        "laadpaal LP{n} parkeerplaats",
    ),
    "pumping_station": (
        "gemaal",
        "Rioolgemaal {street}",
        "rioolpomp",
        "Poldergemaal",
        "pompput {n}",
        "drukriolering pomp",
        "GEMAAL",
    ),
    "construction_site": (
        "bouwstroom",
        "Bouwstroom blok {n}",
        "bouwaansluiting",
        "bouwkeet",
        "bouwplaats {street}",
        "BOUWSTROOM",
    ),
    "market_event": (
        "markt",
        "Marktkast",
        "weekmarkt",
        "kermis",
        "Kermisterrein",
        "evenementenkast",
        "marktkast zaterdagmarkt",
        "KERMIS",
    ),
}
INFRA_CLASSES: tuple[str, ...] = tuple(INFRA_DESCRIPTIONS)

# How a clerk says "across the street from number n" (the relational part of an opposite address).
OPPOSITE_PHRASES: tuple[str, ...] = (
    "t.o. nr {n}",
    "t.o. {n}",
    "tegenover {n}",
    "tgo nr {n}",
    "nabij {n}",
    "naast {n}",
    "hoek {street}",
)
# What remains when the class word is lost (noise `description_vague`): nothing tells the class.
VAGUE_DESCRIPTIONS: tuple[str, ...] = (
    "kast {n}",
    "zie tekening",
    "paal {n}",
    "aansluiting {street}",
    "object {n}",
    "nvt",
)

COLLECTIVE_GAS_DESCRIPTIONS: tuple[str, ...] = (
    "ketelhuis",
    "blokverwarming",
    "CV-ruimte",
    "collectieve CV",
    "stookruimte",
)
COMMON_AREA_DESCRIPTIONS: tuple[str, ...] = (
    "algemene ruimte",
    "VvE",
    "lift en trappenhuis",
    "gemeensch. ruimte",
    "centrale hal",
)
NOT_IN_BAG_DESCRIPTIONS: tuple[str, ...] = ("tuinhuis", "schuur achter", "volkstuin", "garage", "weiland", "loods")
LARGE_OBJECT_DESCRIPTIONS: tuple[str, ...] = (
    "hal {n}",
    "trafo {n}",
    "noordzijde",
    "zuidzijde",
    "koelcel",
    "werkplaats",
    "magazijn {n}",
)
