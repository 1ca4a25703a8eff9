"""Vehicles of the demo force: makes and models people drive, and marks in the current format.

A current-format registration mark reads ``FA21 XYZ``: a two-letter memory tag (F for the East
Midlands, FA-FP for Nottingham), an age identifier (the year in March, the year plus 50 in
September) and three random letters. Marks are handed out without repeats.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Letters the DVLA never uses in the random part (I, Q), nor in memory tags (I, Q, Z).
RANDOM_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXYZ"
TAG_LETTERS = "ABCDEFGHJKLMNOPRSTUVWXY"
LOCAL_TAGS = tuple("F" + c for c in "ABCDEFGHJKLMNP")
OTHER_REGIONS = "ABCDEGHKLMNOPRSVWY"
OTHER_TAGS = tuple(r + t for r in OTHER_REGIONS for t in TAG_LETTERS)
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
# A stride coprime to the size of each age identifier's space, so marks come out unrepeated.
STRIDE = 1_000_003


@dataclass(frozen=True, slots=True)
class Model:
    """A make and model with its usual body type and the maker's VIN prefix."""

    make: str
    model: str
    body: str
    wmi: str
    weight: float


MODELS: tuple[Model, ...] = (
    Model("FORD", "Fiesta", "HATCHBACK", "WF0", 9), Model("FORD", "Focus", "HATCHBACK", "WF0", 6),
    Model("FORD", "Kuga", "SUV", "WF0", 3), Model("FORD", "Transit", "PANEL-VAN", "WF0", 4),
    Model("FORD", "Transit Custom", "PANEL-VAN", "WF0", 2),
    Model("VAUXHALL", "Corsa", "HATCHBACK", "W0L", 8),
    Model("VAUXHALL", "Astra", "HATCHBACK", "W0L", 5),
    Model("VAUXHALL", "Mokka", "SUV", "W0L", 2), Model("VAUXHALL", "Insignia", "SALOON", "W0L", 2),
    Model("VOLKSWAGEN", "Golf", "HATCHBACK", "WVW", 7),
    Model("VOLKSWAGEN", "Polo", "HATCHBACK", "WVW", 5),
    Model("VOLKSWAGEN", "Tiguan", "SUV", "WVG", 2),
    Model("VOLKSWAGEN", "Transporter", "PANEL-VAN", "WV1", 2),
    Model("BMW", "1 Series", "HATCHBACK", "WBA", 3), Model("BMW", "3 Series", "SALOON", "WBA", 3),
    Model("BMW", "X5", "SUV", "WBA", 1),
    Model("MERCEDES-BENZ", "A-Class", "HATCHBACK", "WDD", 3),
    Model("MERCEDES-BENZ", "C-Class", "SALOON", "WDD", 2),
    Model("MERCEDES-BENZ", "Sprinter", "PANEL-VAN", "WDB", 2),
    Model("AUDI", "A3", "HATCHBACK", "WAU", 3), Model("AUDI", "A4", "SALOON", "WAU", 2),
    Model("AUDI", "Q5", "SUV", "WAU", 1),
    Model("TOYOTA", "Yaris", "HATCHBACK", "VNK", 3),
    Model("TOYOTA", "Corolla", "HATCHBACK", "SB1", 3),
    Model("TOYOTA", "Prius", "HATCHBACK", "JTD", 2), Model("TOYOTA", "RAV4", "SUV", "JTM", 1),
    Model("NISSAN", "Qashqai", "SUV", "SJN", 5), Model("NISSAN", "Juke", "SUV", "SJN", 3),
    Model("NISSAN", "Micra", "HATCHBACK", "SJN", 2),
    Model("KIA", "Sportage", "SUV", "KNA", 3), Model("KIA", "Picanto", "HATCHBACK", "KNA", 2),
    Model("HYUNDAI", "Tucson", "SUV", "KMH", 2), Model("HYUNDAI", "i10", "HATCHBACK", "KMH", 2),
    Model("PEUGEOT", "208", "HATCHBACK", "VF3", 3), Model("PEUGEOT", "3008", "SUV", "VF3", 1),
    Model("RENAULT", "Clio", "HATCHBACK", "VF1", 3), Model("RENAULT", "Captur", "SUV", "VF1", 1),
    Model("SKODA", "Octavia", "ESTATE", "TMB", 3), Model("SKODA", "Fabia", "HATCHBACK", "TMB", 1),
    Model("HONDA", "Civic", "HATCHBACK", "SHH", 2), Model("HONDA", "Jazz", "HATCHBACK", "SHH", 1),
    Model("MINI", "Hatch", "HATCHBACK", "WMW", 2), Model("CITROEN", "C3", "HATCHBACK", "VF7", 2),
    Model("CITROEN", "Berlingo", "CAR-DERIVED-VAN", "VF7", 1),
    Model("FIAT", "500", "HATCHBACK", "ZFA", 2), Model("SEAT", "Leon", "HATCHBACK", "VSS", 2),
    Model("LAND-ROVER", "Range Rover Evoque", "SUV", "SAL", 1),
    Model("LAND-ROVER", "Range Rover Sport", "SUV", "SAL", 1),
    Model("TESLA", "Model 3", "SALOON", "5YJ", 1), Model("MAZDA", "CX-5", "SUV", "JMZ", 1),
    Model("VOLVO", "XC60", "SUV", "YV1", 1), Model("DACIA", "Sandero", "HATCHBACK", "UU1", 2),
    Model("MG", "ZS", "SUV", "LSJ", 1), Model("LEVC", "TX", "TAXI-HACKNEY", "L6T", 1),
    Model("YAMAHA", "MT-07", "MOTORCYCLE", "JYA", 1), Model("HONDA", "PCX125", "SCOOTER", "MLH", 1),
    Model("LEXMOTO", "Echo 50", "MOPED", "L5Y", 1),
    Model("SURRON", "Light Bee X", "E-BIKE", "LZS", 1),
)  # fmt: skip
COLOURS = (
    ("GREY", 20), ("BLACK", 18), ("WHITE", 17), ("BLUE", 15), ("SILVER", 10), ("RED", 10),
    ("GREEN", 2), ("ORANGE", 2), ("BROWN", 1), ("YELLOW", 1), ("BRONZE", 1), ("PURPLE", 1),
    ("MAROON", 1), ("BEIGE", 1),
)  # fmt: skip
DESCRIPTIONS = (
    "Tinted rear windows",
    "Damage to nearside front wing",
    "Aftermarket alloy wheels",
    "Roof bars fitted",
    "Dashcam fitted",
    "Private hire plates displayed",
    "Dent to rear bumper",
    "Sign-written for a building firm",
)


