"""The synthetic force as a stream of rows: pure functions of the size, the seed and the date.

Nothing here touches a database. Each kind of record comes from its own stream with its own
seeded ``random.Random``, so changing how vehicles are made never shifts the persons. What one
stream needs to know of another (a person's id, home, sex and age; a vehicle's keeper; a
location's id) is a pure function of the record's index, so no stream keeps the others in
memory and a force of millions streams in bounded memory.

Ids are UUIDv7, like the server's own: the timestamp is the record's creation time and the
random bits come from the seed, so keyset pages run in creation order, B-tree inserts stay
local, and the same seed gives the same ids.
"""

from __future__ import annotations

import bisect
import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import msgspec

from bluelight.demo import crime, geography, people, vehicles
from bluelight.demo.geography import DISTRICTS, HOT_SPOTS, Street
from bluelight.kernel.ids import uuid7_int
from bluelight.records import rules
from bluelight.records.kinds import BY_NAME

Row = dict[str, Any]
M64 = (1 << 64) - 1
MS = timedelta(milliseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNKNOWN_SAFETY = uuid.SafeUUID.unknown
BASE_YEARS = 2
DEFAULT_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class SizeSpec:
    """How big a force to make: the main counts, the roster and the years of history."""

    name: str
    persons: int
    vehicles: int
    events: int
    officers: int
    years: int = 2

    @property
    def addresses(self) -> int:
        """Homes: about 2.2 people to a household."""
        return max(10, self.persons * 9 // 20)

    @property
    def venues(self) -> int:
        """Pubs, shops, street points, car parks and other places that are not homes."""
        return sum(count for _, count in venue_counts(self))

    @property
    def locations(self) -> int:
        return self.addresses + self.venues


SIZES: dict[str, SizeSpec] = {
    "small": SizeSpec("small", persons=2_000, vehicles=1_000, events=3_000, officers=30, years=1),
    "force": SizeSpec(
        "force", persons=200_000, vehicles=100_000, events=300_000, officers=2_000, years=3
    ),
    "large": SizeSpec(
        "large", persons=2_000_000, vehicles=1_000_000, events=5_000_000, officers=8_000, years=5
    ),
}


def mix64(x: int) -> int:
    """SplitMix64's finaliser: a bijection on 64-bit integers that scatters nearby inputs."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def uuid7(at: datetime, bits: int) -> uuid.UUID:
    """A UUIDv7 for the instant ``at`` with 74 bits of ``bits`` as its random part."""
    return uuid7_ms((at - EPOCH) // MS, bits)


def uuid7_ms(millis: int, bits: int) -> uuid.UUID:
    """A UUIDv7 for Unix milliseconds ``millis`` with 74 bits of ``bits`` as its random part."""
    value = uuid7_int(millis, bits)
    # Building the UUID from its slots skips UUID.__init__'s argument checks, a fifth of the
    # time it takes to make a row; the value is a valid version 7 UUID by construction.
    made = object.__new__(uuid.UUID)
    object.__setattr__(made, "int", value)
    object.__setattr__(made, "is_safe", UNKNOWN_SAFETY)
    return made


def seeded(label: str) -> random.Random:
    """A generator seeded from ``label``: the same label always gives the same sequence."""
    return random.Random(label)  # noqa: S311  (reproducible synthetic data, never a secret)


# Age bands (share of 65536, lowest and highest age in years) of the people known to police.
AGES = (
    (5243, 10, 18), (23593, 18, 30), (41943, 30, 45), (56361, 45, 65), (65536, 65, 92),
)  # fmt: skip
PROLIFIC_AGES = ((9830, 14, 18), (39322, 18, 30), (62259, 30, 45), (65536, 45, 60))


def _coprime(n: int) -> int:
    for candidate in (1_000_003, 999_983, 104_729, 7_919, 101, 7):
        if math.gcd(candidate, n) == 1:
            return candidate % n or 1
    return 1


def _draw(rng: random.Random, cum: list[float]) -> int:
    """An index drawn with the weights whose running totals are ``cum``."""
    return min(bisect.bisect(cum, rng.random() * cum[-1]), len(cum) - 1)


def _cumulative(weights: Sequence[float]) -> list[float]:
    total = 0.0
    out: list[float] = []
    for w in weights:
        total += w
        out.append(total)
    return out


@dataclass(frozen=True, slots=True)
class Permutation:
    """A cheap bijection of ``range(n)``, so pools of people need no stored list."""

    n: int
    mult: int
    inverse: int
    offset: int

    @classmethod
    def of(cls, n: int, salt: int) -> Permutation:
        mult = _coprime(n)
        return cls(n, mult, pow(mult, -1, n), salt % n)

    def at(self, rank: int) -> int:
        return (rank * self.mult + self.offset) % self.n

    def rank(self, index: int) -> int:
        return ((index - self.offset) * self.inverse) % self.n


class Plan:
    """Everything the streams share: counts, windows, salts, and index-to-record functions."""

    def __init__(self, spec: SizeSpec, seed: int, as_of: date, force_code: str) -> None:
        self.spec = spec
        self.seed = seed
        self.as_of = as_of
        self.force_code = force_code
        self.end = datetime.combine(as_of, time(0), tzinfo=UTC)
        self.events_start = self.end - timedelta(days=365 * spec.years)
        self.base_start = self.events_start - timedelta(days=365 * BASE_YEARS)
        self.base_ms = (self.base_start - EPOCH) // MS
        self.base_span = (self.events_start - self.base_start) // MS
        self.salts = {
            name: seeded(f"{seed}:{name}").getrandbits(64)
            for name in ("person", "vehicle", "location", "people", "keeper", "demo")
        }
        n = spec.persons
        self.people = Permutation.of(n, self.salts["people"])
        self.location_count = spec.locations
        self.keeper_age = 18 + BASE_YEARS + spec.years
        self.prolific = max(5, n * 3 // 100)
        self.repeat_victims = max(5, n * 2 // 100)
        rng = seeded(f"{seed}:roster")
        ranks = rng.choices(("pc", "ps", "dc", "ds"), weights=(80, 8, 8, 4), k=spec.officers)
        collars = rng.sample(range(1000, 10_000), spec.officers)
        self.officers = tuple(f"{r}.{c}" for r, c in zip(ranks, collars, strict=True))
        self.streets = geography.build_streets(
            seeded(f"{seed}:streets"), min(4_000, max(60, spec.addresses // 60))
        )

    def rng(self, stream: str) -> random.Random:
        """The stream's own generator, so streams never shift one another."""
        return seeded(f"{self.seed}:{stream}")

    # --- records other streams refer to, by index -------------------------------------------

    def _base(self, kind: str, index: int, count: int) -> tuple[int, int]:
        """Creation time (Unix milliseconds) and id bits of a record made before the events.

        Records are spread evenly over the base window in index order, so ids rise with the
        index and a stream's inserts land at the end of the primary key's B-tree.
        """
        h = mix64(self.salts[kind] ^ index)
        millis = self.base_ms + self.base_span * ((index << 16) | (h & 0xFFFF)) // (count << 16)
        return millis, (h << 10) | (index & 0x3FF)

    def person_created(self, i: int) -> datetime:
        return EPOCH + MS * self._base("person", i, self.spec.persons)[0]

    def person_id(self, i: int) -> uuid.UUID:
        return uuid7_ms(*self._base("person", i, self.spec.persons))

    def vehicle_created(self, v: int) -> datetime:
        return EPOCH + MS * self._base("vehicle", v, self.spec.vehicles)[0]

    def vehicle_id(self, v: int) -> uuid.UUID:
        return uuid7_ms(*self._base("vehicle", v, self.spec.vehicles))

    def location_created(self, k: int) -> datetime:
        return EPOCH + MS * self._base("location", k, self.location_count)[0]

    def location_id(self, k: int) -> uuid.UUID:
        return uuid7_ms(*self._base("location", k, self.location_count))

    def home(self, i: int) -> int:
        """The address (location index) person ``i`` lives at: households of two or three."""
        return i * self.spec.addresses // self.spec.persons

    def is_prolific(self, i: int) -> bool:
        """Whether person ``i`` is one of the few offenders behind many events."""
        return self.people.rank(i) < self.prolific

    def demographics(self, i: int) -> tuple[bool, bool, int]:
        """Whether person ``i`` is a prolific offender, is female, and their age in days.

        People known to the police are younger than the population, prolific offenders more so.
        """
        prolific = self.people.rank(i) < self.prolific
        h = mix64(self.salts["demo"] ^ i)
        female = (h & 0xFFFF) < (9830 if prolific else 34078)
        u = (h >> 16) & 0xFFFF
        band = PROLIFIC_AGES if prolific else AGES
        low, high = next(((lo, hi) for share, lo, hi in band if u < share), band[-1][1:])
        days = low * 36525 // 100 + ((h >> 32) & 0xFFFFFF) * (high - low) * 36525 // 1_677_721_600
        return prolific, female, days + 1

    def female(self, i: int) -> bool:
        return self.demographics(i)[1]

    def birth(self, i: int) -> date:
        return self.as_of - timedelta(days=self.demographics(i)[2])

    def age(self, i: int) -> int:
        return self.demographics(i)[2] * 100 // 36525

    def keeper(self, v: int) -> int:
        """The registered keeper of vehicle ``v``: old enough to drive when its record was made."""
        n = self.spec.persons
        i = mix64(self.salts["keeper"] ^ v) % n
        for _ in range(n):
            if self.age(i) >= self.keeper_age:
                return i
            i = (i + 1) % n
        return i

    def officer(self, rng: random.Random) -> str:
        return self.officers[int(rng.random() * len(self.officers))]

    def address(self, a: int) -> tuple[Street, int, str]:
        """The street, door number and premises line of address ``a``."""
        count = len(self.streets)
        s = a * count // self.spec.addresses
        first = (s * self.spec.addresses + count - 1) // count
        rank = a - first
        street = self.streets[s]
        if street.salt % 5 == 0:
            number = rank // 8 + 1
            return street, number, f"Flat {rank % 8 + 1}, {number}"
        return street, rank + 1, str(rank + 1)


def record(
    row_id: uuid.UUID, created_at: datetime, created_by: str, owner: str, **fields: Any
) -> Row:
    """A row with the columns every record carries, as a first version."""
    return {
        "id": row_id,
        "version": 1,
        "owner_agency": owner,
        "classification": "OFFICIAL",
        "restricted": False,
        "created_at": created_at,
        "created_by": created_by,
        "updated_at": created_at,
        "updated_by": created_by,
        "deleted_at": None,
        "deleted_by": None,
        "deletion_reason": None,
        "original_codes": None,
        **fields,
    }


@dataclass(frozen=True, slots=True)
class Stamp:
    """When a record was made, by whom, and the random part of its id."""

    at: datetime
    by: str
    bits: int


def link_row(
    plan: Plan,
    stamp: Stamp,
    link_type: str,
    source: tuple[str, uuid.UUID],
    target: tuple[str, uuid.UUID],
    *,
    role: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
) -> Row:
    """A link from ``source`` to ``target`` (each an entity type and id)."""
    return record(
        uuid7(stamp.at, stamp.bits),
        stamp.at,
        stamp.by,
        plan.force_code,
        link_type=link_type,
        role=role,
        from_type=source[0],
        from_id=source[1],
        to_type=target[0],
        to_id=target[1],
        valid_from=valid_from,
        valid_to=valid_to,
        notes=None,
    )


def marker_row(
    plan: Plan, stamp: Stamp, subject: tuple[str, uuid.UUID], marker: tuple[str, str], review: date
) -> Row:
    """A warning marker (code and detail) on a person or a location."""
    return record(
        uuid7(stamp.at, stamp.bits),
        stamp.at,
        stamp.by,
        plan.force_code,
        subject_type=subject[0],
        subject_id=subject[1],
        marker=marker[0],
        detail=marker[1],
        review_date=review,
    )


def _marker_stamp(
    plan: Plan, rng: random.Random, subject_created: datetime, by: str, bits: int
) -> tuple[Stamp, date]:
    latest = plan.end - timedelta(days=1)
    created = min(subject_created + timedelta(days=rng.randint(0, 700)), latest)
    return Stamp(created, by, bits), plan.as_of + timedelta(days=rng.randint(30, 1_095))


PERSON_MARKERS: tuple[tuple[str, float, str], ...] = (
    ("VI", 25, "Violent towards police on arrest; two officers to attend."),
    ("WE", 12, "Known to carry a knife."),
    ("DR", 15, "Uses and deals class A drugs; may conceal items."),
    ("DA", 8, "Perpetrator of domestic abuse."),
    ("MH", 8, "Diagnosed mental health condition; may become agitated."),
    ("SH", 6, "History of self-harm."),
    ("SU", 5, "Has threatened suicide when detained."),
    ("OS", 8, "Officer safety: has made threats against officers."),
    ("ES", 3, "Has escaped from custody."),
    ("AG", 4, "Has made allegations against officers."),
    ("AT", 3, "Epileptic: risk of seizure in custody."),
    ("CO", 1, "Hepatitis C: take precautions with bodily fluids."),
    ("SX", 2, "Registered sex offender."),
    ("FI", 1, "Believed to have access to firearms."),
)
LOCATION_MARKERS: tuple[tuple[str, float, str], ...] = (
    ("DD", 30, "Large dog at the address, believed to be aggressive."),
    ("DR", 20, "Suspected cannabis cultivation."),
    ("FP", 8, "Reinforced front door and window grilles."),
    ("OS", 15, "Occupants hostile to police; attend in pairs."),
    ("DA", 15, "Address linked to repeat domestic abuse."),
    ("HZ", 6, "Hoarder: trip and fire hazards inside."),
    ("WE", 5, "Weapons reported stored at the address."),
    ("FI", 1, "Shotgun certificate holder at the address."),
)


def _location(plan: Plan, index: int, created_by: str, **fields: Any) -> Row:
    lat, lon = fields["latitude"], fields["longitude"]
    base: Row = {
        "name": None,
        "location_type": None,
        "premises": None,
        "street": None,
        "locality": None,
        "town": geography.TOWN,
        "postcode": None,
        "uprn": None,
        "h3_cell": rules.h3_cell(lat, lon),
    }
    base.update(fields)
    return record(
        plan.location_id(index), plan.location_created(index), created_by, plan.force_code, **base
    )


# --- venues ----------------------------------------------------------------------------------

PUB_FIRST = ("Red", "White", "Golden", "Royal", "Old", "Black", "Jolly", "Merry", "Three")
PUB_SECOND = ("Lion", "Hart", "Swan", "Bell", "Horse", "Anchor", "Plough", "Oak", "Fox", "Bull")
BAR_NAMES = ("Neon", "Velvet", "Forge", "Vault", "Loft", "Cellar", "Electric", "Junction")
BRANDS = (
    "Greenfield", "Northgate", "Castle", "Trentside", "Sherwood", "Parkside", "Lace", "Forest",
    "Meadow", "Riverside", "Hillcrest", "Kingsway",
)  # fmt: skip
SHOPS = (
    "Supermarket", "Express", "Convenience Store", "Pharmacy", "Off Licence", "Phone Repairs",
    "Discount Store", "Sports", "Fashion", "Electricals", "Home Store", "Department Store",
)  # fmt: skip
TRADES = ("Motors", "Engineering", "Builders Merchants", "Logistics", "Joinery", "Tyres")


VENUE_SHARES = (
    ("pub", 0.16), ("shop", 0.30), ("street", 0.34), ("car-park", 0.05), ("petrol", 0.03),
    ("commercial", 0.10), ("transport", 0.02),
)  # fmt: skip


def venue_counts(spec: SizeSpec) -> list[tuple[str, int]]:
    """How many places of each category: one per hot spot and district at least."""
    total = spec.persons // 25
    least = len(HOT_SPOTS) + len(DISTRICTS)
    return [(category, max(least, int(total * share))) for category, share in VENUE_SHARES]


@dataclass(frozen=True, slots=True)
class Venue:
    """A place that is not a home, as the event stream needs it: its category, where, a label."""

    category: str
    area: int
    label: str


class Venues:
    """The non-home places, built once in memory (a few per thousand people)."""

    def __init__(self, plan: Plan) -> None:
        rng = plan.rng("venues")
        self.rows: list[tuple[Venue, dict[str, Any]]] = []
        self.by: dict[tuple[str, int], list[int]] = {}
        self._hot_streets = [
            [self._street(rng, plan, spot) for _ in range(5)] for spot in HOT_SPOTS
        ]
        for category, count in venue_counts(plan.spec):
            for n in range(count):
                self._add(rng, plan, category, n)

    @staticmethod
    def _street(rng: random.Random, plan: Plan, spot: geography.HotSpot) -> Street:
        lat, lon = geography.scatter(rng, spot.latitude, spot.longitude, spot.radius_m)
        near = min(
            range(len(DISTRICTS)),
            key=lambda d: (DISTRICTS[d].latitude - lat) ** 2 + (DISTRICTS[d].longitude - lon) ** 2,
        )
        name = rng.choice(plan.streets).name
        return Street(
            name,
            near,
            lat,
            lon,
            rng.uniform(0, math.pi),
            f"{spot.outward} {rng.randint(1, 9)}",
            rng.getrandbits(32),
        )

    def _add(self, rng: random.Random, plan: Plan, category: str, n: int) -> None:
        spots = {
            "pub": "nte", "shop": "retail", "street": None, "transport": "transport",
        }  # fmt: skip
        kind = spots.get(category, "")
        candidates = [h for h, s in enumerate(HOT_SPOTS) if kind is None or s.kind == kind]
        # The first few of each category go round every hot spot and district, so no list the
        # event stream draws from is ever empty; the rest cluster in the busiest hot spots.
        in_spot = bool(candidates) and (
            n < len(candidates) or (n >= len(candidates) + len(DISTRICTS) and rng.random() < 0.6)
        )
        if in_spot:
            spot_index = (
                candidates[n]
                if n < len(candidates)
                else rng.choices(candidates, weights=[HOT_SPOTS[h].weight for h in candidates])[0]
            )
            street = rng.choice(self._hot_streets[spot_index])
            area = spot_index
        else:
            d = (
                (n - len(candidates)) % len(DISTRICTS)
                if n < len(candidates) + len(DISTRICTS)
                else -1
            )
            pool = [s for s in plan.streets if d < 0 or s.district == d]
            street = rng.choice(pool or plan.streets)
            area = len(HOT_SPOTS) + street.district
        # Hot-spot venues crowd into the few hundred metres of the spot's own streets.
        number = rng.randint(1, 40) if in_spot else rng.randint(1, 240)
        lat, lon = geography.door_point(street, number)
        postcode = geography.door_postcode(street, number)
        fields: dict[str, Any] = {
            "street": street.name,
            "locality": DISTRICTS[street.district].name,
            "postcode": postcode,
            "latitude": lat,
            "longitude": lon,
        }
        brand = rng.choice(BRANDS)
        if category == "pub":
            if rng.random() < 0.7:
                name = f"The {rng.choice(PUB_FIRST)} {rng.choice(PUB_SECOND)}"
            else:
                name = f"{rng.choice(BAR_NAMES)} {rng.choice(('Bar', 'Club', 'Lounge'))}"
            fields |= {"name": name, "location_type": "licensed-premises", "premises": str(number)}
        elif category == "shop":
            name = f"{brand} {rng.choice(SHOPS)}"
            fields |= {"name": name, "location_type": "shop", "premises": str(number)}
        elif category == "street":
            name = street.name
            fields |= {"location_type": "street", "postcode": None}
        elif category == "car-park":
            name = f"{street.name} Car Park"
            fields |= {"name": name, "location_type": "car-park"}
        elif category == "petrol":
            name = f"{brand} Service Station"
            fields |= {"name": name, "location_type": "petrol-station", "premises": str(number)}
        elif category == "commercial":
            name = f"{brand} {rng.choice(TRADES)}"
            fields |= {
                "name": name,
                "location_type": rng.choice(("commercial-premises", "industrial")),
                "premises": f"Unit {rng.randint(1, 30)}",
            }
        else:
            spot = HOT_SPOTS[area] if area < len(HOT_SPOTS) else None
            name = spot.name if spot and n < len(candidates) else f"{street.name} Bus Stop"
            kind_code = (
                "railway-station" if "Station" in name and "Bus" not in name else "transport-hub"
            )
            fields |= {"name": name, "location_type": kind_code}
        venue = Venue(category, area, name)
        self.by.setdefault((category, area), []).append(len(self.rows))
        self.by.setdefault((category, -1), []).append(len(self.rows))
        if area < len(HOT_SPOTS):
            self.by.setdefault((category, -2), []).append(len(self.rows))
        self.rows.append((venue, fields))


# --- streams ---------------------------------------------------------------------------------


def locations(plan: Plan, venues: Venues) -> Iterator[tuple[str, Row]]:
    """Homes, then venues and street points; a few carry a warning marker."""
    rng = plan.rng("locations")
    cum = _cumulative([w for _, w, _ in LOCATION_MARKERS])
    marker_salt = plan.salts["location"] ^ 0x5A5A
    for a in range(plan.spec.addresses):
        street, number, premises = plan.address(a)
        lat, lon = geography.door_point(street, number)
        flat = premises.startswith("Flat")
        by = plan.officer(rng)
        row = _location(
            plan,
            a,
            by,
            location_type="flat" if flat else ("hmo" if rng.random() < 0.04 else "dwelling"),
            premises=premises,
            street=street.name,
            locality=DISTRICTS[street.district].name,
            postcode=geography.door_postcode(street, number),
            latitude=lat,
            longitude=lon,
        )
        yield "location", row
        if rng.random() < 0.006:
            code, _, detail = LOCATION_MARKERS[_draw(rng, cum)]
            stamp, review = _marker_stamp(plan, rng, row["created_at"], by, mix64(marker_salt ^ a))
            yield "marker", marker_row(plan, stamp, ("location", row["id"]), (code, detail), review)
    for k, (_, fields) in enumerate(venues.rows):
        index = plan.spec.addresses + k
        yield "location", _location(plan, index, plan.officer(rng), **fields)


class _PersonMaker:
    """Makes people household by household: families share a name and mostly an ethnicity."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.rng = plan.rng("persons")
        self.pools = people.build_pools(plan.seed)
        self.eth_codes = [c for c, _ in people.ETHNICITY_SELF]
        self.eth_cum = _cumulative([w for _, w in people.ETHNICITY_SELF])
        self.marker_cum = _cumulative([w for _, w, _ in PERSON_MARKERS])
        self.link_salt = plan.salts["person"] ^ 0x1111
        self.marker_salt = plan.salts["person"] ^ 0x2222
        self.home = -1
        self.family = ""
        self.household_eth = "W1"
        self.links = 0

    def rows(self, i: int) -> Iterator[tuple[str, Row]]:
        plan, rng = self.plan, self.rng
        prolific, female, days = plan.demographics(i)
        birth = plan.as_of - timedelta(days=days)
        age = days * 100 // 36525
        created = plan.person_created(i)
        by = plan.officer(rng)
        if plan.home(i) != self.home:
            self.home = plan.home(i)
            self.household_eth = self.eth_codes[_draw(rng, self.eth_cum)]
            self.family = ""
        eth = self.household_eth if rng.random() < 0.9 else rng.choice(self.eth_codes)
        names = self._names(people.pool_key(eth), female, prolific, birth)
        family, given = names[0]["family_name"], names[0]["given_names"]
        fields: Row = {
            "family_name": family,
            "given_names": given,
            "family_name_key": rules.name_key(family),
            "given_names_key": rules.name_key(given),
            "names": names,
            "date_of_birth": birth,
            "age_min": None,
            "age_max": None,
            "sex": "F" if female else "M",
            "ethnicity_officer": people.officer_code(eth) if rng.random() < 0.9 else None,
            "ethnicity_self": eth if rng.random() < 0.7 else None,
            **self._description(female, prolific or rng.random() < 0.3),
            "marks": self._marks(prolific),
            "identifiers": self._identifiers(birth, age, prolific, given, female),
        }
        if not prolific and rng.random() < 0.02:
            fields |= {"date_of_birth": None, "age_min": max(0, age - 5), "age_max": age + 5}
        row = record(plan.person_id(i), created, by, plan.force_code, **fields)
        yield "person", row
        yield from self._addresses(row, birth)
        yield from self._markers(i, row, prolific)

    def _names(self, key: str, female: bool, prolific: bool, birth: date) -> list[Row]:
        rng = self.rng
        pool = self.pools[key]
        if not self.family or rng.random() < 0.25:
            self.family = rng.choice(pool.family)
        givens = pool.female if female else pool.male
        first = rng.choice(givens)
        given = first
        if rng.random() < 0.45:
            middle = rng.choice(givens)
            given = first if middle == first else f"{first} {middle}"
        names: list[Row] = [_name("primary", self.family, given)]
        if female and birth.year < 1995 and rng.random() < 0.08:
            names.append(_name("maiden", rng.choice(pool.family), given))
        if prolific and rng.random() < 0.3:
            names.append(_name("alias", rng.choice(pool.family), first))
        if prolific and not female and rng.random() < 0.15:
            names.append(_name("nickname", self.family, rng.choice(people.NICKNAMES)))
        return names

    def _description(self, female: bool, described: bool) -> Row:
        rng = self.rng
        if not described:
            return dict.fromkeys(DESCRIPTION)
        mean, sd = (163, 6.5) if female else (176, 7.0)
        return {
            "height_cm": int(min(205, max(140, rng.gauss(mean, sd)))),
            "build": rng.choice(people.BUILDS),
            "hair_colour": rng.choice(people.HAIR_COLOURS),
            "hair_length": rng.choice(people.HAIR_LENGTHS),
            "hair_style": rng.choice(people.HAIR_STYLES),
            "eye_colour": rng.choice(people.EYES),
            "facial_hair": None if female else rng.choice(people.FACIAL_HAIR),
        }

    def _marks(self, prolific: bool) -> list[Row]:
        rng = self.rng
        if rng.random() >= (0.6 if prolific else 0.04):
            return []
        return [
            {
                "type": mark_type,
                "location": rng.choice(places),
                "description": rng.choice(descriptions),
            }
            for mark_type, places, descriptions in rng.sample(people.MARKS, rng.randint(1, 3))
        ]

    def _identifiers(
        self, birth: date, age: int, prolific: bool, given: str, female: bool
    ) -> list[Row]:
        plan, rng = self.plan, self.rng
        out: list[Row] = []
        first_seen = max(birth.year + 12, plan.as_of.year - 15)
        if prolific:
            out.append(_ident("pnc-id", people.pnc_id(rng, first_seen), "PNC"))
            if rng.random() < 0.6:
                out.append(_ident("cro-number", people.cro_number(rng, first_seen), None))
            if rng.random() < 0.5:
                year = plan.as_of.year - rng.randint(0, 4)
                number = people.custody_number(rng, plan.force_code, year)
                out.append(_ident("custody-number", number, plan.force_code))
        if age >= 17 and rng.random() < 0.25:
            licence = people.driving_licence(rng, self.family, given, birth, female)
            out.append(_ident("driving-licence", licence, "DVLA"))
        if age >= 16 and rng.random() < 0.1:
            out.append(_ident("national-insurance-number", people.ni_number(rng), None))
        if rng.random() < 0.04:
            out.append(_ident("passport", people.passport_number(rng), "GBR"))
        return out

    def _stamp(self, row: Row) -> Stamp:
        self.links += 1
        return Stamp(row["created_at"], row["created_by"], mix64(self.link_salt ^ self.links))

    def _addresses(self, row: Row, birth: date) -> Iterator[tuple[str, Row]]:
        plan, rng = self.plan, self.rng
        born = datetime.combine(birth, time(12), tzinfo=UTC)
        moved_in = max(born, row["created_at"] - timedelta(days=rng.randint(30, 3_650)))
        person = ("person", row["id"])
        home = ("location", plan.location_id(self.home))
        yield (
            "link",
            link_row(plan, self._stamp(row), "resides-at", person, home, valid_from=moved_in),
        )
        if moved_in > born and rng.random() < 0.08:
            before = plan.home(int(rng.random() * plan.spec.persons))
            if before != self.home:
                yield (
                    "link",
                    link_row(
                        plan,
                        self._stamp(row),
                        "previously-resided-at",
                        person,
                        ("location", plan.location_id(before)),
                        valid_from=max(born, moved_in - timedelta(days=rng.randint(200, 2_000))),
                        valid_to=moved_in,
                    ),
                )

    def _markers(self, i: int, row: Row, prolific: bool) -> Iterator[tuple[str, Row]]:
        rng = self.rng
        if rng.random() >= (0.45 if prolific else 0.015):
            return
        chosen: set[str] = set()
        for m in range(rng.choice((1, 1, 1, 2))):
            code, _, detail = PERSON_MARKERS[_draw(rng, self.marker_cum)]
            if code in chosen:
                continue
            chosen.add(code)
            bits = mix64(self.marker_salt ^ (i * 4 + m))
            stamp, review = _marker_stamp(
                self.plan, rng, row["created_at"], row["created_by"], bits
            )
            yield (
                "marker",
                marker_row(self.plan, stamp, ("person", row["id"]), (code, detail), review),
            )


DESCRIPTION = (
    "height_cm", "build", "hair_colour", "hair_length", "hair_style", "eye_colour", "facial_hair",
)  # fmt: skip


def _name(kind: str, family: str, given: str) -> Row:
    return {"type": kind, "family_name": family, "given_names": given, "title": None}


def _ident(kind: str, value: str, issuer: str | None) -> Row:
    return {"type": kind, "value": value, "issuer": issuer}


def persons(plan: Plan) -> Iterator[tuple[str, Row]]:
    """People in households, each living at an address; a few carry warning markers."""
    maker = _PersonMaker(plan)
    for i in range(plan.spec.persons):
        yield from maker.rows(i)


def vehicles_stream(plan: Plan) -> Iterator[tuple[str, Row]]:
    """Vehicles with current-format marks, each with its registered keeper, some a driver."""
    rng = plan.rng("vehicles")
    issuer = vehicles.MarkIssuer(plan.rng("marks"))
    models = vehicles.MODELS
    model_cum = _cumulative([m.weight for m in models])
    colours = [c for c, _ in vehicles.COLOURS]
    colour_cum = _cumulative([w for _, w in vehicles.COLOURS])
    link_salt = plan.salts["vehicle"] ^ 0x3333
    n_links = 0
    for v in range(plan.spec.vehicles):
        created = plan.vehicle_created(v)
        by = plan.officer(rng)
        model = models[_draw(rng, model_cum)]
        year = max(2002, created.year - min(20, int(rng.expovariate(1 / 6))))
        september = rng.random() < 0.5
        registered = date(year, 9 if september else 3, rng.randint(1, 28))
        if registered >= created.date():
            year, september = year - 1, True
            registered = date(year, 9, rng.randint(1, 28))
        fields = {
            "vrm": issuer.issue(year, september, local=rng.random() < 0.7),
            "make": model.make,
            "model": model.model,
            "colour": colours[_draw(rng, colour_cum)],
            "body_type": model.body,
            "vin": vehicles.vin(rng, model.wmi) if rng.random() < 0.8 else None,
            "year_of_manufacture": year if september or rng.random() < 0.7 else year - 1,
            "description": rng.choice(vehicles.DESCRIPTIONS) if rng.random() < 0.05 else None,
        }
        row = record(plan.vehicle_id(v), created, by, plan.force_code, **fields)
        yield "vehicle", row
        keeper = plan.keeper(v)
        adult = datetime.combine(plan.birth(keeper), time(9), tzinfo=UTC) + timedelta(days=6_210)
        since = max(
            datetime.combine(registered, time(9), tzinfo=UTC),
            created - timedelta(days=rng.randint(0, 2_000)),
            adult,
        )
        vehicle = ("vehicle", row["id"])
        n_links += 1
        stamp = Stamp(created, by, mix64(link_salt ^ n_links))
        keeper_end = ("person", plan.person_id(keeper))
        yield (
            "link",
            link_row(plan, stamp, "registered-keeper", keeper_end, vehicle, valid_from=since),
        )
        if rng.random() < 0.15:
            driver = keeper + 1 if keeper + 1 < plan.spec.persons else keeper - 1
            if plan.home(driver) != plan.home(keeper) or plan.age(driver) < 17:
                driver = plan.keeper(v + plan.spec.vehicles)
            if driver != keeper:
                n_links += 1
                stamp = Stamp(created, by, mix64(link_salt ^ n_links))
                driver_end = ("person", plan.person_id(driver))
                yield "link", link_row(plan, stamp, "driver", driver_end, vehicle)


class _People:
    """Draws the people an event involves: repeat victims and prolific offenders come back."""

    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.plan = plan
        self.rng = rng
        self.n = plan.spec.persons

    def _pool(self, start: int, size: int) -> int:
        rank = start + int(size * self.rng.random() ** 1.2)
        return self.plan.people.at(min(rank, self.n - 1))

    def offender(self) -> int:
        if self.rng.random() < 0.5:
            return self._pool(0, self.plan.prolific)
        i = int(self.rng.random() * self.n)
        for _ in range(12):
            if self.plan.age(i) >= 10:
                break
            i = int(self.rng.random() * self.n)
        return i

    def victim(self) -> int:
        if self.rng.random() < 0.25:
            return self._pool(self.plan.prolific, self.plan.repeat_victims)
        return int(self.rng.random() * self.n)

    def female(self) -> int:
        i = self.victim()
        for _ in range(12):
            _, female, days = self.plan.demographics(i)
            if female and days >= 16 * 365:
                break
            i = self.victim()
        return i

    def household(self, of: int | None) -> int:
        if of is not None:
            for j in (of + 1, of - 1):
                same = 0 <= j < self.n and self.plan.home(j) == self.plan.home(of)
                if same and self.plan.age(j) >= 14:
                    return j
        return self.offender()

    def draw(self, who: str, first: int | None) -> int:
        if who == "victim":
            return self.victim()
        if who == "offender":
            return self.offender()
        if who == "female":
            return self.female()
        if who == "household":
            return self.household(first)
        return int(self.rng.random() * self.n)


def _day_counts(plan: Plan) -> Iterator[tuple[date, int]]:
    days = (plan.end - plan.events_start).days
    start = plan.events_start.date()
    weights = []
    for d in range(days):
        day = start + timedelta(days=d)
        season = 1 + 0.12 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 100) / 365)
        weights.append(season * (0.95, 0.95, 0.95, 1.0, 1.1, 1.15, 1.0)[day.weekday()])
    total = sum(weights)
    done = 0
    running = 0.0
    for d, w in enumerate(weights):
        running += w
        upto = round(plan.spec.events * running / total)
        yield start + timedelta(days=d), upto - done
        done = upto


class _Places:
    """Where an event of each kind happens: the hot spots draw most street crime."""

    def __init__(self, plan: Plan, venues: Venues, rng: random.Random) -> None:
        self.plan = plan
        self.venues = venues
        self.rng = rng
        self.first_venue = plan.spec.addresses
        self.spots = {
            kind: (
                [h for h, s in enumerate(HOT_SPOTS) if s.kind == kind],
                _cumulative([s.weight for s in HOT_SPOTS if s.kind == kind]),
            )
            for kind in ("nte", "retail", "transport")
        }
        self.all_spots = (list(range(len(HOT_SPOTS))), _cumulative([s.weight for s in HOT_SPOTS]))

    def _spot(self, kind: str) -> int:
        spots, cum = self.all_spots if kind == "any" else self.spots[kind]
        return spots[_draw(self.rng, cum)]

    def _venue(self, category: str, area: int) -> tuple[int, str]:
        pool = self.venues.by.get((category, area)) or self.venues.by[(category, -1)]
        k = pool[int(self.rng.random() * len(pool))]
        return self.first_venue + k, self.venues.rows[k][0].label

    def _district(self) -> int:
        return len(HOT_SPOTS) + self.rng.randrange(len(DISTRICTS))

    def _home(self, person: int | None) -> tuple[int, str]:
        plan = self.plan
        a = plan.home(person) if person is not None else self.rng.randrange(plan.spec.addresses)
        street, _, premises = plan.address(a)
        return a, f"{premises} {street.name}"

    def _nte(self, r: float) -> tuple[int, str]:
        if r < 0.75:
            return self._venue("pub" if self.rng.random() < 0.6 else "street", self._spot("nte"))
        return self._venue("street", self._district())

    def _vehicle(self, r: float, person: int | None) -> tuple[int, str]:
        if r < 0.3:
            return self._venue("car-park", -1)
        return self._home(person) if r < 0.6 else self._venue("street", self._district())

    def choose(self, place: str, person: int | None) -> tuple[int, str]:
        """The location index and the words a narrative uses for it."""
        r = self.rng.random()
        if place == "home":
            return self._home(person)
        if place == "nte":
            return self._nte(r)
        if place == "vehicle":
            return self._vehicle(r, person)
        category, spots, share = PLACES[place]
        if not spots:
            return self._venue(category, -1)
        return self._venue(category, self._spot(spots) if r < share else self._district())


# Where each place of the catalogue is drawn from: the venue category, the hot spots it
# favours ("any" for all of them, "" for none) and the share of events in those hot spots.
PLACES: dict[str, tuple[str, str, float]] = {
    "retail": ("shop", "retail", 0.6),
    "hotspot": ("street", "any", 0.7),
    "street": ("street", "any", 0.35),
    "petrol": ("petrol", "", 0.0),
    "commercial": ("commercial", "", 0.0),
    "transport": ("transport", "transport", 1.0),
}


class _EventMaker:
    """Makes each day's crimes and incidents, with the people and vehicles in them."""

    def __init__(self, plan: Plan, venues: Venues) -> None:
        self.plan = plan
        self.rng = plan.rng("events")
        self.people = _People(plan, self.rng)
        self.places = _Places(plan, venues, self.rng)
        self.types = crime.EVENT_TYPES
        self.by_weekday = [
            _cumulative(
                [t.weight * crime.WEEKDAYS.get(t.hours, (1.0,) * 7)[wd] for t in self.types]
            )
            for wd in range(7)
        ]
        self.hour_cum = {k: _cumulative(v) for k, v in crime.HOURS.items()}
        self.latest = plan.end - timedelta(seconds=1)
        self.salt = mix64(plan.salts["person"] ^ plan.salts["vehicle"])
        self.sequence: dict[int, int] = {}
        self.made = 0
        self.links = 0

    def day(self, day: date, count: int) -> Iterator[tuple[str, Row]]:
        rng = self.rng
        midnight = datetime.combine(day, time(0), tzinfo=UTC)
        todays = []
        for _ in range(count):
            t = self.types[_draw(rng, self.by_weekday[day.weekday()])]
            hour = _draw(rng, self.hour_cum[t.hours])
            todays.append((midnight + timedelta(seconds=hour * 3600 + int(rng.random() * 3600)), t))
        todays.sort(key=lambda pair: pair[0])
        for at, t in todays:
            yield from self.event(at, t)

    def _involved(self, t: crime.EventType) -> tuple[list[tuple[int, str]], int | None]:
        rng, plan = self.rng, self.plan
        involved: list[tuple[int, str]] = []
        vehicle = int(rng.random() * plan.spec.vehicles) if rng.random() < t.vehicle else None
        if vehicle is not None and t.keeper_role:
            involved.append((plan.keeper(vehicle), t.keeper_role))
        for part in t.parts:
            if rng.random() >= part.chance:
                continue
            person = self.people.draw(part.who, involved[0][0] if involved else None)
            if all(p != person for p, _ in involved):
                involved.append((person, part.role))
        return involved, vehicle

    def event(self, at: datetime, t: crime.EventType) -> Iterator[tuple[str, Row]]:
        """One event at ``at`` and its links."""
        rng, plan = self.rng, self.plan
        self.made += 1
        by = plan.officer(rng)
        start = at - timedelta(minutes=rng.randint(*t.lasts))
        ended = at if t.lasts[0] >= 30 or rng.random() < 0.5 else None
        reported = min(at + timedelta(minutes=rng.randint(*t.delay)), self.latest)
        created = min(reported + timedelta(seconds=rng.randint(30, 1_800)), self.latest)
        self.sequence[created.year] = number = self.sequence.get(created.year, 0) + 1
        involved, vehicle = self._involved(t)
        location, label = self.places.choose(t.place, involved[0][0] if involved else None)
        n = self.made
        event_id = uuid7(created, mix64(self.salt ^ n) | mix64(self.salt ^ (n ^ M64)) << 64)
        row = record(
            event_id,
            created,
            by,
            plan.force_code,
            kind=t.kind,
            reference=f"{plan.force_code}/{created.year}/{number:06d}",
            occurred_from=start if ended is not None else at,
            occurred_to=ended,
            reported_at=reported,
            location_id=plan.location_id(location),
            incident_type=t.incident_type,
            qualifiers=[code for code, chance in t.qualifiers if rng.random() < chance],
            offence=t.offence,
            narrative=rng.choice(t.narratives).format(place=label),
        )
        yield "event", row
        target = ("event", event_id)
        for person, role in involved:
            source = ("person", plan.person_id(person))
            yield "link", link_row(plan, self._stamp(row), "involved-in", source, target, role=role)
        if vehicle is not None:
            source = ("vehicle", plan.vehicle_id(vehicle))
            yield "link", link_row(plan, self._stamp(row), "vehicle-involved", source, target)

    def _stamp(self, row: Row) -> Stamp:
        self.links += 1
        return Stamp(row["created_at"], row["created_by"], mix64(self.salt ^ (self.links << 24)))


def events(plan: Plan, venues: Venues) -> Iterator[tuple[str, Row]]:
    """Crimes and incidents over the years of history, with the people and vehicles in them."""
    maker = _EventMaker(plan, venues)
    for day, count in _day_counts(plan):
        yield from maker.day(day, count)


# --- the whole force -----------------------------------------------------------------------

STAGES = ("locations", "persons", "vehicles", "events")


def stage_rows(plan: Plan, stage: str) -> Iterator[tuple[str, Row]]:
    """The rows of one stage; stages need nothing of one another, so they can run apart."""
    if stage == "locations":
        return locations(plan, Venues(plan))
    if stage == "persons":
        return persons(plan)
    if stage == "vehicles":
        return vehicles_stream(plan)
    if stage == "events":
        return events(plan, Venues(plan))
    msg = f"no stage {stage!r}"
    raise ValueError(msg)


def stage_batches(
    plan: Plan, stage: str, batch_size: int = DEFAULT_BATCH
) -> Iterator[tuple[str, list[Row]]]:
    """A stage's rows grouped by kind, at most ``batch_size`` a batch, flushed whole at its end."""
    buffers: dict[str, list[Row]] = {}
    for kind, row in stage_rows(plan, stage):
        buffer = buffers.setdefault(kind, [])
        buffer.append(row)
        if len(buffer) >= batch_size:
            yield kind, buffer
            buffers[kind] = []
    for kind, buffer in buffers.items():
        if buffer:
            yield kind, buffer


def batches(plan: Plan, batch_size: int = DEFAULT_BATCH) -> Iterator[tuple[str, list[Row]]]:
    """Every stage's batches, in the order the database needs them (places before events)."""
    for stage in STAGES:
        yield from stage_batches(plan, stage, batch_size)


def generate(
    spec: SizeSpec,
    seed: int,
    *,
    as_of: date,
    force_code: str = "DEMO",
    batch_size: int = DEFAULT_BATCH,
) -> Iterator[tuple[str, list[Row]]]:
    """The force's rows, kind by kind in batches: ``("person", [row, …])``.

    Args:
        spec: how big a force.
        seed: the same seed, spec and ``as_of`` give the same rows, ids included.
        as_of: the force's "today": history ends the day before, reviews fall after it.
        force_code: the owning agency of every record, and the prefix of event references.
        batch_size: rows per batch.
    """
    return batches(Plan(spec, seed, as_of, force_code), batch_size)


# --- the change log ------------------------------------------------------------------------

SNAPSHOT_FIELDS: dict[str, tuple[str, ...]] = {
    name: tuple(
        f.name for f in msgspec.structs.fields(kind.read) if f.name not in ("markers", "addresses")
    )
    for name, kind in BY_NAME.items()
}


def change_entry(kind: str, row: Row) -> Row:
    """The change-log row recording that a record was created, with its snapshot.

    The snapshot holds the fields a record read returns (less the related markers and
    addresses), as the record service logs them, so history reads the same for demo data.
    """
    return {
        "entity_type": kind,
        "entity_id": row["id"],
        "version": 1,
        "action": "created",
        "changed_at": row["created_at"],
        "changed_by": row["created_by"],
        "reason": None,
        "snapshot": {name: row[name] for name in SNAPSHOT_FIELDS[kind]},
        "owner_agency": row["owner_agency"],
        "classification": row["classification"],
        "restricted": row["restricted"],
    }
