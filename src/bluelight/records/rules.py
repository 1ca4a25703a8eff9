"""The rules a POLE record must keep, as pure functions of its content.

Each ``check_<kind>`` takes the record's full content as it would be stored (for an update,
the current content with the change applied), reports every problem to the ``Checker`` and
returns the content normalised (registration marks upper-cased, postcodes spaced, the H3 cell
of a point). Codes are checked separately, from each kind's ``CODED`` table, so that code
validation and force-code mapping read the same list of coded fields.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import h3
import msgspec

from bluelight.records.errors import RecordErrorCode as E
from bluelight.records.schemas import (
    EventFields,
    LinkFields,
    LocationFields,
    MarkerFields,
    PersonFields,
    PropertyFields,
    VehicleFields,
)
from bluelight.vocab import Checker

H3_RESOLUTION = 9
CLOCK_SKEW = timedelta(minutes=5)
# The window of times a record may hold. Nothing the police record now happened before 1900
# (a date of birth has its own bound: no one is over 130); nothing planned, such as a link's
# end or a marker's review, lies more than ten years ahead.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=366 * 10)
VRM = re.compile(r"^[A-Z0-9]{1,10}$")
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


@dataclass(frozen=True, slots=True)
class Coded:
    """A coded field: ``field`` of a record (or ``sub`` of each item of a list field)."""

    field: str
    list_name: str
    sub: str | None = None
    many: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    """What the rules may know of the world: the time, and which fields a change touches."""

    now: datetime
    changed: frozenset[str]

    @property
    def today(self) -> date:
        return self.now.date()


def coded_values(content: Any, coded: tuple[Coded, ...]) -> Iterator[tuple[str, str, str]]:
    """Every (path, list name, value) of the coded fields present in ``content``.

    ``content`` is a struct or a plain dict of the record's fields.
    """
    for c in coded:
        value = (
            content.get(c.field) if isinstance(content, dict) else getattr(content, c.field, None)
        )
        if value is None or value is msgspec.UNSET:
            continue
        if c.sub is not None:
            for i, item in enumerate(value):
                sub = item.get(c.sub) if isinstance(item, dict) else getattr(item, c.sub)
                if sub is not None:
                    yield f"{c.field}[{i}].{c.sub}", c.list_name, sub
        elif c.many:
            for i, item in enumerate(value):
                yield f"{c.field}[{i}]", c.list_name, item
        else:
            yield c.field, c.list_name, value


def check_codes(content: Any, coded: tuple[Coded, ...], checker: Checker) -> None:
    """Report every coded value that is not an active national code."""
    for path, list_name, value in coded_values(content, coded):
        checker.code(list_name, value, path)


# The bidirectional controls (embeddings, overrides, isolates, marks): text holding them
# displays in another order than it is stored and searched, so "Smith" can show as "htimS"
# or a reference can look like another. Refused in every text field, prose included.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Control characters (Unicode's Cc) that prose may not hold either: all but tab and line breaks.
PROSE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Joiners shape letters in Persian, Arabic and Indic names (and join emoji): kept.
JOINERS = frozenset("\u200c\u200d")


def _line_refuses(character: str) -> bool:
    """Whether one line of text (a name, a reference, an address) may not hold
    ``character``: a control or format character (Unicode's Cc, Cf) or a line or paragraph
    separator (Zl, Zp), bar the joiners. Invisible, they make two values that look the same
    differ, so one is never found by a search for the other."""
    category = unicodedata.category(character)
    return category in ("Cc", "Zl", "Zp") or (category == "Cf" and character not in JOINERS)


def _refused_character(text: str, *, prose: bool) -> str | None:
    """The first character ``text`` may not hold, if any."""
    bidi = BIDI_CONTROLS.search(text)
    if bidi is not None:
        return bidi.group()
    if prose:
        control = PROSE_CONTROLS.search(text)
        return control.group() if control is not None else None
    if text.isprintable():  # the common case, at C speed: no Cc, Cf, Zl, Zp at all
        return None
    return next((c for c in text if _line_refuses(c)), None)


def _is_prose(info: Any) -> bool:
    if isinstance(info, msgspec.inspect.Metadata):
        return bool((info.extra or {}).get("prose")) or _is_prose(info.type)
    if isinstance(info, msgspec.inspect.UnionType):
        return any(_is_prose(t) for t in info.types)
    if isinstance(info, msgspec.inspect.ListType):
        return _is_prose(info.item_type)
    return False


@cache
def _prose_fields(struct: type[msgspec.Struct]) -> frozenset[str]:
    """The fields of ``struct`` whose type is marked as prose (``schemas.PROSE``)."""
    info = msgspec.inspect.type_info(struct)
    fields = info.fields if isinstance(info, msgspec.inspect.StructType) else ()
    return frozenset(f.name for f in fields if _is_prose(f.type))


def _check_value(checker: Checker, path: str, value: Any, *, prose: bool) -> None:
    if isinstance(value, str):
        refused = _refused_character(value, prose=prose)
        if refused is not None:
            name = unicodedata.name(refused, "a control character")
            checker.fail(
                path,
                E.CONTROL_CHARACTER,
                f"{path} holds U+{ord(refused):04X} ({name}), which would make it display or "
                "search differently from how it reads: remove it",
                f"U+{ord(refused):04X}",
            )
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_value(checker, f"{path}[{i}]", item, prose=prose)
    elif isinstance(value, msgspec.Struct):
        prose_fields = _prose_fields(type(value))
        for name in value.__struct_fields__:
            _check_value(
                checker, f"{path}.{name}", getattr(value, name), prose=name in prose_fields
            )


def check_text(content: msgspec.Struct, checker: Checker, fields: frozenset[str]) -> None:
    """Report every text in ``fields`` of ``content`` (and in the items of a list field) that
    holds a character it may not: a bidirectional control anywhere; in one line of text (a
    name, an identifier, a reference, a VRM, an address) any control or format character or
    line break too; in prose (a narrative, notes, a description) the other controls, bar
    tabs and line breaks.

    Only the fields a change sets are checked, as they arrive (before any normalising), so
    a refusal names what the client sent.
    """
    prose_fields = _prose_fields(type(content))
    for name in content.__struct_fields__:
        if name in fields:
            _check_value(checker, name, getattr(content, name), prose=name in prose_fields)


def name_key(name: str) -> str:
    """The form names are filtered on: upper case, single spaces."""
    return " ".join(name.upper().split())


def _years_before(day: date, years: int) -> date:
    """The same day ``years`` earlier; 29 February falls back to the 28th in a common year."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _plausible(
    checker: Checker, ctx: Context, field: str, value: datetime | None, *, past: bool
) -> None:
    """Report a time no record of this kind can hold: before ``EARLIEST``; in the future if
    ``past`` (what happened, or was reported), else more than ``MAX_AHEAD`` ahead (how long a
    link holds)."""
    if value is None:
        return
    try:
        # Times are stored in UTC; at the very ends of the calendar (1 January of year 1 east
        # of UTC, 31 December 9999 west of it) there is no UTC time to store.
        value.astimezone(UTC)
    except OverflowError:
        checker.fail(field, E.INVALID_RANGE, f"{field} is outside the dates that can be stored")
        return
    if value < EARLIEST:
        checker.fail(
            field, E.INVALID_RANGE, f"{field} is before {EARLIEST.year}", value.isoformat()
        )
    elif past and value > ctx.now + CLOCK_SKEW:
        checker.fail(field, E.FUTURE_DATE, f"{field} is in the future", value.isoformat())
    elif not past and value > ctx.now + MAX_AHEAD:
        checker.fail(
            field, E.INVALID_RANGE, f"{field} is more than ten years ahead", value.isoformat()
        )


