"""Names by sound (pypinyin): what counts as the same sound."""

from __future__ import annotations

import pytest

from mdm.standardize.sound import pinyin_key, same_sound
from mdm_tools.generate.noise import HOMOPHONE_GROUPS

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("张晓明", "张小明", True),  # 晓/小 xiao
        ("王馨", "王心", True),  # 馨/心 xin
        ("李潮", "李朝", True),  # 朝 reads chao or zhao
        ("曾伟", "曾玮", True),
        ("黄伟", "黄强", False),  # one character apart, another sound: not by sound
        ("张晓明", "张晓", False),  # another length
        ("欧阳娜", "欧阳纳", True),
        ("王芳", "汪芳", True),  # a surname by sound too (王/汪 wang)
        ("", "", False),
        (None, "王芳", False),
    ],
)
def test_same_sound(a, b, expected):
    assert same_sound(a, b) is expected


def test_the_pinyin_key_is_equal_for_the_usual_confusions():
    assert pinyin_key("张晓明") == pinyin_key("张小明") == "zhang xiao ming"
    assert pinyin_key("李潮") == pinyin_key("李朝")
    assert pinyin_key(None) is None
    assert pinyin_key("阿依古丽买买提").startswith("a yi gu li")


@pytest.mark.parametrize("group", HOMOPHONE_GROUPS)
def test_the_generators_confusions_are_the_same_sound_for_the_resolver(group):
    # The generator's list of real confusions is its own; the library must agree with it.
    assert all(same_sound("王" + c, "王" + group[0]) for c in group)
