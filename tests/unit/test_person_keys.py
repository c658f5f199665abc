"""Which ID number keys a person record: a relative's number, a typed-wrong number."""

from __future__ import annotations

import pytest

from mdm.resolve.person_keys import (
    NameOfNumber,
    corrected_number,
    is_relatives_number,
    number_name,
    one_typo_apart,
)

pytestmark = pytest.mark.unit

VALID = "450102199003071234"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("450102199003071235", True),  # the check character
        ("450102199803071234", True),  # one digit of the date
        ("450102919003071234", True),  # 19 -> 91: neighbours swapped
        ("450102199003071234", False),  # the same number
        ("450102199803071235", False),  # two characters
        ("451002199003071234", True),  # 01 -> 10: a swap
        ("450120199003071234", True),  # 02 -> 20: a swap
        ("45010219900307123", False),  # another length
        ("540102199003071234", True),  # 45 -> 54
        ("405102199003071234", True),
        ("450102199003072134", True),
        ("450102199003017234", True),
        ("550102199003071234", True),
        ("450102199003071243", True),
        ("450102199300071234", False),  # 0 and 3 two apart: not neighbours
    ],
)
def test_one_typo_apart(typed, expected):
    assert one_typo_apart(typed, VALID) is expected


def test_a_typed_number_is_corrected_only_to_one_number():
    other = "450102199003071250"
    assert corrected_number("450102199003071235", [VALID, other]) == VALID
    assert corrected_number("450102199003071230", [VALID, "450102199003071236"]) is None
    assert corrected_number("450102199003071235", []) is None


def names(*entries: tuple[str, int, bool]) -> list[NameOfNumber]:
    return [NameOfNumber(n, c, r) for n, c, r in entries]


def test_the_numbers_own_name_is_the_one_most_records_give():
    assert number_name(names(("韦小宝", 4, True), ("韦大宝", 1, True))) == "韦小宝"
    # a tie goes to the register, then to the smaller key
    assert number_name(names(("韦小宝", 1, False), ("韦大宝", 1, True))) == "韦大宝"
    assert number_name(names(("乙", 1, True), ("甲", 1, True))) == min("甲", "乙")


def test_a_relatives_number_is_one_whose_name_is_not_the_records():
    father = names(("黄建国", 3, True), ("李秀英", 1, False))
    assert is_relatives_number("李秀英", father)  # the mother's record, the father's number
    assert not is_relatives_number("黄建国", father)
    # a name written by sound is the same name, not a relative
    assert not is_relatives_number("黄健国", names(("黄建国", 3, True), ("黄健国", 1, False)))
    # the register's former name is the person's own
    renamed = [
        *names(("黄建国", 3, True), ("黄二狗", 1, False)),
        NameOfNumber("黄二狗", 0, True, True),
    ]
    assert not is_relatives_number("黄二狗", renamed)


def test_the_name_the_register_renamed_the_number_to_is_the_persons_own():
    # The register renamed 黄俊孝 to 黄强; the marriage and insurance records keep the old
    # name, so it is still the name most records give; the register's and the tax office's
    # records under the new name are the person's, not a relative's.
    renamed = [
        *names(("黄俊孝", 5, False), ("黄强", 2, True)),
        NameOfNumber("黄俊孝", 0, True, former=True, renamed_to="黄强"),
    ]
    assert not is_relatives_number("黄强", renamed)
    assert not is_relatives_number("黄俊孝", renamed)
    assert is_relatives_number("李秀英", [*renamed, *names(("李秀英", 1, False))])
    # renamed from another name than the number's: no licence for the new name
    elsewhere = [
        *names(("黄俊孝", 5, False), ("黄强", 2, True)),
        NameOfNumber("王芳", 0, True, former=True, renamed_to="黄强"),
    ]
    assert is_relatives_number("黄强", elsewhere)


def test_twins_a_twins_register_record_with_the_others_number_is_not_keyed_by_it():
    # twin B's number: B's register, student and tax records; twin A's register record
    numbers = names(("覃大宝", 3, True), ("覃二宝", 1, True))
    assert is_relatives_number("覃二宝", numbers)