class MarkIssuer:
    """Hands out registration marks in the current format, never the same one twice."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._issued: dict[str, int] = {}
        self._offset = rng.randrange(10_000_000)

    def issue(self, year: int, september: bool, local: bool) -> str:
        """A mark first registered in ``year`` (March or September), stored without spaces.

        Every age identifier has ~1.7 million marks; the issuer walks them in a scrambled
        order, so marks look random and never repeat while the space lasts.
        """
        age = year % 100 + (50 if september else 0)
        tags = LOCAL_TAGS if local else OTHER_TAGS
        count = self._issued.get(f"{age}{local}", 0)
        self._issued[f"{age}{local}"] = count + 1
        space = len(tags) * len(RANDOM_LETTERS) ** 3
        n = (self._offset + count * STRIDE) % space
        tag, rest = divmod(n, len(RANDOM_LETTERS) ** 3)
        a, rest = divmod(rest, len(RANDOM_LETTERS) ** 2)
        b, c = divmod(rest, len(RANDOM_LETTERS))
        letters = RANDOM_LETTERS[a] + RANDOM_LETTERS[b] + RANDOM_LETTERS[c]
        return f"{tags[tag]}{age:02d}{letters}"


def vin(rng: random.Random, wmi: str) -> str:
    """A 17-character VIN with the maker's prefix and no I, O or Q."""
    return wmi + "".join(rng.choices(VIN_CHARS, k=17 - len(wmi)))


def display_mark(mark: str) -> str:
    """A stored mark as it is printed on the plate (``FA21XYZ`` → ``FA21 XYZ``)."""
    return f"{mark[:4]} {mark[4:]}" if len(mark) == 7 else mark