def _ordered(
    checker: Checker, start: datetime | None, end: datetime | None, end_field: str
) -> None:
    if start is not None and end is not None and end < start:
        checker.fail(end_field, E.END_BEFORE_START, f"{end_field} is before the start")


PERSON_CODED = (
    Coded("names", "name-type", sub="type"),
    Coded("sex", "sex"),
    Coded("ethnicity_officer", "ethnicity-officer"),
    Coded("ethnicity_self", "ethnicity-self"),
    Coded("build", "build"),
    Coded("hair_colour", "hair-colour"),
    Coded("hair_length", "hair-length"),
    Coded("hair_style", "hair-style"),
    Coded("eye_colour", "eye-colour"),
    Coded("facial_hair", "facial-hair"),
    Coded("marks", "mark-type", sub="type"),
    Coded("marks", "body-location", sub="location"),
    Coded("identifiers", "identifier-type", sub="type"),
)


def check_person(p: PersonFields, checker: Checker, ctx: Context) -> PersonFields:
    names = [
        msgspec.structs.replace(
            n,
            family_name=" ".join(n.family_name.split()),
            given_names=" ".join(n.given_names.split()),
        )
        for n in p.names
    ]
    for i, n in enumerate(names):
        if not n.family_name:
            checker.fail(f"names[{i}].family_name", E.INVALID_FORMAT, "a family name is required")
    if p.date_of_birth is not None:
        if p.date_of_birth > ctx.today:
            checker.fail(
                "date_of_birth",
                E.FUTURE_DATE,
                "date_of_birth is in the future",
                p.date_of_birth.isoformat(),
            )
        elif p.date_of_birth < _years_before(ctx.today, 130):
            checker.fail("date_of_birth", E.INVALID_RANGE, "date_of_birth is over 130 years ago")
    if p.age_min is not None and p.age_max is not None and p.age_max < p.age_min:
        checker.fail("age_max", E.INVALID_RANGE, "age_max is below age_min")
    identifiers = []
    seen: set[tuple[str, str]] = set()
    for i, ident in enumerate(p.identifiers):
        value = ident.value.strip().upper()
        entry = checker.entry("identifier-type", ident.type)
        pattern = entry.attributes.get("pattern") if entry else None
        if pattern and not re.fullmatch(pattern, value):
            checker.fail(
                f"identifiers[{i}].value",
                E.INVALID_FORMAT,
                f"not the form of a {ident.type} identifier",
                value,
            )
        if (ident.type, value) in seen:
            checker.fail(f"identifiers[{i}]", E.DUPLICATE_VALUE, "identifier given twice", value)
        seen.add((ident.type, value))
        identifiers.append(msgspec.structs.replace(ident, value=value))
    return msgspec.structs.replace(p, names=names, identifiers=identifiers)


