"""What happens in the demo force: the mix of crimes and incidents, when and where they happen.

Shares, hours and places follow the shape of police recorded crime: violence and public order
peak on weekend nights round the night-time economy, shoplifting in shop hours, burglary in the
afternoon and evening, vehicle crime overnight; domestic abuse happens at home, in the evening.
"""

from __future__ import annotations

from dataclasses import dataclass

# Relative weight of each hour of the day (00:00 first) for each pattern.
HOURS: dict[str, tuple[float, ...]] = {
    "night": (
        8, 7, 5, 3, 1.5, .6, .3, .3, .3, .4, .6, .8, 1, 1, 1, 1.1, 1.3, 1.6, 2, 2.5, 3.5, 4.5,
        5.5, 7,
    ),
    "day": (
        .1, .1, .1, .1, .1, .1, .2, .6, 1.5, 3, 4, 5, 5.5, 5.5, 5, 5, 4.5, 4, 3, 2, 1, .5, .3, .2,
    ),
    "evening": (
        3, 2, 1.5, 1, .6, .4, .4, .6, .8, .9, 1, 1.2, 1.3, 1.4, 1.6, 2, 2.5, 3, 3.5, 4, 4.2, 4.2,
        4, 3.5,
    ),
    "burglary": (
        1, 1, .9, .8, .5, .4, .5, .8, 1.5, 2, 2, 2, 2, 2, 2, 2.5, 3, 3.5, 4, 3.5, 3, 2.5, 2, 1.5,
    ),
    "overnight": (
        5, 5, 4.5, 4, 3, 2, 1, .8, .8, .8, .8, .8, .8, .8, .8, .8, 1, 1.2, 1.5, 2, 2.5, 3, 4, 4.5,
    ),
    "commute": (
        .3, .2, .2, .2, .3, .6, 1.5, 3, 4.5, 3, 2, 2, 2.2, 2.2, 2.5, 3.5, 4.5, 5, 4, 2.5, 1.8,
        1.2, .8, .5,
    ),
    "flat": (
        .8, .6, .5, .4, .4, .4, .6, .9, 1.2, 1.4, 1.5, 1.5, 1.5, 1.5, 1.5, 1.6, 1.7, 1.8, 1.8,
        1.7, 1.6, 1.4, 1.2, 1,
    ),
}  # fmt: skip
# How much busier each day (Monday first) is for a pattern: the weekend nights out.
WEEKDAYS: dict[str, tuple[float, ...]] = {
    "night": (0.6, 0.6, 0.7, 0.9, 1.5, 2.2, 1.6),
    "day": (1, 1, 1, 1, 1.1, 1.3, 0.8),
    "evening": (1, 0.95, 0.95, 1, 1.1, 1.2, 1.2),
}


@dataclass(frozen=True, slots=True)
class Part:
    """A person's part in an event: the role, how likely it is filled, and who fills it.

    ``who`` is ``victim`` (repeat victims more likely), ``offender`` (prolific offenders more
    likely), ``anyone``, ``household`` (someone living with the first person of the event) or
    ``female`` (a woman, repeat victims more likely).
    """

    role: str
    chance: float
    who: str


@dataclass(frozen=True, slots=True)
class EventType:
    """One kind of crime or incident and how it plays out."""

    key: str
    kind: str
    incident_type: str
    offence: str | None
    weight: float
    hours: str
    place: str
    parts: tuple[Part, ...]
    qualifiers: tuple[tuple[str, float], ...]
    narratives: tuple[str, ...]
    lasts: tuple[int, int] = (0, 10)
    delay: tuple[int, int] = (2, 90)
    vehicle: float = 0.0
    keeper_role: str | None = None


VICTIM = Part("victim", 1.0, "victim")
SUSPECT = Part("suspect", 0.6, "offender")
WITNESS = Part("witness", 0.35, "anyone")
REPORTER = Part("reporting-person", 0.8, "anyone")
NTE = (("NIGHT-TIME-ECONOMY", 0.85), ("ALCOHOL", 0.7), ("LICENSED-PREMISES", 0.35))
DOMESTIC = (("DOMESTIC-ABUSE", 1.0), ("ALCOHOL", 0.3), ("CHILD-PROTECTION", 0.1))

