"""Names by sound: the pinyin readings of name characters, from the ``pypinyin`` library.

Many Chinese names are mistyped by sound (同音字: 晓/小, 馨/心, 潮/朝). Resolution compares
names by their readings as well as by their characters. Tones are left out (a form filled
in by ear does not keep them), and a character with several readings (多音字: 朝 chao/zhao,
曾 ceng/zeng) sounds like any of them.
"""

from __future__ import annotations

import logging
from functools import lru_cache

logger = logging.getLogger(__name__)


@lru_cache(maxsize=65536)
def _readings(char: str) -> tuple[str, ...]:
    from pypinyin import Style, pinyin

    found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="default")
    return tuple(found[0]) if found and found[0] else (char,)


def readings(char: str) -> frozenset[str]:
    """The toneless readings of one character; a character pypinyin does not know is itself."""
    return frozenset(_readings(char))


@lru_cache(maxsize=262144)
def pinyin_key(name: str | None) -> str | None:
    """The name's sound as one string (each character's main reading, space-separated): equal
    for names written with different characters of the same main reading."""
    if not name:
        return None
    return " ".join(_readings(char)[0] for char in name)


def same_sound(a: str | None, b: str | None) -> bool:
    """Two name keys that can be read alike: as many characters, each pair sharing a reading."""
    if not a or not b or len(a) != len(b):
        return False
    return all(x == y or readings(x) & readings(y) for x, y in zip(a, b, strict=True))
