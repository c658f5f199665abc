"""The nine sources of interface standard v2 (4.11-4.19) come in through the same door as the
first ten: one small hand-made delivery of each loads into ``raw`` (with its DAG for a file
dataset and for the front-end table ``fy_sxbzxr``), and the front-end defects of section 5
(v2) end as they should on the new table: a row committed late, a ``GXSJ`` corrected
downwards, a row deleted outright instead of flagged with ``SCBZ``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path
from typing import Any

import psycopg
import pytest
from ingest_support import (
    counts_add_up,
    current_rows,
    deliver,
    frontend_table,
    ledger,
    outcome_counts,
    quarantined_rows,
)

from mdm import db
from mdm.connections import params_from_url
from mdm.ingest.files import ingest_file_drops
from mdm.ingest.frontend import PullPolicy, pull_frontend
from mdm.ingest.run import profile_deliveries
from mdm.registry import Dataset, dataset

pytestmark = pytest.mark.integration

V2 = ("sft_jgdj", "sft_zyry", "dzzz_zzxx", "gjj_dwjc", "sdq_jfxx", "xyb_xzcf", "fy_sxbzxr",
      "xyd_sq", "jcfk")  # fmt: skip
STAMP = "2026-11-01 10:00:00"

# One small delivery per file dataset, as the department writes it: rows by column name.
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "sft_jgdj": [
        {"JGID": "JG001", "TYSHXYDM": "31450000MD0123456X", "JGMC": "广西民族律师事务所",
         "JGLX": "01", "ZZXS": "普通合伙", "ZYXKZH": "24501201010123456", "FZR": "韦国强",
         "FZRZJHM": "450102197001011234", "ZS": "南宁市青秀区民族大道1号", "XZQHDM": "450103",
         "JGZT": "1", "PZRQ": "2010-05-06", "GXSJ": STAMP},
        {"JGID": "JG002", "TYSHXYDM": "32450100MD0123457Y", "JGMC": "南宁市青秀公证处",
         "JGLX": "02", "FZR": "黄丽", "ZS": "南宁市青秀区金湖路2号", "XZQHDM": "450103",
         "JGZT": "1", "PZRQ": "1998-01-01", "GXSJ": STAMP},  # no ID number for the FZR
    ],
    "sft_zyry": [
        {"RYID": "RY001", "XM": "韦国强", "XB": "1", "SFZJHM": "450102197001011234",
         "ZYLB": "01", "ZYZH": "14501201010123456", "ZYJGMC": "广西民族律师事务所",
         "ZYJGDM": "31450000MD0123456X", "ZYZT": "1", "SCZYRQ": "1995-07-01", "GXSJ": STAMP},
        {"RYID": "RY002", "XM": "JOHN SMITH", "XB": "1", "SFZJHM": "E12345678", "ZYLB": "01",
         "ZYJGMC": "广西民族律师事务所", "ZYZT": "1", "GXSJ": STAMP},  # by name only
    ],
    "dzzz_zzxx": [
        {"zzbs": "ZZ001", "zzlxdm": "JHZ", "zzbh": "J450103-2026-000123", "czztmc": "韦国强",
         "czztdmlx": "111", "czztdm": "450102197001011234", "bfjg": "南宁市青秀区民政局",
         "bfrq": "2026-11-01", "yxqz": "长期", "zzzt": "1", "ywlsh": "MZ2026000123",
         "zmxx": {"nfxm": "韦国强", "nfzjhm": "450102197001011234", "nvxm": "黄丽",
                  "nvzjhm": "450102197203041227", "djrq": "2026-11-01", "djjg": "青秀区民政局"},
         "bswj": {"format": "OFD", "sha256": "ab" * 32, "bytes": 48213},
         "gxsj": STAMP, "czbs": "I"},
        {"zzbs": "ZZ002", "zzlxdm": "YYZZ", "czztmc": "广西某某科技有限公司", "czztdmlx": "001",
         "czztdm": "91450100MA5K000001", "zzzt": "2", "bswj": {"format": "PDF"},
         "gxsj": STAMP, "czbs": "U"},  # layout file only, no ywlsh, annulled
    ],
    "gjj_dwjc": [
        {"DWZH": "GJ0001", "DWMC": "广西某某科技有限公司", "TYSHXYDM": "91450100MA5K000001",
         "DWDZ": "南宁市西乡塘区大学路3号", "JCRS": "25", "YJCE": "31250.00", "JZNY": "202610",
         "DWZT": "1", "KHRQ": "2015-03-02", "GXSJ": STAMP},
        {"DWZH": "GJ0002", "DWMC": "南宁市某某商贸公司", "ZZJGDM": "M000100Y-4",
         "DWDZ": "南宁市兴宁区朝阳路4号", "JCRS": "3", "YJCE": "1800.5", "JZNY": "202607",
         "DWZT": "2", "GXSJ": STAMP},  # no credit code, an older name
    ],
    "sdq_jfxx": [
        {"HH": "0771002233", "NYLX": "D", "YHMC": "某某科技(南宁)", "YDDZ": "南宁市大学路3号",
         "ZDNY": "202610", "YJJE": "1520.30", "SJJE": "1520.30", "QFJE": "0", "GXSJ": STAMP},
        {"HH": "0773004455", "NYLX": "S", "YHMC": "桂林某某酒店", "TYSHXYDM": "",
         "YDDZ": "桂林市象山区1号", "ZDNY": "202610", "YJJE": "880", "SJJE": "0",
         "QFJE": "2640", "GXSJ": STAMP},
    ],
    "xyb_xzcf": [
        {"XZCFID": "CF001", "CFJDSWH": "南市监处罚〔2026〕123号", "XDRMC": "广西某某科技有限公司",
         "XDRLB": "1", "XDRDM": "91450100MA5K000001", "FDDBR": "韦国强", "CFLB": "罚款;警告",
         "CFJE": "1.5", "CFRQ": "2026-10-20", "CFJG": "南宁市市场监督管理局",
         "GSJZQ": "2027-10-20", "GXSJ": STAMP, "CZBS": "I"},
        {"XZCFID": "CF002", "CFJDSWH": "南公(青)行罚决字〔2026〕45号", "XDRMC": "黄丽",
         "XDRLB": "2", "ZJLX": "111", "ZJHM": "450102197203041227", "CFLB": "警告",
         "CFRQ": "2026-10-21", "CFJG": "南宁市公安局青秀分局", "GXSJ": STAMP, "CZBS": "I"},
        {"XZCFID": "CF003", "CFJDSWH": "南市监处罚〔2025〕9号", "XDRMC": "某某小吃店",
         "XDRLB": "3", "XDRDM": "450102197001011234", "CFLB": "罚款", "CFJE": "0.2",
         "GXSJ": STAMP, "CZBS": "D"},  # credit repair: deleted before its GSJZQ
    ],
    "xyd_sq": [
        {"SQID": "SQ001", "TYSHXYDM": "91450100MA5K000001", "QYMC": "广西某某科技有限公司",
         "YHDM": "91450000198230932C", "YHMC": "某某银行南宁分行", "SQFW": "JBXX;NSXX;GJJ",
         "SQRQ": "2026-11-01", "YXQZ": "2027-10-31", "SQZT": "1", "GXSJ": STAMP, "CZBS": "I"},
        {"SQID": "SQ002", "TYSHXYDM": "91450100MA5K000001", "YHDM": "91450000198230932C",
         "SQFW": "SDQ", "SQRQ": "2026-10-01", "YXQZ": "2026-12-31", "SQZT": "2",
         "GXSJ": STAMP, "CZBS": "U"},  # withdrawn
    ],
    "jcfk": [
        {"JCBH": "JC20261101000001", "FKXH": "1", "SJJ": "gat_czrk", "CLJG": "1",
         "CLSM": "已更正出生日期", "CLRQ": "2026-11-01", "GXSJ": STAMP},
        {"JCBH": "JC20261101000001", "FKXH": "2", "SJJ": "gat_czrk", "CLJG": "2",
         "CLSM": "复核:原值正确", "CLRQ": "2026-11-02", "GXSJ": STAMP},
    ],
}  # fmt: skip


def _mode(spec: Dataset) -> str:
    return "full" if "full" in spec.cadence else "delta"


def _files(spec: Dataset, rows: list[dict[str, Any]]) -> tuple[dict[str, bytes], str]:
    """The rows as the dataset's files (split in two parts: a department splitting by city)
    and the encoding its manifest declares."""
    codec = "gb18030" if spec.encoding == "GB18030" else "utf-8"
    parts: dict[str, bytes] = {}
    for number, part in enumerate((rows[:1], rows[1:]), start=1):
        if spec.format == "jsonl":
            text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part)
        else:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, spec.file_columns(_mode(spec)), lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(part)
            text = ("\ufeff" if spec.encoding == "UTF-8-BOM" else "") + buffer.getvalue()
        parts[f"part-{number}.{spec.format}"] = text.encode(codec)
    return parts, "GB18030" if codec == "gb18030" else "UTF-8"


def _deliver_sample(landing: Path, code: str, delivery_id: str = "20261101-01") -> None:
    spec = dataset(code)
    files, encoding = _files(spec, SAMPLES[code])
    deliver(landing, code, delivery_id, files, _mode(spec), overrides={"encoding": encoding})


def test_one_small_delivery_of_each_new_file_dataset_loads(
    tmp_path, warehouse_url, clean_ingestion
):
    assert set(SAMPLES) == {c for c in V2 if dataset(c).channel == "file"}
    landing = tmp_path / "landing"
    warehouse = params_from_url(warehouse_url)
    for code in SAMPLES:
        _deliver_sample(landing, code)
    for code, rows in SAMPLES.items():
        report = ingest_file_drops(warehouse, landing, dataset(code), "v2")
        assert [(o.status, o.rows_loaded, o.extra_columns) for o in report.outcomes] == [
            ("loaded", len(rows), [])
        ], (code, report.outcomes)
        assert ledger(warehouse_url, code)["20261101-01"]["rows_quarantined"] == 0
    counts_add_up(warehouse_url)
    with psycopg.connect(warehouse_url) as conn:
        operations = {
            code: conn.execute(
                f"select string_agg(_operation, '' order by _file, _line) from raw.{code}"  # noqa: S608
            ).fetchone()[0]
            for code in SAMPLES
        }
        certificate = conn.execute(
            "select zmxx::jsonb ->> 'nvxm', bswj::jsonb ->> 'format', yxqz, ywlsh "
            "from raw.dzzz_zzxx order by zzbs"
        ).fetchall()
        keys = conn.execute("select hh, zdny, _file from raw.sdq_jfxx order by hh").fetchall()
        names = conn.execute("select xm from raw.sft_zyry order by ryid").fetchall()
    assert operations == {
        "sft_jgdj": "FF", "sft_zyry": "FF", "gjj_dwjc": "FF",  # monthly fulls
        "dzzz_zzxx": "IU", "xyb_xzcf": "IID", "xyd_sq": "IU",  # deltas with CZBS
        "sdq_jfxx": "II", "jcfk": "II",  # deltas of inserts: no CZBS column
    }  # fmt: skip
    assert certificate == [("黄丽", "OFD", "长期", "MZ2026000123"), (None, "PDF", None, None)]
    assert keys == [("0771002233", "202610", "part-1.csv"), ("0773004455", "202610", "part-2.csv")]
    assert names == [("韦国强",), ("JOHN SMITH",)]  # GB18030 decoded

    # The warning suite: several codes in one value are checked code by code.
    warnings = profile_deliveries("xyb_xzcf", warehouse, ["20261101-01"])
    assert warnings == {"20261101-01": []}
    bad = [{**SAMPLES["xyb_xzcf"][0], "XZCFID": f"CF9{i}", "CFLB": "罚金;警告"} for i in range(3)]
    files, _ = _files(dataset("xyb_xzcf"), bad)
    deliver(landing, "xyb_xzcf", "20261102-01", files, "delta")
    ingest_file_drops(warehouse, landing, dataset("xyb_xzcf"), "v2")
    warnings = profile_deliveries("xyb_xzcf", warehouse, ["20261102-01"])
    assert warnings == {"20261102-01": ["expect_column_values_to_match_regex(cflb) observed 100.0"]}


def test_new_datasets_load_through_their_dags(
    settings, warehouse_url, airflow_metadata, clean_ingestion
):
    from mdm.orchestration import run_dag

    landing = settings.landing_dir
    if landing.exists():
        shutil.rmtree(landing)
    _deliver_sample(landing, "xyb_xzcf")
    frontend_table(db.frontend_url(settings), "fy_sxbzxr", [_debtor("A1"), _debtor("A2")])
    every_task = {
        "ingest": "success",
        "profile": "success",
        "check_deliveries": "success",
        "announce": "success",  # rows loaded: the raw Asset's event
    }
    for code, rows in (("xyb_xzcf", 3), ("fy_sxbzxr", 2)):
        outcome = run_dag(settings, f"mdm_ingest_{code}")
        assert outcome.task_states == every_task, code
        with psycopg.connect(warehouse_url) as conn:
            loaded = conn.execute(
                "select status, run_id, rows_loaded from ops.delivery where dataset = %s",
                (code,),
            ).fetchall()
            suites = conn.execute(
                "select suite_name from ops.validation_result where dataset = %s order by 1",
                (code,),
            ).fetchall()
        assert loaded == [("loaded", outcome.run_id, rows)], code
        mode = "pull" if code == "fy_sxbzxr" else "delta"
        assert suites == [(f"raw.{code}.{mode}.gate",), (f"raw.{code}.{mode}.profile",)]


# --- fy_sxbzxr: the front-end defects of section 5 (v2) -----------------------------------

BASE = dt.datetime(2026, 11, 20, 9, 0)  # noqa: DTZ001 - GXSJ: Beijing time, no zone
T0 = dt.datetime(2026, 11, 27, 8, 0, tzinfo=dt.UTC)


def _debtor(ah: str, gxsj: dt.datetime | None = None, **values: object) -> dict[str, object]:
    return {
        "ah": ah,
        "bzxrmc": f"韦{ah}",
        "bzxrlx": "1",
        "zjhm": "450102197001011234",
        "zxfy": "南宁市青秀区人民法院",
        "larq": dt.date(2026, 3, 1),
        "fbrq": dt.date(2026, 6, 1),
        "sxqx": "有履行能力而拒不履行生效法律文书确定义务",
        "lxqk": "全部未履行",
        "gxsj": gxsj or BASE,
        "scbz": "0",
    } | values


def _insert(conn: psycopg.Connection, row: dict[str, object]) -> None:
    names = [c.name.lower() for c in dataset("fy_sxbzxr").columns]
    conn.execute(
        f"insert into public.fy_sxbzxr ({', '.join(names)}) "  # noqa: S608 - our columns
        f"values ({', '.join(['%s'] * len(names))})",
        [row.get(n) for n in names],
    )


@pytest.fixture
def debtors(settings, warehouse_url, clean_ingestion):  # type: ignore[no-untyped-def]
    """Four debtors (2026)桂0102执1..4号 stamped a minute apart; yields (front-end url, pull)."""
    frontend_url = db.frontend_url(settings)
    frontend_table(
        frontend_url,
        "fy_sxbzxr",
        [_debtor(f"(2026)桂0102执{i}号", BASE + dt.timedelta(minutes=i)) for i in range(1, 5)],
    )
    warehouse, frontend = params_from_url(warehouse_url), params_from_url(frontend_url)
    pulls = iter(range(1, 100))
    policy = PullPolicy(reconcile_every=None)  # reconcile only when a test asks

    def pull(**kwargs: Any) -> Any:
        n = next(pulls)
        now = T0 + dt.timedelta(hours=n)
        spec = dataset("fy_sxbzxr")
        return pull_frontend(warehouse, frontend, spec, f"p{n}", now, policy=policy, **kwargs)

    yield frontend_url, pull


def _current(warehouse_url: str) -> dict[str, tuple[str | None, str, str]]:
    """Each case's last row in raw (GXSJ, operation, file), as staging will read it."""
    return current_rows(warehouse_url, "fy_sxbzxr")