CRIMES: tuple[EventType, ...] = (
    EventType(
        key="assault-nte",
        kind="crime",
        incident_type="CRIME",
        offence="105A-01",
        weight=5.0,
        hours="night",
        place="nte",
        parts=(
            VICTIM,
            Part("suspect", 0.7, "offender"),
            WITNESS,
        ),
        qualifiers=NTE,
        narratives=(
            (
                "Victim pushed and punched once to the head outside {place} after an argument in "
                "the queue. Suspect left on foot before officers arrived."
            ),
            (
                "Altercation inside {place}; victim struck with an open hand by a male known to "
                "them. Door staff separated the parties."
            ),
            (
                "Victim assaulted near {place} while waiting for a taxi; minor swelling, no "
                "treatment required."
            ),
        ),
    ),
    EventType(
        key="abh-nte",
        kind="crime",
        incident_type="CRIME",
        offence="8N-01",
        weight=3.5,
        hours="night",
        place="nte",
        parts=(
            VICTIM,
            Part("suspect", 0.75, "offender"),
            WITNESS,
        ),
        qualifiers=NTE,
        narratives=(
            (
                "Victim punched repeatedly near {place}, suffering a cut lip and a swollen eye. "
                "CCTV requested from the venue."
            ),
            (
                "Fight broke out at {place}; victim knocked to the ground and kicked. Ambulance "
                "attended."
            ),
        ),
    ),
    EventType(
        key="gbh-nte",
        kind="crime",
        incident_type="CRIME",
        offence="5D-01",
        weight=0.3,
        hours="night",
        place="nte",
        parts=(
            VICTIM,
            Part("suspect", 0.8, "offender"),
            WITNESS,
            Part("witness", 0.3, "anyone"),
        ),
        qualifiers=(
            ("NIGHT-TIME-ECONOMY", 0.8),
            ("ALCOHOL", 0.6),
            ("KNIFE", 0.35),
        ),
        narratives=(
            (
                "Victim stabbed once in the abdomen in a street fight near {place}; taken to "
                "hospital in a serious but stable condition. Scene preserved."
            ),
            (
                "Victim glassed inside {place}, deep laceration to the face. Suspect detained by "
                "door staff."
            ),
        ),
    ),
    EventType(
        key="public-order",
        kind="crime",
        incident_type="CRIME",
        offence="9A-03",
        weight=2.5,
        hours="night",
        place="nte",
        parts=(
            Part("suspect", 0.9, "offender"),
            Part("victim", 0.5, "anyone"),
            WITNESS,
        ),
        qualifiers=NTE,
        narratives=(
            (
                "Suspect shouting and swearing at passers-by near {place}, refusing to leave when "
                "asked by door staff."
            ),
            "Group causing harassment, alarm and distress outside {place}; one male identified.",
        ),
    ),
    EventType(
        key="affray",
        kind="crime",
        incident_type="CRIME",
        offence="66-01",
        weight=0.3,
        hours="night",
        place="nte",
        parts=(
            Part("suspect", 1.0, "offender"),
            Part("suspect", 0.7, "offender"),
            WITNESS,
        ),
        qualifiers=NTE,
        narratives=(
            (
                "Large fight involving several males spilled out of {place} on to the street; "
                "members of the public in fear."
            ),
        ),
    ),
    EventType(
        key="emergency-worker",
        kind="crime",
        incident_type="CRIME",
        offence="105A-02",
        weight=0.5,
        hours="night",
        place="nte",
        parts=(Part("arrested-person", 1.0, "offender"),),
        qualifiers=(
            ("EMERGENCY-WORKER", 1.0),
            ("ALCOHOL", 0.8),
            ("NIGHT-TIME-ECONOMY", 0.6),
        ),
        narratives=(
            (
                "Detained person kicked out at an officer while being placed in the van near "
                "{place}; no injury. Body-worn video captured the assault."
            ),
        ),
    ),
    EventType(
        key="sexual-assault",
        kind="crime",
        incident_type="CRIME",
        offence="20A-01",
        weight=0.4,
        hours="night",
        place="nte",
        parts=(
            Part("victim", 1.0, "female"),
            Part("suspect", 0.5, "offender"),
            WITNESS,
        ),
        qualifiers=(
            ("NIGHT-TIME-ECONOMY", 0.6),
            ("ALCOHOL", 0.5),
        ),
        narratives=(
            (
                "Victim touched sexually without consent by an unknown male inside {place}. Venue "
                "staff informed, CCTV to be reviewed."
            ),
        ),
    ),
    EventType(
        key="domestic-assault",
        kind="crime",
        incident_type="CRIME",
        offence="105A-01",
        weight=3.0,
        hours="evening",
        place="home",
        parts=(
            Part("victim", 1.0, "female"),
            Part("suspect", 0.95, "household"),
            Part("witness", 0.2, "household"),
        ),
        qualifiers=DOMESTIC,
        narratives=(
            (
                "Victim reports being pushed against a wall by her partner during an argument at "
                "{place}. DASH risk assessment completed: medium."
            ),
            (
                "Neighbour called police hearing screaming at {place}; victim disclosed she had "
                "been slapped. Suspect arrested at the scene."
            ),
        ),
    ),
    EventType(
        key="domestic-abh",
        kind="crime",
        incident_type="CRIME",
        offence="8N-01",
        weight=1.2,
        hours="evening",
        place="home",
        parts=(
            Part("victim", 1.0, "female"),
            Part("suspect", 1.0, "household"),
        ),
        qualifiers=DOMESTIC,
        narratives=(
            (
                "Victim assaulted by her partner at {place}, bruising to the arms and face. "
                "Suspect left before police arrival; circulated as wanted."
            ),
        ),
    ),
    EventType(
        key="coercive-control",
        kind="crime",
        incident_type="CRIME",
        offence="8U-01",
        weight=0.6,
        hours="flat",
        place="home",
        parts=(
            Part("victim", 1.0, "female"),
            Part("suspect", 1.0, "household"),
        ),
        qualifiers=(("DOMESTIC-ABUSE", 1.0),),
        narratives=(
            (
                "Victim discloses months of controlling behaviour by her partner at {place}: "
                "checking her phone, limiting money and contact with family."
            ),
        ),
        lasts=(20000, 200000),
        delay=(60, 10000),
    ),
    EventType(
        key="harassment",
        kind="crime",
        incident_type="CRIME",
        offence="8L-01",
        weight=1.2,
        hours="flat",
        place="home",
        parts=(
            VICTIM,
            Part("suspect", 0.8, "anyone"),
        ),
        qualifiers=(),
        narratives=(
            (
                "Victim receiving repeated unwanted visits and messages from a former friend at "
                "{place}. Advised on evidence gathering."
            ),
        ),
        lasts=(1000, 40000),
        delay=(60, 3000),
    ),
    EventType(
        key="malicious-comms",
        kind="crime",
        incident_type="CRIME",
        offence="8R-01",
        weight=1.5,
        hours="flat",
        place="home",
        parts=(
            VICTIM,
            Part("suspect", 0.5, "anyone"),
        ),
        qualifiers=(("CYBER", 0.8),),
        narratives=(
            (
                "Victim received threatening messages on social media while at {place}. "
                "Screenshots provided."
            ),
        ),
        delay=(30, 2000),
    ),
    EventType(
        key="stalking",
        kind="crime",
        incident_type="CRIME",
        offence="8Q-01",
        weight=0.4,
        hours="flat",
        place="home",
        parts=(
            Part("victim", 1.0, "female"),
            Part("suspect", 0.9, "anyone"),
        ),
        qualifiers=(("DOMESTIC-ABUSE", 0.5),),
        narratives=(
            "Victim's ex-partner repeatedly waiting outside {place} and following her to work.",
        ),
        lasts=(5000, 60000),
        delay=(60, 3000),
    ),
    EventType(
        key="threats-to-kill",
        kind="crime",
        incident_type="CRIME",
        offence="3B-01",
        weight=0.2,
        hours="evening",
        place="home",
        parts=(
            VICTIM,
            Part("suspect", 0.9, "offender"),
        ),
        qualifiers=(("DOMESTIC-ABUSE", 0.3),),
        narratives=("Suspect threatened to kill the victim during a dispute at {place}.",),
    ),
    EventType(
        key="shoplifting",
        kind="crime",
        incident_type="CRIME",
        offence="46-01",
        weight=6.0,
        hours="day",
        place="retail",
        parts=(
            Part("suspect", 0.8, "offender"),
            Part("witness", 0.6, "anyone"),
        ),
        qualifiers=(),
        narratives=(
            (
                "Suspect seen on CCTV concealing meat and alcohol in a bag at {place} and leaving "
                "without paying. Store detective detained suspect."
            ),
            (
                "Male selected razor blades and perfume at {place} and walked past the tills. "
                "Staff know him from previous thefts."
            ),
            "Two females left {place} with unpaid clothing; security tag alarm sounded.",
        ),
    ),
    EventType(
        key="theft-person",
        kind="crime",
        incident_type="CRIME",
        offence="39-01",
        weight=1.2,
        hours="evening",
        place="nte",
        parts=(
            VICTIM,
            Part("suspect", 0.2, "offender"),
        ),
        qualifiers=(("NIGHT-TIME-ECONOMY", 0.5),),
        narratives=(
            (
                "Victim's mobile phone taken from her handbag inside {place}; she noticed it "
                "missing when she went to pay."
            ),
        ),
    ),
    EventType(
        key="burglary",
        kind="crime",
        incident_type="CRIME",
        offence="28E-01",
        weight=3.0,
        hours="burglary",
        place="home",
        parts=(
            VICTIM,
            Part("suspect", 0.3, "offender"),
            Part("witness", 0.2, "anyone"),
        ),
        qualifiers=(),
        narratives=(
            (
                "Entry forced through the rear door of {place} while the occupants were out; "
                "jewellery, a laptop and cash taken. Scenes of crime requested."
            ),
            (
                "Victim returned to {place} to find a ground-floor window smashed and the house "
                "searched; car keys taken."
            ),
        ),
        lasts=(60, 600),
        delay=(5, 180),
    ),
    EventType(
        key="attempted-burglary",
        kind="crime",
        incident_type="CRIME",
        offence="28F-01",
        weight=0.8,
        hours="burglary",
        place="home",
        parts=(
            VICTIM,
            Part("witness", 0.3, "anyone"),
        ),
        qualifiers=(),
        narratives=(
            (
                "Marks found on the front door of {place} consistent with an attempt to force the "
                "lock; no entry gained."
            ),
        ),
        lasts=(60, 600),
        delay=(5, 600),
    ),
    EventType(
        key="burglary-business",
        kind="crime",
        incident_type="CRIME",
        offence="30C-01",
        weight=1.0,
        hours="overnight",
        place="commercial",
        parts=(
            Part("reporting-person", 0.9, "anyone"),
            Part("suspect", 0.2, "offender"),
        ),
        qualifiers=(),
        narratives=(
            (
                "Keyholder attended {place} after an alarm activation; shutter forced and tools "
                "stolen from the workshop."
            ),
        ),
        lasts=(60, 480),
        delay=(10, 240),
    ),
    EventType(
        key="theft-from-vehicle",
        kind="crime",
        incident_type="CRIME",
        offence="45-01",
        weight=2.5,
        hours="overnight",
        place="vehicle",
        parts=(Part("suspect", 0.15, "offender"),),
        qualifiers=(),
        narratives=(
            (
                "Nearside window of the victim's vehicle smashed while parked at {place}; "
                "a bag and sat-nav taken."
            ),
            "Catalytic converter cut from the victim's vehicle overnight at {place}.",
        ),
        lasts=(120, 600),
        delay=(5, 600),
        vehicle=1.0,
        keeper_role="victim",
    ),
    EventType(
        key="theft-of-vehicle",
        kind="crime",
        incident_type="CRIME",
        offence="48-01",
        weight=1.0,
        hours="overnight",
        place="vehicle",
        parts=(Part("suspect", 0.2, "offender"),),
        qualifiers=(),
        narratives=(
            (
                "Victim's vehicle stolen from {place} overnight; both keys still with the owner, "
                "suspected relay attack."
            ),
        ),
        lasts=(120, 600),
        delay=(5, 600),
        vehicle=1.0,
        keeper_role="victim",
    ),
    EventType(
        key="vehicle-damage",
        kind="crime",
        incident_type="CRIME",
        offence="58C-01",
        weight=1.5,
        hours="overnight",
        place="vehicle",
        parts=(Part("suspect", 0.2, "offender"),),
        qualifiers=(),
        narratives=(
            "Tyres slashed and paintwork scratched on the victim's vehicle parked at {place}.",
        ),
        lasts=(120, 600),
        delay=(5, 600),
        vehicle=1.0,
        keeper_role="victim",
    ),
    EventType(
        key="damage-dwelling",
        kind="crime",
        incident_type="CRIME",
        offence="58A-01",
        weight=1.5,
        hours="evening",
        place="home",
        parts=(
            VICTIM,
            Part("suspect", 0.4, "offender"),
        ),
        qualifiers=(),
        narratives=(
            (
                "Front window of {place} smashed with a brick; the victim believes a neighbour is "
                "responsible."
            ),
        ),
    ),
    EventType(
        key="damage-other",
        kind="crime",
        incident_type="CRIME",
        offence="58D-01",
        weight=1.0,
        hours="overnight",
        place="street",
        parts=(
            REPORTER,
            Part("suspect", 0.2, "offender"),
        ),
        qualifiers=(),
        narratives=(
            "Bus shelter glass smashed at {place}.",
            "Graffiti sprayed on a wall at {place}.",
        ),
    ),
    EventType(
        key="cycle-theft",
        kind="crime",
        incident_type="CRIME",
        offence="44-01",
        weight=1.2,
        hours="day",
        place="hotspot",
        parts=(
            VICTIM,
            Part("suspect", 0.1, "offender"),
        ),
        qualifiers=(),
        narratives=("Victim's bicycle taken from a stand at {place}; the lock was cut.",),
        lasts=(30, 480),
        delay=(5, 300),
    ),
    EventType(
        key="robbery",
        kind="crime",
        incident_type="CRIME",
        offence="34B-01",
        weight=0.8,
        hours="evening",
        place="street",
        parts=(
            VICTIM,
            Part("suspect", 0.5, "offender"),
            Part("suspect", 0.2, "offender"),
        ),
        qualifiers=(("KNIFE", 0.25),),
        narratives=(
            (
                "Victim approached by two males at {place} who demanded his phone and showed a "
                "knife; they ran off with the phone and wallet."
            ),
        ),
    ),
    EventType(
        key="robbery-business",
        kind="crime",
        incident_type="CRIME",
        offence="34A-01",
        weight=0.2,
        hours="evening",
        place="retail",
        parts=(
            Part("witness", 1.0, "anyone"),
            Part("suspect", 0.4, "offender"),
        ),
        qualifiers=(
            ("WEAPON-OTHER", 0.3),
            ("KNIFE", 0.3),
        ),
        narratives=("Male entered {place}, threatened staff and took cash from the till.",),
    ),
    EventType(
        key="cannabis",
        kind="crime",
        incident_type="CRIME",
        offence="92E-01",
        weight=1.5,
        hours="evening",
        place="hotspot",
        parts=(Part("person-stopped", 1.0, "offender"),),
        qualifiers=(("DRUGS", 1.0),),
        narratives=(
            (
                "Subject stopped and searched at {place} after officers smelt cannabis; a small "
                "amount of herbal cannabis found and seized."
            ),
        ),
        delay=(0, 10),
    ),
    EventType(
        key="class-a",
        kind="crime",
        incident_type="CRIME",
        offence="92D-01",
        weight=0.4,
        hours="night",
        place="hotspot",
        parts=(Part("arrested-person", 1.0, "offender"),),
        qualifiers=(("DRUGS", 1.0),),
        narratives=(
            (
                "Wraps of white powder believed to be cocaine found on the subject during a search "
                "at {place}."
            ),
        ),
        delay=(0, 10),
    ),
    EventType(
        key="supply",
        kind="crime",
        incident_type="CRIME",
        offence="92A-02",
        weight=0.4,
        hours="evening",
        place="street",
        parts=(
            Part("arrested-person", 1.0, "offender"),
            Part("suspect", 0.4, "offender"),
        ),
        qualifiers=(
            ("DRUGS", 1.0),
            ("COUNTY-LINES", 0.3),
            ("CHILD-CRIMINAL-EXPLOITATION", 0.1),
        ),
        narratives=(
            (
                "Subject seen making hand-to-hand exchanges at {place}; found with wraps, cash and "
                "two phones."
            ),
        ),
        delay=(0, 10),
    ),
    EventType(
        key="knife",
        kind="crime",
        incident_type="CRIME",
        offence="10D-01",
        weight=0.5,
        hours="night",
        place="nte",
        parts=(Part("arrested-person", 1.0, "offender"),),
        qualifiers=(
            ("KNIFE", 1.0),
            ("NIGHT-TIME-ECONOMY", 0.5),
        ),
        narratives=("Kitchen knife found in the subject's waistband during a search at {place}.",),
        delay=(0, 10),
    ),
    EventType(
        key="making-off",
        kind="crime",
        incident_type="CRIME",
        offence="49A-01",
        weight=0.8,
        hours="day",
        place="petrol",
        parts=(
            Part("witness", 0.6, "anyone"),
            Part("suspect", 0.2, "offender"),
        ),
        qualifiers=(),
        narratives=("Driver filled up at {place} and drove off without paying for the fuel.",),
        vehicle=0.8,
        keeper_role="suspect",
    ),
    EventType(
        key="fraud",
        kind="crime",
        incident_type="CRIME",
        offence="53B-01",
        weight=1.0,
        hours="flat",
        place="home",
        parts=(VICTIM,),
        qualifiers=(
            ("CYBER", 0.7),
            ("VULNERABLE-ADULT", 0.2),
        ),
        narratives=(
            (
                "Victim at {place} persuaded by a caller claiming to be from the bank to transfer "
                "savings to a 'safe account'."
            ),
        ),
        delay=(60, 20000),
    ),
    EventType(
        key="other-theft",
        kind="crime",
        incident_type="CRIME",
        offence="49-01",
        weight=2.0,
        hours="flat",
        place="street",
        parts=(VICTIM,),
        qualifiers=(),
        narratives=(
            "Victim's bag left unattended at {place} and taken.",
            "Parcel stolen from the doorstep near {place}.",
        ),
        lasts=(5, 240),
        delay=(5, 600),
    ),
    EventType(
        key="arson",
        kind="crime",
        incident_type="CRIME",
        offence="56B-01",
        weight=0.2,
        hours="overnight",
        place="street",
        parts=(Part("reporting-person", 0.7, "anyone"),),
        qualifiers=(),
        narratives=("Wheelie bins set alight at {place}; fire service attended.",),
    ),
    EventType(
        key="dangerous-driving",
        kind="crime",
        incident_type="CRIME",
        offence="802-01",
        weight=0.2,
        hours="evening",
        place="street",
        parts=(Part("witness", 0.5, "anyone"),),
        qualifiers=(),
        narratives=(
            (
                "Vehicle driven at speed through a red light at {place}, narrowly missing "
                "pedestrians."
            ),
        ),
        vehicle=1.0,
        keeper_role="suspect",
    ),
)

