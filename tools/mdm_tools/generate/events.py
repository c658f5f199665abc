"""What happens on each simulated day after the first: the source of delta deliveries.

Each day draws from its own stream, so day ``d`` is the same whatever the
number of days generated. The returned :class:`DayChanges` says which records
each department will report as inserted, updated or deleted that day.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from mdm_tools.generate.world import (
    Marriage,
    World,
    _address_detail,
    _new_person,
    adults,
    current_counties,
    make_id_number,
    new_organisation,
    person_name,
    stream,
)

logger = logging.getLogger(__name__)


@dataclass
class DayChanges:
    day: int
    register: dict[str, str] = field(default_factory=dict)  # pid -> I/U/D
    enterprises: dict[str, str] = field(default_factory=dict)  # oid -> I/U
    marriages: list[Marriage] = field(default_factory=list)
    births: list[str] = field(default_factory=list)  # pids of newborns (birth certificates)
    tax_persons: set[str] = field(default_factory=set)
    tax_orgs: set[str] = field(default_factory=set)


def simulate_day(world: World, day: int, scale: int) -> DayChanges:
    """Apply one day's events to ``world`` (day >= 2); ``scale`` ~ number of persons."""
    rng = stream(world.seed, "day", day)
    today = world.day_date(day)
    changes = DayChanges(day)
    living = [p for p in world.persons.values() if p.status == "0"]
    per_day = max(1, scale // 3000)

    # Births: a certificate today; the register learns of the child ~40 days after birth.
    mothers = [
        p
        for p in living
        if p.sex == "2" and p.spouse and 21 * 365 < (today - p.birth).days < 40 * 365
    ]
    for mother in rng.sample(mothers, min(len(mothers), per_day)):
        father = world.persons[mother.spouse] if mother.spouse else None
        surname = father.name[0] if father and father.ethnicity != "05" else None
        child = _new_person(
            world,
            rng,
            today - dt.timedelta(days=rng.randint(0, 3)),
            rng.choice("12"),
            mother.ethnicity,
            mother.hukou,
            mother.address_detail,
            surname=surname,
            with_id=False,
        )
        child.mother, child.father = mother.pid, (father.pid if father else None)
        child.born_on_day = day
        changes.births.append(child.pid)
    for person in world.persons.values():
        if (
            person.id_number is None
            and person.passport is None
            and person.rybh is None
            and (today - person.birth).days >= 40
        ):
            person.id_number = make_id_number(rng, person.birth, person.sex, world.id_numbers)
            person.rybh = "R45" + world.next_id("rybh", 10)
            person.registered_on_day = day
            changes.register[person.pid] = "I"

    registered = [p for p in living if p.rybh]
    elderly = [p for p in registered if (today - p.birth).days > 70 * 365]
    for person in rng.sample(elderly, min(len(elderly), max(1, per_day // 2))):
        person.status, person.death_date = "1", today - dt.timedelta(days=rng.randint(0, 5))
        changes.register[person.pid] = "U"
    for person in rng.sample(registered, min(len(registered), max(1, per_day // 3))):
        person.former_names.append(person.name)
        person.name = person_name(
            rng, person.ethnicity, person.name[0] if person.ethnicity != "05" else None
        )
        changes.register[person.pid] = "U"
        if person.tax_djxh:
            changes.tax_persons.add(person.pid)
    for person in rng.sample(registered, min(len(registered), per_day)):
        person.hukou, person.address_detail = rng.choice(current_counties()), _address_detail(rng)
        changes.register.setdefault(person.pid, "U")

    singles = [p for p in adults(world, 22, 45) if p.spouse is None and p.rybh]
    men = [p for p in singles if p.sex == "1"]
    women = [p for p in singles if p.sex == "2"]
    for husband, wife in zip(
        rng.sample(men, min(len(men), per_day // 2 + 1)),
        rng.sample(women, min(len(women), per_day // 2 + 1)),
        strict=False,
    ):
        husband.spouse, wife.spouse = wife.pid, husband.pid
        m = Marriage("MZ" + world.next_id("ywlsh", 10), husband.pid, wife.pid, today, "1", day)
        world.marriages.append(m)
        changes.marriages.append(m)
    couples = [
        m
        for m in world.marriages
        if m.kind == "1" and m.day < day and world.persons[m.husband].spouse == m.wife
    ]
    for m in rng.sample(couples, min(len(couples), max(1, per_day // 4))):
        world.persons[m.husband].spouse = world.persons[m.wife].spouse = None
        d = Marriage("MZ" + world.next_id("ywlsh", 10), m.husband, m.wife, today, "2", day)
        world.marriages.append(d)
        changes.marriages.append(d)

    reps = adults(world, 25, 70)
    n_orgs = max(1, len(world.organisations) // 1000)
    for _ in range(n_orgs):
        kind = rng.choice(("enterprise", "enterprise", "individual_business", "cooperative"))
        org = new_organisation(world, rng, kind, reps, today, day=day)
        changes.enterprises[org.oid] = "I"
    enterprises = [
        o
        for o in world.organisations.values()
        if o.source_key.startswith("PRI") and o.status == "active" and o.created_on_day < day
    ]
    for org in rng.sample(enterprises, min(len(enterprises), n_orgs)):
        org.status, org.changed_on_day = "deregistered", day
        changes.enterprises[org.oid] = "U"
        if org.tax_djxh:
            changes.tax_orgs.add(org.oid)
    for org in rng.sample(enterprises, min(len(enterprises), max(1, n_orgs // 2))):
        if org.status == "active" and org.kind == "enterprise":
            org.former_names.append(org.name)
            org.name = org.name.replace(
                org.name[2:4], rng.choice(("鸿运", "嘉禾", "锦程", "启航")), 1
            )
            org.changed_on_day = day
            changes.enterprises[org.oid] = "U"
            if org.tax_djxh:
                changes.tax_orgs.add(org.oid)

    # The tax front-end: phones updated in place (new GXSJ); deaths become soft deletes.
    taxed = [p for p in world.persons.values() if p.tax_djxh]
    for person in rng.sample(taxed, min(len(taxed), per_day)):
        person.phone = "1" + rng.choice("3589") + f"{rng.randrange(10**9):09d}"
        changes.tax_persons.add(person.pid)
    return changes
