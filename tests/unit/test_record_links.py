"""Which legal person a record known by name and address describes (ADR 0017), without a
database: the rules of ``mdm.resolve.links.decide_by_name`` and the name similarity."""

from __future__ import annotations

import pytest

from mdm.resolve.links import Candidate, decide_by_name, name_similarity

pytestmark = pytest.mark.unit


def org(entity: str, names: tuple[str, ...], shorts: tuple[str, ...], *addresses: str) -> Candidate:
    return Candidate(entity, frozenset(names), frozenset(shorts), frozenset(addresses))


KANGNING = org(
    "L1", ("桂林康宁房地产开发经营部",), ("桂林康宁房地产开发经营部",), "全州县北大路361号"
)
XINDA = org(
    "L2",
    ("防城港鑫达农业科技有限公司柳江分公司",),
    ("防城港鑫达农业科技有限公司柳江分公司",),
    "柳江区北大路422号",
)
NEIGHBOUR = org("L3", ("全州县便民超市",), ("全州县便民超市",), "全州县北大路361号")
SAME_NAME = org(
    "L4", ("桂林康宁房地产开发经营部",), ("桂林康宁房地产开发经营部",), "灵川县八里街1号"
)


@pytest.mark.parametrize(
    ("name", "short", "address", "candidates", "expected"),
    [
        # the same name at the same address
        ("桂林康宁房地产开发经营部", "桂林康宁房地产开发经营部", "全州县北大路361号",
         [KANGNING, NEIGHBOUR], ("L1", "name_address", 0.999)),
        # an abbreviation (no city, no company form) at the address: the similar one there
        ("康宁房地产开发", "康宁房地产开发", "全州县北大路361号",
         [KANGNING, NEIGHBOUR], ("L1", "address_similar_name", 0.99)),
        # a former name (a brand word changed), same address
        ("防城长城达农业科技有限公司柳江分公司", "防城长城达农业科技有限公司柳江分公司",
         "柳江区北大路422号", [XINDA], ("L2", "address_similar_name", 0.99)),
        # the same name, no address: the one legal person of that name
        ("桂林康宁房地产开发经营部", "桂林康宁房地产开发经营部", None,
         [KANGNING], ("L1", "name", 0.98)),
        # two legal persons of that name and the address of neither: no link
        ("桂林康宁房地产开发经营部", "桂林康宁房地产开发经营部", "兴宁区民主路2号",
         [KANGNING, SAME_NAME], None),
        # the same name at the address of one of them: that one
        ("桂林康宁房地产开发经营部", "桂林康宁房地产开发经营部", "灵川县八里街1号",
         [KANGNING, SAME_NAME], ("L4", "name_address", 0.999)),
        # only the address agrees, the name is another's: no link (an account is never
        # given to whoever is registered at the address)
        ("八桂物流有限公司", "八桂物流", "全州县北大路361号", [KANGNING, NEIGHBOUR], None),
        # nothing to compare
        (None, None, None, [KANGNING], None),
    ],
)  # fmt: skip
def test_a_record_known_by_name_and_address(name, short, address, candidates, expected):
    assert decide_by_name(name, short, address, candidates) == expected


@pytest.mark.parametrize(
    ("a", "b", "at_least", "below"),
    [
        ("康宁房地产开发", "桂林康宁房地产开发经营部", 1.0, None),  # held whole
        ("市旅(柳州)游开发慈善基金会", "柳州市旅游开发慈善基金会", 0.5, None),  # brackets moved
        ("八桂物流", "全州县便民超市", None, 0.5),
        ("", "全州县便民超市", None, 0.01),
    ],
)
def test_name_similarity(a, b, at_least, below):
    similarity = name_similarity(a, b)
    if at_least is not None:
        assert similarity >= at_least
    if below is not None:
        assert similarity < below