INCIDENTS: tuple[EventType, ...] = (
    EventType(
        key="asb-personal",
        kind="incident",
        incident_type="ASB-PERSONAL",
        offence=None,
        weight=3.0,
        hours="evening",
        place="street",
        parts=(
            REPORTER,
            Part("subject", 0.4, "offender"),
        ),
        qualifiers=(),
        narratives=("Caller reports youths shouting abuse at her from outside {place}.",),
    ),
    EventType(
        key="asb-nuisance",
        kind="incident",
        incident_type="ASB-NUISANCE",
        offence=None,
        weight=5.0,
        hours="evening",
        place="street",
        parts=(REPORTER,),
        qualifiers=(("ALCOHOL", 0.3),),
        narratives=(
            "Group of youths on bikes riding at pedestrians near {place}.",
            "Loud music and shouting from a gathering at {place}.",
            "Off-road bikes ridden on the footpath at {place}.",
        ),
    ),
    EventType(
        key="asb-environmental",
        kind="incident",
        incident_type="ASB-ENVIRONMENTAL",
        offence=None,
        weight=1.0,
        hours="day",
        place="street",
        parts=(REPORTER,),
        qualifiers=(),
        narratives=("Fly-tipped mattresses and rubble blocking the alley at {place}.",),
    ),
    EventType(
        key="concern",
        kind="incident",
        incident_type="CONCERN-FOR-SAFETY",
        offence=None,
        weight=4.0,
        hours="flat",
        place="home",
        parts=(
            Part("subject", 1.0, "victim"),
            Part("reporting-person", 0.9, "anyone"),
        ),
        qualifiers=(
            ("MENTAL-HEALTH", 0.3),
            ("VULNERABLE-ADULT", 0.3),
        ),
        narratives=(
            (
                "Relative unable to contact the subject for two days; officers gained entry at "
                "{place} and found the subject safe and well."
            ),
            "Caller concerned for an elderly neighbour at {place} who has not been seen.",
        ),
    ),
    EventType(
        key="missing",
        kind="incident",
        incident_type="MISSING-PERSON",
        offence=None,
        weight=2.0,
        hours="evening",
        place="home",
        parts=(
            Part("missing-person", 1.0, "victim"),
            Part("reporting-person", 1.0, "household"),
        ),
        qualifiers=(
            ("MISSING-PERSON", 1.0),
            ("CHILD-PROTECTION", 0.3),
        ),
        narratives=(
            (
                "Subject failed to return to {place} by the agreed time; not answering the phone. "
                "Risk assessed as medium."
            ),
        ),
        delay=(60, 600),
    ),
    EventType(
        key="domestic-incident",
        kind="incident",
        incident_type="DOMESTIC-INCIDENT",
        offence=None,
        weight=3.0,
        hours="evening",
        place="home",
        parts=(
            Part("complainant", 1.0, "female"),
            Part("subject", 0.9, "household"),
        ),
        qualifiers=DOMESTIC,
        narratives=(
            (
                "Verbal argument between partners at {place}; no offences disclosed. DASH "
                "completed: standard."
            ),
        ),
    ),
    EventType(
        key="mental-health",
        kind="incident",
        incident_type="MENTAL-HEALTH",
        offence=None,
        weight=2.0,
        hours="flat",
        place="street",
        parts=(
            Part("subject", 1.0, "victim"),
            REPORTER,
        ),
        qualifiers=(("MENTAL-HEALTH", 1.0),),
        narratives=(
            (
                "Subject in crisis on a bridge near {place}; officers engaged and the subject "
                "agreed to go to hospital."
            ),
        ),
    ),
    EventType(
        key="suspicious",
        kind="incident",
        incident_type="SUSPICIOUS-CIRCUMSTANCES",
        offence=None,
        weight=3.0,
        hours="night",
        place="street",
        parts=(REPORTER,),
        qualifiers=(),
        narratives=(
            "Caller reports two males trying car door handles along {place}.",
            "Person seen looking into garden sheds at {place}.",
        ),
    ),
    EventType(
        key="rtc-damage",
        kind="incident",
        incident_type="RTC-DAMAGE",
        offence=None,
        weight=2.0,
        hours="commute",
        place="street",
        parts=(Part("driver", 0.6, "anyone"),),
        qualifiers=(),
        narratives=("Two-vehicle collision at {place}, damage only; details exchanged.",),
        vehicle=1.0,
        keeper_role="driver",
    ),
    EventType(
        key="rtc-injury",
        kind="incident",
        incident_type="RTC-INJURY",
        offence=None,
        weight=0.8,
        hours="commute",
        place="street",
        parts=(
            Part("casualty", 1.0, "anyone"),
            Part("witness", 0.4, "anyone"),
        ),
        qualifiers=(),
        narratives=("Pedestrian struck by a car at {place}; minor injuries, taken to hospital.",),
        vehicle=1.0,
        keeper_role="driver",
    ),
    EventType(
        key="alarm",
        kind="incident",
        incident_type="ALARM-MONITORED",
        offence=None,
        weight=2.0,
        hours="overnight",
        place="commercial",
        parts=(Part("reporting-person", 0.3, "anyone"),),
        qualifiers=(),
        narratives=("Monitored alarm activation at {place}; premises found secure.",),
    ),
    EventType(
        key="civil",
        kind="incident",
        incident_type="CIVIL-DISPUTE",
        offence=None,
        weight=1.0,
        hours="day",
        place="home",
        parts=(
            REPORTER,
            Part("subject", 0.7, "anyone"),
        ),
        qualifiers=(),
        narratives=(
            "Dispute between landlord and tenant over a deposit at {place}; advice given.",
        ),
    ),
    EventType(
        key="highway",
        kind="incident",
        incident_type="HIGHWAY-DISRUPTION",
        offence=None,
        weight=0.8,
        hours="commute",
        place="street",
        parts=(REPORTER,),
        qualifiers=(),
        narratives=("Debris in the carriageway at {place} causing a hazard.",),
    ),
    EventType(
        key="abandoned",
        kind="incident",
        incident_type="ABANDONED-VEHICLE",
        offence=None,
        weight=0.6,
        hours="day",
        place="street",
        parts=(REPORTER,),
        qualifiers=(),
        narratives=("Vehicle left with its doors open at {place} for three days.",),
        vehicle=1.0,
    ),
    EventType(
        key="collapse",
        kind="incident",
        incident_type="COLLAPSE-ILLNESS",
        offence=None,
        weight=1.0,
        hours="night",
        place="nte",
        parts=(Part("casualty", 1.0, "anyone"),),
        qualifiers=(("ALCOHOL", 0.6),),
        narratives=("Male collapsed outside {place}, heavily intoxicated; ambulance attended.",),
    ),
    EventType(
        key="lost-found",
        kind="incident",
        incident_type="LOST-FOUND-PROPERTY",
        offence=None,
        weight=0.6,
        hours="day",
        place="transport",
        parts=(Part("finder", 1.0, "anyone"),),
        qualifiers=(),
        narratives=("Wallet handed in at {place}.",),
    ),
    EventType(
        key="insecure",
        kind="incident",
        incident_type="INSECURE-PREMISES",
        offence=None,
        weight=0.5,
        hours="overnight",
        place="commercial",
        parts=(),
        qualifiers=(),
        narratives=(
            "Officers on patrol found the side door of {place} insecure; keyholder informed.",
        ),
    ),
    EventType(
        key="road-offence",
        kind="incident",
        incident_type="ROAD-RELATED-OFFENCE",
        offence=None,
        weight=1.0,
        hours="commute",
        place="street",
        parts=(),
        qualifiers=(),
        narratives=(
            "Vehicle stopped at {place} for using a mobile phone while driving; ticket issued.",
        ),
        vehicle=1.0,
        keeper_role="person-stopped",
    ),
    EventType(
        key="advice",
        kind="incident",
        incident_type="ADVICE-ENQUIRY",
        offence=None,
        weight=1.5,
        hours="day",
        place="home",
        parts=(Part("reporting-person", 1.0, "anyone"),),
        qualifiers=(),
        narratives=("Caller at {place} seeking advice about a neighbour's CCTV camera.",),
    ),
)

EVENT_TYPES: tuple[EventType, ...] = CRIMES + INCIDENTS