def test_debtors_committed_late_or_stamped_lower_are_not_missed(warehouse_url, debtors):
    frontend_url, pull = debtors
    assert pull().rows_loaded == 4
    late = psycopg.connect(frontend_url)
    try:  # a court clerk's transaction stamps its row, then commits after the next pull
        _insert(late, _debtor("LATE", BASE + dt.timedelta(minutes=5)))
        with psycopg.connect(frontend_url) as other:
            _insert(other, _debtor("EARLY", BASE + dt.timedelta(minutes=6)))
        assert pull().rows_loaded == 1
        late.commit()
    finally:
        late.close()
    third = pull()
    assert third.rows_loaded == 1 and _current(warehouse_url)["LATE"][1] == "U"
    third_ledger = ledger(warehouse_url, "fy_sxbzxr")[third.delivery_id]
    # The overlap read the five others again: not stored again, counted apart.
    assert (third_ledger["rows_declared"], third_ledger["rows_unchanged"]) == (1, 5)

    # GXSJ corrected downwards: within the overlap the next pull has it; far below the mark,
    # the reconciliation (keys and GXSJ of the whole table against raw) does.
    with psycopg.connect(frontend_url) as conn:
        conn.execute(
            "update public.fy_sxbzxr set lxqk = '部分未履行', gxsj = %s where ah = 'EARLY'",
            (BASE + dt.timedelta(minutes=2),),
        )
        conn.execute(
            "update public.fy_sxbzxr set lxqk = '部分未履行', gxsj = %s where ah = %s",
            (BASE - dt.timedelta(days=30), "(2026)桂0102执1号"),
        )
    assert pull().rows_loaded == 1
    assert _current(warehouse_url)["EARLY"][0] == "2026-11-20 09:02:00"
    reconciled = pull(reconcile=True)
    assert reconciled.rows_loaded == 1
    assert _current(warehouse_url)["(2026)桂0102执1号"][0] == "2026-10-21 09:00:00"
    assert _current(warehouse_url)["(2026)桂0102执1号"][2].endswith("/missed")
    assert pull() is None and pull(reconcile=True) is None  # reruns store nothing
    counts_add_up(warehouse_url)


