"""The generator's own description of the nine v2 datasets (interface standard 4.11-4.19).

The first ten datasets are written from the registry (``mdm.registry``); these nine are
written from the standard's text here, so the generator does not depend on how the
registry describes them (a unit test compares both once the registry has them).
"""

from __future__ import annotations

import functools
import logging

from mdm.registry import Column, Dataset, datasets

logger = logging.getLogger(__name__)

# code: (provider, channel, format, encoding, record key, columns in delivery order)
# Columns marked ``*`` are sent in delta deliveries only (CZBS); front-end tables carry
# their SQL type after ``:``.
_V2 = {
    "sft_jgdj": (
        "广西壮族自治区司法厅", "file", "csv", "UTF-8", ("JGID",),
        "JGID TYSHXYDM JGMC JGLX ZZXS ZYXKZH FZR FZRZJHM ZS XZQHDM JGZT PZRQ GXSJ",
    ),
    "sft_zyry": (
        "广西壮族自治区司法厅", "file", "csv", "GB18030", ("RYID",),
        "RYID XM XB SFZJHM ZYLB ZYZH ZYJGMC ZYJGDM ZYZT SCZYRQ GXSJ",
    ),
    "dzzz_zzxx": (
        "广西壮族自治区大数据发展局", "file", "jsonl", "UTF-8", ("zzbs",),
        "zzbs zzlxdm zzbh czztmc czztdmlx czztdm bfjg bfjgdm bfrq yxqz zzzt ywlsh zmxx bswj "
        "gxsj czbs",
    ),
    "gjj_dwjc": (
        "广西壮族自治区住房公积金管理中心", "file", "csv", "UTF-8", ("DWZH",),
        "DWZH DWMC TYSHXYDM ZZJGDM DWDZ JCRS YJCE JZNY DWZT KHRQ GXSJ",
    ),
    "sdq_jfxx": (
        "广西壮族自治区发展和改革委员会", "file", "csv", "GB18030", ("HH", "ZDNY"),
        "HH NYLX YHMC TYSHXYDM YDDZ ZDNY YJJE SJJE QFJE GXSJ",
    ),
    "xyb_xzcf": (
        "广西壮族自治区发展和改革委员会", "file", "csv", "UTF-8", ("XZCFID",),
        "XZCFID CFJDSWH XDRMC XDRLB XDRDM FDDBR ZJLX ZJHM CFLB CFJE CFRQ CFJG CFJGDM GSJZQ "
        "GXSJ CZBS*",
    ),
    "fy_sxbzxr": (
        "广西壮族自治区高级人民法院", "frontend_db", None, None, ("AH",),
        "AH:varchar BZXRMC:varchar BZXRLX:varchar ZJHM:varchar FDDBR:varchar ZXFY:varchar "
        "LARQ:date FBRQ:date SXQX:varchar LXQK:varchar GXSJ:timestamp SCBZ:char(1)",
    ),
    "xyd_sq": (
        "广西壮族自治区地方金融管理局", "file", "csv", "UTF-8", ("SQID",),
        "SQID TYSHXYDM QYMC YHDM YHMC SQFW SQRQ YXQZ SQZT GXSJ CZBS*",
    ),
    "jcfk": (
        "各部门", "file", "csv", "UTF-8", ("JCBH", "FKXH"),
        "JCBH FKXH SJJ CLJG CLSM CLRQ GXSJ",
    ),
}  # fmt: skip
V2_DATASETS = tuple(_V2)
_ROLES = {"sft_jgdj": ("FZR",)}  # the row's own key is the institution (standard 4.11)
_PERSON_SOURCES = ("sft_zyry",)


def _column(text: str) -> Column:
    name, _, sql_type = text.partition(":")
    return Column(
        name=name.rstrip("*"),
        meaning=name.rstrip("*"),
        sql_type=sql_type or None,
        delta_only=name.endswith("*"),
    )


@functools.cache
def _spec(code: str) -> Dataset:
    provider, channel, fmt, encoding, key, columns = _V2[code]
    return Dataset(
        code=code,
        title=code,
        provider=provider,
        department=provider,
        domain="person" if code in _PERSON_SOURCES else "organisation",
        channel=channel,
        cadence={},
        record_key=key,
        roles=_ROLES.get(code, ()),
        columns=tuple(_column(c) for c in columns.split()),
        catalogue={},
        format=fmt,
        encoding=encoding,
        table=code if channel == "frontend_db" else None,
    )


def spec(code: str) -> Dataset:
    """How the generator writes ``code``: its own description for the v2 datasets, the
    registry's for the first ten."""
    if code in _V2:
        return _spec(code)
    return datasets()[code]
