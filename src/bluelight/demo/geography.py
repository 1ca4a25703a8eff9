"""The demo force's city: Nottingham's districts, hot spots, postcodes and synthetic streets.

District centres, outward codes and hot spots follow the real city so that maps and "near"
queries look right; every street name, house and venue is made up, so no real address is ever
tied to a made-up crime.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

TOWN = "Nottingham"
# A box round the conurbation; every generated point is kept inside it.
SOUTH, NORTH = 52.885, 53.030
WEST, EAST = -1.265, -1.050
METRES_PER_DEGREE_LAT = 111_320.0
# The letters Royal Mail uses in the unit part of a postcode (no C, I, K, M, O, V).
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass(frozen=True, slots=True)
class District:
    """A part of the city where people live: its centre, spread and outward postcodes."""

    name: str
    latitude: float
    longitude: float
    radius_m: float
    outward: tuple[str, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class HotSpot:
    """A small area where crime concentrates: a night-time economy, a retail or a transport hub."""

    name: str
    kind: str
    latitude: float
    longitude: float
    radius_m: float
    weight: float
    outward: str


DISTRICTS: tuple[District, ...] = (
    District("City Centre", 52.9540, -1.1500, 700, ("NG1",), 3),
    District("Sneinton", 52.9525, -1.1290, 900, ("NG2", "NG3"), 5),
    District("The Meadows", 52.9390, -1.1480, 800, ("NG2",), 4),
    District("West Bridgford", 52.9300, -1.1280, 1400, ("NG2",), 7),
    District("St Ann's", 52.9640, -1.1380, 800, ("NG3",), 5),
    District("Mapperley", 52.9820, -1.1200, 1200, ("NG3",), 5),
    District("Carlton", 52.9680, -1.0880, 1300, ("NG4",), 6),
    District("Sherwood", 52.9870, -1.1530, 1000, ("NG5",), 6),
    District("Arnold", 53.0050, -1.1270, 1500, ("NG5",), 7),
    District("Bestwood", 53.0050, -1.1650, 1000, ("NG5",), 4),
    District("Bulwell", 53.0010, -1.1970, 1200, ("NG6",), 7),
    District("Basford", 52.9850, -1.1800, 900, ("NG6",), 4),
    District("Hyson Green", 52.9690, -1.1650, 800, ("NG7",), 5),
    District("Radford", 52.9590, -1.1750, 800, ("NG7",), 5),
    District("Lenton", 52.9480, -1.1760, 900, ("NG7",), 5),
    District("Aspley", 52.9730, -1.2020, 1000, ("NG8",), 5),
    District("Bilborough", 52.9640, -1.2250, 1000, ("NG8",), 4),
    District("Wollaton", 52.9520, -1.2100, 1300, ("NG8",), 5),
    District("Beeston", 52.9260, -1.2150, 1400, ("NG9",), 7),
    District("Clifton", 52.9050, -1.1800, 1300, ("NG11",), 6),
)

HOT_SPOTS: tuple[HotSpot, ...] = (
    HotSpot("Old Market Square", "nte", 52.9527, -1.1500, 250, 10, "NG1"),
    HotSpot("Hockley", "nte", 52.9525, -1.1420, 200, 8, "NG1"),
    HotSpot("Lace Market", "nte", 52.9512, -1.1445, 180, 5, "NG1"),
    HotSpot("Mansfield Road", "nte", 52.9615, -1.1490, 250, 3, "NG1"),
    HotSpot("Lenton Triangle", "nte", 52.9490, -1.1790, 250, 3, "NG7"),
    HotSpot("Bulwell Town Centre", "nte", 53.0005, -1.1960, 250, 2, "NG6"),
    HotSpot("Beeston High Road", "nte", 52.9255, -1.2155, 250, 2, "NG9"),
    HotSpot("Victoria Centre", "retail", 52.9575, -1.1480, 200, 8, "NG1"),
    HotSpot("Clumber Street", "retail", 52.9548, -1.1467, 150, 6, "NG1"),
    HotSpot("Broad Marsh", "retail", 52.9490, -1.1480, 200, 4, "NG1"),
    HotSpot("Hyson Green Retail Park", "retail", 52.9695, -1.1655, 250, 4, "NG7"),
    HotSpot("Bulwell Market", "retail", 53.0000, -1.1955, 200, 3, "NG6"),
    HotSpot("Arnold Front Street", "retail", 53.0045, -1.1280, 200, 2, "NG5"),
    HotSpot("Nottingham Station", "transport", 52.9470, -1.1462, 150, 3, "NG2"),
    HotSpot("Victoria Bus Station", "transport", 52.9585, -1.1495, 120, 2, "NG1"),
)

STREET_STEMS = (
    "Abbey", "Alder", "Alma", "Ashdale", "Aspen", "Avondale", "Balmoral", "Beech", "Belvoir",
    "Birch", "Blenheim", "Bramble", "Bridle", "Brook", "Burford", "Carisbrooke", "Carrington",
    "Cavendish", "Cedar", "Chandos", "Chestnut", "Church", "Clarendon", "Colwick", "Coppice",
    "Cromwell", "Cranmer", "Denewood", "Derwent", "Dovedale", "Elm", "Elmsthorpe", "Fernleigh",
    "Ferndale", "Forest", "Foxhall", "Gladstone", "Glebe", "Grange", "Greenwood", "Hadden",
    "Hartley", "Hawthorn", "Hazel", "Heather", "Highfield", "Hillside", "Holly", "Ivy",
    "Kenilworth", "Kingsley", "Lambley", "Larch", "Laurel", "Lime", "Linden", "Longmead",
    "Lyndhurst", "Manor", "Maple", "Marlborough", "Meadow", "Melbourne", "Mill", "Moorbridge",
    "Newstead", "Norfolk", "Oak", "Oakdale", "Orchard", "Osborne", "Park", "Peveril", "Pine",
    "Portland", "Priory", "Queens", "Radcliffe", "Ravensworth", "Redhill", "Redcliffe",
    "Ribblesdale", "Rosedale", "Rowan", "Russell", "Rutland", "Sandfield", "Sherbrooke",
    "Sherwood", "Southwell", "Spring", "Stanhope", "Station", "Sycamore", "Thoresby",
    "Thorneywood", "Trent", "Tennyson", "Valley", "Vernon", "Victoria", "Walnut", "Welbeck",
    "Wellington", "Westdale", "Whitemoor", "Willow", "Windmill", "Windsor", "Woodborough",
    "Woodland", "Woodthorpe", "Wycliffe", "York",
)  # fmt: skip
STREET_SUFFIXES = (
    "Road", "Street", "Avenue", "Close", "Lane", "Drive", "Grove", "Gardens", "Crescent", "Way",
    "Court", "Place", "Terrace", "Walk", "Rise", "View", "Mews",
)  # fmt: skip


@dataclass(slots=True)
class Street:
    """A made-up street: where it lies, which postcode sector it is in, how many doors it has."""

    name: str
    district: int
    latitude: float
    longitude: float
    bearing: float
    sector: str
    salt: int
    doors: int = field(default=0)


def offset(latitude: float, longitude: float, north_m: float, east_m: float) -> tuple[float, float]:
    """The point ``north_m`` metres north and ``east_m`` east of a point, kept in the city box."""
    lat = latitude + north_m / METRES_PER_DEGREE_LAT
    lon = longitude + east_m / (METRES_PER_DEGREE_LAT * math.cos(math.radians(latitude)))
    return (round(min(max(lat, SOUTH), NORTH), 6), round(min(max(lon, WEST), EAST), 6))


def scatter(
    rng: random.Random, latitude: float, longitude: float, radius_m: float
) -> tuple[float, float]:
    """A point round a centre, denser near it (a two-dimensional normal spread)."""
    return offset(latitude, longitude, rng.gauss(0, radius_m / 2), rng.gauss(0, radius_m / 2))


def unit(rng: random.Random) -> str:
    """The last two letters of a postcode."""
    return rng.choice(UNIT_LETTERS) + rng.choice(UNIT_LETTERS)


def build_streets(rng: random.Random, count: int) -> list[Street]:
    """``count`` streets over the districts, in proportion to their population.

    A name is used once per district; a big city repeats names across districts, as real
    cities do with their many Church Roads.
    """
    total = sum(d.weight for d in DISTRICTS)
    names = [f"{stem} {suffix}" for stem in STREET_STEMS for suffix in STREET_SUFFIXES]
    streets: list[Street] = []
    for index, district in enumerate(DISTRICTS):
        share = max(3, round(count * district.weight / total))
        chosen = rng.sample(names, min(share, len(names)))
        for name in chosen:
            lat, lon = scatter(rng, district.latitude, district.longitude, district.radius_m)
            outward = rng.choice(district.outward)
            streets.append(
                Street(
                    name=name,
                    district=index,
                    latitude=lat,
                    longitude=lon,
                    bearing=rng.uniform(0, math.pi),
                    sector=f"{outward} {rng.randint(1, 9)}",
                    salt=rng.getrandbits(32),
                )
            )
    return streets


def door_point(street: Street, number: int) -> tuple[float, float]:
    """Where door ``number`` of a street is: doors run along it, odd and even facing."""
    along = (number // 2) * 14.0 - 150.0
    side = 9.0 if number % 2 else -9.0
    north = along * math.cos(street.bearing) - side * math.sin(street.bearing)
    east = along * math.sin(street.bearing) + side * math.cos(street.bearing)
    return offset(street.latitude, street.longitude, north, east)


def door_postcode(street: Street, number: int) -> str:
    """The postcode of a door: one unit covers about twenty doors of a street."""
    block = (street.salt + number // 20) * 2654435761 % (len(UNIT_LETTERS) ** 2)
    return f"{street.sector}{UNIT_LETTERS[block // 20]}{UNIT_LETTERS[block % 20]}"