def test_a_debtor_removed_from_the_list_arrives_as_a_delete_flagged_or_not(warehouse_url, debtors):
    frontend_url, pull = debtors
    pull()
    with psycopg.connect(frontend_url) as conn:
        conn.execute(  # removed from the list as the standard says: SCBZ = '1'
            "update public.fy_sxbzxr set scbz = '1', gxsj = %s where ah = %s",
            (BASE + dt.timedelta(hours=1), "(2026)桂0102执2号"),
        )
        conn.execute("delete from public.fy_sxbzxr where ah = %s", ("(2026)桂0102执3号",))
    flagged = pull()
    assert flagged.rows_loaded == 1  # the outright delete is invisible to a pull by GXSJ
    assert _current(warehouse_url)["(2026)桂0102执3号"][1] == "U"
    reconciled = pull(reconcile=True)
    assert reconciled.rows_loaded == 1
    current = _current(warehouse_url)
    assert current["(2026)桂0102执2号"][1] == "D"
    assert current["(2026)桂0102执3号"][1:] == ("D", f"fy_sxbzxr@{reconciled.delivery_id}/vanished")
    row = ledger(warehouse_url, "fy_sxbzxr")[reconciled.delivery_id]
    assert (row["reconciled"], row["rows_vanished"], row["rows_loaded"]) == (True, 1, 1)
    assert pull(reconcile=True) is None  # a delete is recorded once
    counts_add_up(warehouse_url)


