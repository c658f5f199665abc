"""Which ID number a person record is resolved by, beyond "valid and agreeing".

The deterministic step keys a record by a valid ID number that agrees with the record's
birth date and sex. Two rules refine that, both decided here in plain Python (the SQL only
fetches the few records concerned):

- **A relative's number.** A valid number typed into a relative's record (the father's
  number in the mother's guardian entry) agrees with a record that has no birth date or
  sex. The number's own name decides: the name most records carrying the number give
  (the register's on a tie). A record whose name is neither that name, nor a former name
  the register gives for the number, nor the name the register renamed it to, nor a name
  of the same sound, is not keyed by it.
- **A typed-wrong number.** An ID number failing its check that is one character, or one
  swap of neighbours, away from exactly one valid number carried by a record of the same
  name (a register record's former name counts as its name: a renamed person's other
  records keep the old one) and, where the record has a birth date, with that date in the
  number, is that number. An invalid number itself never becomes anyone's key or golden ID number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from mdm.standardize.sound import same_sound

logger = logging.getLogger(__name__)


def one_typo_apart(typed: str, valid: str) -> bool:
    """``typed`` is ``valid`` with one character changed, or two neighbours swapped."""
    if len(typed) != len(valid) or typed == valid:
        return False
    differ = [i for i, (a, b) in enumerate(zip(typed, valid, strict=True)) if a != b]
    if len(differ) == 1:
        return True
    return (
        len(differ) == 2
        and differ[1] == differ[0] + 1
        and typed[differ[0]] == valid[differ[1]]
        and typed[differ[1]] == valid[differ[0]]
    )


@dataclass(frozen=True)
class NameOfNumber:
    """A name the records carrying one ID number give, how many give it, whether the
    register is among them, and whether it is the register's former name (曾用名); a former
    name carries the register's name now (``renamed_to``)."""

    name_key: str
    records: int
    registered: bool
    former: bool = False
    renamed_to: str | None = None


def names_agree(a: str, b: str) -> bool:
    return a == b or same_sound(a, b)


def number_name(names: Sequence[NameOfNumber]) -> str | None:
    """The number's own name: most records, the register on a tie, then the smallest key."""
    current = [n for n in names if not n.former]
    if not current:
        return None
    return min(current, key=lambda n: (-n.records, not n.registered, n.name_key)).name_key


def is_relatives_number(name_key: str, names: Sequence[NameOfNumber]) -> bool:
    """The record's name is not the number's (nor its former name, nor the name the register
    renamed it to, nor one of the same sound)."""
    own = number_name(names)
    if own is None or names_agree(name_key, own):
        return False
    # A renamed person's older records outnumber the new name for a while (the register and
    # the departments catch up one by one): the register's new name, given with the number's
    # own name as the former one, is the same person's.
    return not any(
        n.former
        and (
            names_agree(name_key, n.name_key)
            or (
                n.renamed_to is not None
                and names_agree(own, n.name_key)
                and names_agree(name_key, n.renamed_to)
            )
        )
        for n in names
    )


def corrected_number(typed: str, candidates: Iterable[str]) -> str | None:
    """The one valid number ``typed`` is a typo of, among ``candidates`` (valid numbers of
    records with the same name); None when there is none or more than one."""
    matches = {c for c in candidates if one_typo_apart(typed, c)}
    return matches.pop() if len(matches) == 1 else None
