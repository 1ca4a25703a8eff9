"""People of the demo force: names, ethnicity, description and identifiers in UK formats.

Names are drawn once into pools (Faker's en_GB lists, plus short lists for the city's other
communities) and then sampled with the generator's own seeded ``random.Random``: Faker is slow
per call, and sampling a pool keeps the output a pure function of the seed.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from datetime import date

from faker import Faker

# Nottingham's 2021 census shares, by self-defined category (percent).
ETHNICITY_SELF: tuple[tuple[str, float], ...] = (
    ("W1", 57.0), ("W2", 0.6), ("W3", 0.2), ("W4", 0.3), ("W9", 7.5),
    ("M1", 2.9), ("M2", 0.7), ("M3", 1.3), ("M9", 1.1),
    ("A1", 3.0), ("A2", 5.5), ("A3", 0.5), ("A4", 2.1), ("A9", 2.4),
    ("B1", 2.9), ("B2", 5.6), ("B9", 1.0),
    ("O2", 1.2), ("O9", 2.2),
)  # fmt: skip
# The officer-observed code most often recorded for each self-defined category.
OFFICER_CODE = {
    "W": "IC1", "M": "IC3", "A": "IC4", "A4": "IC5", "B": "IC3", "O2": "IC6", "O9": "IC9",
    "W9": "IC2",
}  # fmt: skip

SOUTH_ASIAN_MALE = (
    "Mohammed", "Ali", "Hamza", "Imran", "Bilal", "Adnan", "Zain", "Arjun", "Ravi", "Sanjay",
    "Harpreet", "Gurpreet", "Rajesh", "Amir", "Tariq", "Usman", "Faisal", "Kamran", "Sunil",
)  # fmt: skip
SOUTH_ASIAN_FEMALE = (
    "Aisha", "Fatima", "Zara", "Amina", "Sana", "Priya", "Anjali", "Simran", "Nadia", "Ayesha",
    "Sabrina", "Hina", "Rukhsana", "Kiran", "Jaspreet", "Shabana", "Noor", "Mariam",
)  # fmt: skip
SOUTH_ASIAN_FAMILY = (
    "Khan", "Hussain", "Ahmed", "Akhtar", "Iqbal", "Shah", "Mahmood", "Rashid", "Patel",
    "Singh", "Kaur", "Sharma", "Begum", "Ali", "Malik", "Chaudhry", "Bibi", "Sandhu", "Gill",
)  # fmt: skip
EAST_ASIAN_MALE = ("Wei", "Jun", "Hao", "Ming", "Jian", "Kenji", "Minh", "Tuan", "Jin")
EAST_ASIAN_FEMALE = ("Mei", "Li", "Xin", "Yan", "Hui", "Linh", "Yuki", "Ying", "Lan")
EAST_ASIAN_FAMILY = ("Wang", "Li", "Zhang", "Chen", "Liu", "Yang", "Huang", "Nguyen", "Tran", "Wu")
AFRICAN_MALE = (
    "Chinedu", "Emeka", "Kwame", "Kofi", "Oluwaseun", "Tunde", "Abdi", "Yusuf", "Tendai",
    "Samuel", "Daniel", "Joseph", "Emmanuel", "Ibrahim",
)  # fmt: skip
AFRICAN_FEMALE = (
    "Adaeze", "Chioma", "Ama", "Abena", "Funmilayo", "Ngozi", "Hodan", "Faith", "Blessing",
    "Grace", "Esther", "Ruth", "Precious", "Nyasha",
)  # fmt: skip
AFRICAN_FAMILY = (
    "Okafor", "Okeke", "Adeyemi", "Mensah", "Osei", "Boateng", "Mohamed", "Abdullahi", "Moyo",
    "Ndlovu", "Oyelaran", "Adebayo", "Nwosu", "Asante",
)  # fmt: skip
CARIBBEAN_FAMILY = (
    "Campbell", "Williams", "Brown", "Francis", "Clarke", "Grant", "Reid", "Thompson", "Gordon",
    "Bailey", "Morgan", "Henry", "Forbes", "Lewis",
)  # fmt: skip
ARAB_MALE = ("Ahmed", "Omar", "Khalid", "Hassan", "Youssef", "Karim", "Samir", "Tarek")
ARAB_FEMALE = ("Layla", "Yasmin", "Huda", "Rania", "Salma", "Nour", "Amal", "Dalia")
ARAB_FAMILY = ("Haddad", "Nasser", "Saleh", "Mansour", "Khalil", "Hamdan", "Aziz", "Rahman")
EAST_EUROPEAN_MALE = ("Piotr", "Tomasz", "Marek", "Andrei", "Mihai", "Lukas", "Jakub", "Pawel")
EAST_EUROPEAN_FEMALE = ("Agnieszka", "Katarzyna", "Anna", "Ioana", "Elena", "Marta", "Zuzana")
EAST_EUROPEAN_FAMILY = (
    "Kowalski", "Nowak", "Wisniewski", "Popescu", "Ionescu", "Kazlauskas", "Horvath", "Novak",
)  # fmt: skip
NICKNAMES = ("Smudge", "Tommo", "Gaz", "Dazza", "Macca", "Jonno", "Robbo", "Spider", "Titch")

TITLES_MALE = ("Mr",)
TITLES_FEMALE = ("Mrs", "Ms", "Miss")


@dataclass(frozen=True, slots=True)
class NamePools:
    """Given and family names by community, drawn once from Faker and the lists above."""

    male: tuple[str, ...]
    female: tuple[str, ...]
    family: tuple[str, ...]


def build_pools(seed: int, size: int = 1500) -> dict[str, NamePools]:
    """The name pools, keyed by the first letter of the self-defined ethnicity (and ``A4``).

    Faker's en_GB lists carry their own frequencies, so the white British pool repeats common
    names (Smith, Jones) as often as the population does.
    """
    fake = Faker("en_GB")
    fake.seed_instance(seed)
    british = NamePools(
        male=tuple(fake.first_name_male() for _ in range(size)),
        female=tuple(fake.first_name_female() for _ in range(size)),
        family=tuple(fake.last_name() for _ in range(size * 2)),
    )
    return {
        "W": british,
        "W9": NamePools(EAST_EUROPEAN_MALE, EAST_EUROPEAN_FEMALE, EAST_EUROPEAN_FAMILY),
        "A": NamePools(SOUTH_ASIAN_MALE, SOUTH_ASIAN_FEMALE, SOUTH_ASIAN_FAMILY),
        "A4": NamePools(EAST_ASIAN_MALE, EAST_ASIAN_FEMALE, EAST_ASIAN_FAMILY),
        "B": NamePools(
            AFRICAN_MALE + british.male[:40],
            AFRICAN_FEMALE + british.female[:40],
            AFRICAN_FAMILY + CARIBBEAN_FAMILY,
        ),
        "M": NamePools(
            british.male[:200] + AFRICAN_MALE,
            british.female[:200] + AFRICAN_FEMALE,
            british.family[:200] + CARIBBEAN_FAMILY,
        ),
        "O": NamePools(ARAB_MALE, ARAB_FEMALE, ARAB_FAMILY),
    }


def pool_key(ethnicity: str) -> str:
    """Which pool names a person of a self-defined ethnicity."""
    if ethnicity in ("W9", "A4"):
        return ethnicity
    return ethnicity[0] if ethnicity[0] in "WABMO" else "W"


def officer_code(ethnicity: str) -> str:
    """The officer-observed code matching a self-defined ethnicity."""
    return OFFICER_CODE.get(ethnicity) or OFFICER_CODE.get(ethnicity[0], "IC9")


# --- identifiers ---------------------------------------------------------------------------

PNC_CHECK = "ZABCDEFGHJKLMNPQRTUVWXY"
NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
NINO_BANNED = frozenset(("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"))
LETTERS = re.compile(r"[^A-Z]")


def pnc_id(rng: random.Random, year: int) -> str:
    """A Police National Computer id: year of first entry, serial, and its check letter."""
    yy = year % 100
    serial = rng.randint(1, 999_999)
    return f"{yy:02d}/{serial}{PNC_CHECK[int(f'{yy:02d}{serial:07d}') % 23]}"


def cro_number(rng: random.Random, year: int) -> str:
    """A Criminal Records Office number: serial / year and a check letter."""
    yy = year % 100
    serial = rng.randint(1, 999_999)
    return f"{serial}/{yy:02d}{PNC_CHECK[int(f'{yy:02d}{serial:06d}') % 23]}"


def ni_number(rng: random.Random) -> str:
    """A National Insurance number with a prefix HMRC could issue."""
    while True:
        prefix = rng.choice(NINO_FIRST) + rng.choice(NINO_SECOND)
        if prefix not in NINO_BANNED:
            break
    return f"{prefix}{rng.randint(0, 999_999):06d}{rng.choice('ABCD')}"


def driving_licence(rng: random.Random, family: str, given: str, birth: date, female: bool) -> str:
    """A GB driving licence number built the DVLA way from surname, birth date and initials."""
    surname = (LETTERS.sub("", family.upper()) + "99999")[:5]
    month = birth.month + (50 if female else 0)
    initials = "".join(n[0] for n in given.upper().split()[:2] if n[0].isalpha())
    initials = (initials + "99")[:2]
    tail = rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789")
    return (
        f"{surname}{str(birth.year)[2]}{month:02d}{birth.day:02d}{str(birth.year)[3]}"
        f"{initials}9{tail}"
    )


def passport_number(rng: random.Random) -> str:
    """A nine-digit UK passport number."""
    return f"{rng.randint(100_000_000, 999_999_999)}"


def custody_number(rng: random.Random, force_code: str, year: int) -> str:
    """A custody record number: force, suite, serial and year."""
    suite = rng.choice(("BS", "SQ", "MF"))
    return f"{force_code}/{suite}/{rng.randint(1, 99_999):05d}/{year % 100:02d}"


# --- description ---------------------------------------------------------------------------

MARKS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("TATTOO", ("LEFT-FOREARM", "RIGHT-FOREARM", "NECK", "RIGHT-HAND", "UPPER-BACK", "CHEST"),
     ("Swallow tattoo", "Name 'Kayla' in script", "Rose and dagger", "Teardrop tattoo",
      "Tribal band", "Letters 'LOVE' on knuckles", "Nottingham Forest crest", "Clock and dates")),
    ("SCAR", ("FACE", "LEFT-CHEEK", "FOREHEAD", "RIGHT-ARM", "LEFT-HAND", "ABDOMEN"),
     ("Scar about 3 cm", "Old stab wound scar", "Scar through eyebrow", "Surgical scar")),
    ("PIERCING", ("NOSE", "LEFT-EAR", "RIGHT-EAR", "MOUTH"),
     ("Ring", "Stud", "Several studs")),
    ("BIRTHMARK", ("NECK", "LEFT-CHEEK", "RIGHT-FOREARM"), ("Port wine stain", "Brown mark")),
    ("DENTAL", ("TEETH",), ("Gold front tooth", "Missing front tooth", "Chipped front tooth")),
)  # fmt: skip
BUILDS = ("THIN", "SLIM", "MEDIUM", "MEDIUM", "ATHLETIC", "STOCKY", "HEAVY", "LARGE")
HAIR_COLOURS = (
    "BLACK", "DARK-BROWN", "DARK-BROWN", "LIGHT-BROWN", "MOUSY", "BLONDE", "GINGER", "GREY",
    "GREYING",
)  # fmt: skip
HAIR_LENGTHS = ("SHAVED", "CROPPED", "SHORT", "SHORT", "COLLAR", "SHOULDER", "LONG")
HAIR_STYLES = ("STRAIGHT", "WAVY", "CURLY", "SKIN-FADE", "PONYTAIL", "SIDE-PARTING", "CORNROWS")
EYES = ("BLUE", "GREY", "GREEN", "HAZEL", "BROWN", "BROWN", "DARK-BROWN")
FACIAL_HAIR = ("CLEAN-SHAVEN", "CLEAN-SHAVEN", "STUBBLE", "BEARD-SHORT", "GOATEE", "MOUSTACHE")