def test_a_front_end_table_not_set_up_yet_is_waited_for_and_one_gone_is_rejected(
    settings, warehouse_url, clean_ingestion
):
    """A new source before the court has created its table: nothing to pull, a warning
    event, no rejected pull every day; once rows were pulled, a table gone is a fault."""
    warehouse = params_from_url(warehouse_url)
    frontend_url = db.frontend_url(settings)
    frontend = params_from_url(frontend_url)
    spec = dataset("fy_sxbzxr")
    assert pull_frontend(warehouse, frontend, spec, "early", T0) is None
    with psycopg.connect(warehouse_url) as conn:
        events = conn.execute(
            "select event, detail ->> 'warning' from ops.delivery_event where dataset = %s",
            (spec.code,),
        ).fetchall()
        pulls = conn.execute(
            "select count(*) from ops.delivery where dataset = %s", (spec.code,)
        ).fetchone()[0]
    assert [e[0] for e in events] == ["no_source_table"] and pulls == 0
    assert "does not exist (yet)" in events[0][1] and "To do" in events[0][1]
    frontend_table(frontend_url, "fy_sxbzxr", [_debtor("A1")])
    assert (
        pull_frontend(warehouse, frontend, spec, "p", T0 + dt.timedelta(hours=1)).rows_loaded == 1
    )
    with psycopg.connect(frontend_url, autocommit=True) as conn:
        conn.execute("drop table public.fy_sxbzxr")
    gone = pull_frontend(warehouse, frontend, spec, "gone", T0 + dt.timedelta(hours=2))
    assert (gone.status, gone.error_code) == ("rejected", "source_table_missing")
    assert "does not exist any more" in gone.error and "to do:" in gone.error