VEHICLE_CODED = (
    Coded("make", "vehicle-make"),
    Coded("colour", "vehicle-colour"),
    Coded("body_type", "vehicle-body-type"),
)


def normalise_vrm(vrm: str) -> str:
    """A registration mark as stored and searched: upper case, no spaces."""
    return "".join(vrm.split()).upper()


def check_vehicle(v: VehicleFields, checker: Checker, ctx: Context) -> VehicleFields:
    vrm = normalise_vrm(v.vrm) if v.vrm is not None else None
    if vrm is not None and not VRM.fullmatch(vrm):
        checker.fail(
            "vrm", E.INVALID_FORMAT, "a registration mark is 1-10 letters and digits", v.vrm
        )
    vin = v.vin.upper() if v.vin is not None else None
    if vin is not None and not VIN.fullmatch(vin):
        checker.fail("vin", E.INVALID_FORMAT, "a VIN is 17 characters without I, O or Q", v.vin)
    if v.year_of_manufacture is not None and v.year_of_manufacture > ctx.today.year + 1:
        checker.fail("year_of_manufacture", E.FUTURE_DATE, "year_of_manufacture is in the future")
    return msgspec.structs.replace(v, vrm=vrm, vin=vin)


PROPERTY_CODED = (Coded("category", "property-category"),)


def check_property(p: PropertyFields, checker: Checker, ctx: Context) -> PropertyFields:
    serial = p.serial_number.strip().upper() if p.serial_number is not None else None
    return msgspec.structs.replace(p, serial_number=serial or None)


LOCATION_CODED = (Coded("location_type", "location-type"),)


def normalise_postcode(postcode: str) -> str | None:
    """A UK postcode in its printed form (``NG1 5DT``), or None if it is not one."""
    m = POSTCODE.fullmatch("".join(postcode.split()).upper())
    return f"{m.group(1)} {m.group(2)}" if m else None


def h3_cell(latitude: float, longitude: float) -> str:
    """The H3 cell (resolution 9, about 0.1 km²) that "near" queries ring out from."""
    return str(h3.latlng_to_cell(latitude, longitude, H3_RESOLUTION))