def test_a_delta_of_deletes_that_carry_only_their_key_passes_the_gate(
    tmp_path, warehouse_url, clean_ingestion
):
    """Credit repair (信用修复) deletes penalties with CZBS = D, and the standard guarantees
    only the record key of a delete: the required columns are not required of them."""
    landing = tmp_path / "landing"
    spec = dataset("xyb_xzcf")
    repairs = [{"XZCFID": f"CF00{i}", "GXSJ": STAMP, "CZBS": "D"} for i in range(1, 4)]
    files, _ = _files(spec, [SAMPLES["xyb_xzcf"][0] | {"XZCFID": "CF009"}, *repairs])
    deliver(landing, "xyb_xzcf", "20261103-01", files, "delta")
    files, _ = _files(spec, [{**r, "XZCFID": r["XZCFID"] + "X"} for r in repairs])
    deliver(landing, "xyb_xzcf", "20261103-02", files, "delta")  # nothing but deletes
    report = ingest_file_drops(params_from_url(warehouse_url), landing, spec, "v2")
    assert [(o.status, o.rows_loaded) for o in report.outcomes] == [("loaded", 4), ("loaded", 3)]
    profiled = profile_deliveries("xyb_xzcf", params_from_url(warehouse_url), ["20261103-02"])
    assert profiled == {"20261103-02": []}
    # A delta whose inserts lack their required columns is still an incomplete extract.
    broken = [{"XZCFID": f"CF01{i}", "GXSJ": STAMP, "CZBS": "I"} for i in range(1, 4)]
    files, _ = _files(spec, [SAMPLES["xyb_xzcf"][0] | {"XZCFID": "CF019"}, *broken])
    deliver(landing, "xyb_xzcf", "20261104-01", files, "delta")
    report = ingest_file_drops(params_from_url(warehouse_url), landing, spec, "v2")
    assert [(o.status, o.error_code) for o in report.outcomes] == [("rejected", "gate_failed")]


def test_a_nul_inside_a_certificates_surface_data_quarantines_its_row(
    tmp_path, warehouse_url, clean_ingestion
):
    landing = tmp_path / "landing"
    good, bad = SAMPLES["dzzz_zzxx"][0], {**SAMPLES["dzzz_zzxx"][0], "zzbs": "ZZ003"}
    bad["zmxx"] = {**good["zmxx"], "nvxm": "黄\x00丽"}  # json.dumps writes it as \u0000
    files, _ = _files(dataset("dzzz_zzxx"), [good, bad])
    deliver(landing, "dzzz_zzxx", "20261101-01", files, "delta")
    report = ingest_file_drops(params_from_url(warehouse_url), landing, dataset("dzzz_zzxx"), "x")
    assert outcome_counts({o.delivery_id: o for o in report.outcomes}) == {
        "20261101-01": ("partially_quarantined", 1, 1)
    }
    assert [(q[2], q[3], q[4]) for q in quarantined_rows(warehouse_url)] == [
        ("part-2.jsonl", 1, "nul_byte")
    ]
    counts_add_up(warehouse_url)