def check_location(loc: LocationFields, checker: Checker, ctx: Context) -> LocationFields:
    postcode = None
    if loc.postcode is not None:
        postcode = normalise_postcode(loc.postcode)
        if postcode is None:
            checker.fail("postcode", E.INVALID_FORMAT, "not a UK postcode", loc.postcode)
    if (loc.latitude is None) != (loc.longitude is None):
        checker.fail(
            "latitude" if loc.latitude is None else "longitude",
            E.INCOMPLETE_COORDINATES,
            "give latitude and longitude together",
        )
    if loc.latitude is not None and not -90 <= loc.latitude <= 90:
        checker.fail("latitude", E.COORDINATES_OUT_OF_RANGE, "latitude is -90 to 90", loc.latitude)
    if loc.longitude is not None and not -180 <= loc.longitude <= 180:
        checker.fail(
            "longitude", E.COORDINATES_OUT_OF_RANGE, "longitude is -180 to 180", loc.longitude
        )
    if not any((loc.name, loc.street, loc.premises, loc.postcode, loc.uprn)) and (
        loc.latitude is None
    ):
        checker.fail(
            "location",
            E.EMPTY_LOCATION,
            "give at least a name, an address, a postcode, a UPRN or coordinates",
        )
    return msgspec.structs.replace(loc, postcode=postcode or loc.postcode)


def location_cell(loc: LocationFields) -> str | None:
    """The H3 cell of a valid location's point, if it has one."""
    if loc.latitude is None or loc.longitude is None:
        return None
    return h3_cell(loc.latitude, loc.longitude)


EVENT_CODED = (
    Coded("incident_type", "incident-type"),
    Coded("qualifiers", "incident-qualifier", many=True),
    Coded("offence", "offence"),
)


def check_event(ev: EventFields, checker: Checker, ctx: Context) -> EventFields:
    for name in ("occurred_from", "occurred_to", "reported_at"):
        _plausible(checker, ctx, name, getattr(ev, name), past=True)
    _ordered(checker, ev.occurred_from, ev.occurred_to, "occurred_to")
    _ordered(checker, ev.occurred_from, ev.reported_at, "reported_at")
    if ev.kind == "crime" and ev.offence is None:
        checker.fail("offence", E.OFFENCE_REQUIRED, "a crime report names its offence")
    if len(set(ev.qualifiers)) != len(ev.qualifiers):
        checker.fail("qualifiers", E.DUPLICATE_VALUE, "a qualifier is given twice")
    return ev


LINK_CODED = (Coded("link_type", "link-type"), Coded("role", "person-event-role"))
ROLE_LINK = "involved-in"


def check_link(link: LinkFields, checker: Checker, ctx: Context) -> LinkFields:
    entry = checker.entry("link-type", link.link_type)
    if entry is not None:
        want = (entry.attributes.get("from"), entry.attributes.get("to"))
        if want != (link.from_type, link.to_type):
            checker.fail(
                "link_type",
                E.LINK_ENDPOINT_MISMATCH,
                f"a {link.link_type} link runs from a {want[0]} to a {want[1]}",
                link.link_type,
            )
    if link.link_type == ROLE_LINK and link.role is None:
        checker.fail("role", E.ROLE_REQUIRED, "say the person's role in the event")
    if link.link_type != ROLE_LINK and link.role is not None:
        checker.fail("role", E.ROLE_NOT_ALLOWED, f"only {ROLE_LINK} links carry a role")
    _plausible(checker, ctx, "valid_from", link.valid_from, past=False)
    _plausible(checker, ctx, "valid_to", link.valid_to, past=False)
    if link.from_id == link.to_id:
        checker.fail("to_id", E.SELF_LINK, "a record cannot be linked to itself")
    _ordered(checker, link.valid_from, link.valid_to, "valid_to")
    return link


MARKER_CODED = (Coded("marker", "warning-marker"),)


def check_marker(m: MarkerFields, checker: Checker, ctx: Context) -> MarkerFields:
    entry = checker.entry("warning-marker", m.marker)
    applies = entry.attributes.get("applies_to", []) if entry else []
    if entry is not None and m.subject_type not in applies:
        checker.fail(
            "marker",
            E.MARKER_NOT_APPLICABLE,
            f"{m.marker} applies to {', '.join(applies)}, not a {m.subject_type}",
            m.marker,
        )
    if "review_date" in ctx.changed:
        if m.review_date < ctx.today:
            checker.fail("review_date", E.INVALID_RANGE, "the review date has passed")
        elif m.review_date > ctx.today + MAX_AHEAD:
            checker.fail("review_date", E.INVALID_RANGE, "review a marker within ten years")
    return m
