"""Department views of the world: rows per dataset, and the truth of every record.

A row is a dict of column -> delivered text (or None for missing). Alongside
each row, :class:`Truth` records which true person or organisation every
source record (``<key>`` or ``<key>#<ROLE>``) describes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from mdm_tools.generate import noise
from mdm_tools.generate.world import (
    ETHNICITY_NAMES,
    Organisation,
    Person,
    World,
    prefecture_names,
    stream,
)

logger = logging.getLogger(__name__)

Row = dict[str, Any]
PROVINCE = "广西壮族自治区"
REGSTATE = {"active": "1", "revoked": "2", "deregistered": "3"}


@dataclass
class Truth:
    records: dict[tuple[str, str], tuple[str, str]] = field(
        default_factory=dict
    )  # (ds, key) -> (kind, id)
    relations: set[tuple[str, str, str, str, str]] = field(default_factory=set)
    # Hard cases of resolution per record: (dataset, key) -> case names (HARD_CASES).
    cases: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # Legal-representative records per organisation: (dataset, key#FDDBR) -> delivered with
    # the representative's own ID number; a record by name only is decided by the others.
    rep_records: dict[str, dict[tuple[str, str], bool]] = field(default_factory=dict)
    # v2: records linked to (not resolved into) an entity: (dataset, key) -> (kind, id, basis),
    # basis = how the record names it (uscc, org_code, id_number, passport, name_address).
    links: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    # v2: certificate rows (truth/certificates.csv, CERTIFICATE_COLUMNS) and correction
    # answers (truth/correction_answers.csv, ANSWER_COLUMNS); front-end defects planted.
    certificates: list[tuple[str, ...]] = field(default_factory=list)
    answers: list[tuple[str, ...]] = field(default_factory=list)
    frontend_defects: list[dict[str, Any]] = field(default_factory=list)
    # Value defects planted in the checked columns (truth/value_defects.csv, DEFECT_COLUMNS):
    # (dataset, record key, column as delivered) -> (delivered value, kind, true value). A
    # format variant (lower-case x, full-width digits, another date format) is no defect.
    defects: dict[tuple[str, str, str], tuple[str, str, str]] = field(default_factory=dict)
    # v2 credit facts as delivered (truth/credit_profile.csv, credit_penalties.csv; the last
    # rendering wins, as the last delivery does): housing-fund account -> (organisation,
    # months in arrears by the standard's rule); utility account -> (organisation, arrears
    # after its last bill, bills with arrears); penalty -> (decided, publish until, fine in
    # yuan, types); insured person -> (employer, paying pension, employer named by its code).
    housing_fund: dict[str, tuple[str, int]] = field(default_factory=dict)
    utilities: dict[str, tuple[str, float, int]] = field(default_factory=dict)
    penalty_terms: dict[str, tuple[str, str, str, str]] = field(default_factory=dict)
    employment: dict[str, tuple[str, bool, bool]] = field(default_factory=dict)

    def record(self, dataset: str, key: str, entity_id: str) -> None:
        self.records[(dataset, key)] = (
            "person" if entity_id.startswith("P") else "organisation",
            entity_id,
        )

    def link(self, dataset: str, key: str, entity_id: str, basis: str) -> None:
        kind = "person" if entity_id.startswith("P") else "organisation"
        self.links[(dataset, key)] = (kind, entity_id, basis)

    def defect(
        self, where: tuple[str, str], column: str, delivered: str, kind: str, true: str
    ) -> None:
        self.defects[(*where, column)] = (delivered, kind, true)

    def tag(self, dataset: str, key: str, case: str) -> None:
        self.cases.setdefault((dataset, key), set()).add(case)

    def withdraw(self, dataset: str, key: str) -> None:
        """A front-end row flagged deleted (``scbz = '1'``) is pulled as a delete, never a live
        record: the truth holds neither it nor the persons it names (``key#ROLE``)."""
        gone = {r for r in self.records if r[0] == dataset and r[1].split("#", 1)[0] == key}
        for record in gone:
            del self.records[record]
            self.cases.pop(record, None)
        for defect in [d for d in self.defects if (d[0], d[1]) in gone]:
            del self.defects[defect]
        self.links.pop((dataset, key), None)
        for records in self.rep_records.values():
            for record in gone & records.keys():
                del records[record]

    def decide_representatives(self) -> None:
        """A representative known by name only has a deciding context when another source of
        the same organisation names the representative with an ID number."""
        for records in self.rep_records.values():
            for record in records:
                if NAME_ONLY not in self.cases.get(record, ()):
                    continue
                if any(other for r, other in records.items() if r != record):
                    self.tag(*record, NAME_ONLY_DECIDED)


# Hard cases (truth/hard_cases.csv): mdm evaluate reports recall on each.
NAME_ONLY = "name_only"  # a person named without ID number or birth date
NAME_ONLY_DECIDED = "name_only_context"  # ... whose context identifies one person
TYPED_WRONG_ID = "typed_wrong_id"  # an ID number that fails its check, one typo from the truth
SAME_SOUND_NAME = "same_sound_name"  # a name character written by sound
RELATIVE_ID = "relative_id"  # a relative's ID number in the record
EMPLOYER_BY_NAME = "employer_by_name"  # the employer without a valid credit code
HARD_CASES = (
    NAME_ONLY, NAME_ONLY_DECIDED, TYPED_WRONG_ID, SAME_SOUND_NAME, RELATIVE_ID, EMPLOYER_BY_NAME
)  # fmt: skip
# Value defects (truth/value_defects.csv): what the platform's correction requests should find.
DEFECT_COLUMNS = ("dataset", "record_key", "column", "delivered", "kind", "true_value")
ID_CHECK, ID_OTHER_PERSON, CODE_CHECK = "id_check", "id_other_person", "code_check"
DATE_INVALID, NAME_SOUND = "date_invalid", "name_sound"
MISSING_REQUIRED = "missing_required"  # a column the standard requires, delivered blank
# A representative's (or person in charge's) name and ID number columns per dataset.
REP_COLUMNS = {
    "scjgj_qydj": ("LEREP", "LEREP_CERNO"), "bb_sydwdj": ("FDDBR", "FDDBRZJHM"),
    "mzt_shzz": ("FDDBR", "FDDBRSFZH"), "swj_dwnsr": ("fddbrxm", "fddbrsfzjhm"),
    "sft_jgdj": ("FZR", "FZRZJHM"),
}  # fmt: skip


def _beijing_naive(text: str) -> dt.datetime:
    """GXSJ of the front-end tables: ``timestamp without time zone`` in Beijing time."""
    return dt.datetime.strptime(text, "%Y%m%d%H%M%S")  # noqa: DTZ007 - naive by the standard


class Renderer:
    def __init__(self, world: World, rates: noise.NoiseRates, truth: Truth) -> None:
        self.world, self.rates, self.truth = world, rates, truth

    def _rng(self, dataset: str, key: str) -> Any:
        return stream(self.world.seed, "noise", dataset, key)

    def _gxsj(self, day: int, key: str, fmt: str = "%Y%m%d%H%M%S") -> str:
        base = dt.datetime.combine(self.world.day_date(day) - dt.timedelta(days=1), dt.time(8))
        offset = stream(self.world.seed, "gxsj", day, key).randint(0, 14 * 3600)
        return (base + dt.timedelta(seconds=offset)).strftime(fmt)

    def _id(
        self, rng: Any, person: Person, where: tuple[str, str], column: str | None = None
    ) -> str | None:
        """The person's ID number as the record ``where`` (dataset, key) carries it; a value
        defect in ``column`` goes to the truth."""
        if person.id_number is None:
            return person.passport
        if rng.random() < self.rates.id_other_person:
            relative = next(
                (
                    self.world.persons[r]
                    for r in (person.spouse, person.mother, person.father)
                    if r and self.world.persons[r].id_number
                ),
                None,
            )
            if relative is not None:
                self.truth.tag(*where, RELATIVE_ID)
                if column and relative.id_number != person.id_number:
                    self.truth.defect(
                        where, column, relative.id_number or "", ID_OTHER_PERSON,
                        person.id_number,
                    )  # fmt: skip
                return relative.id_number
        number = noise.noisy_id(rng, self.rates, person.id_number)
        typed = noise.typed_wrong_id(
            stream(self.world.seed, "typed-id", *where), self.rates, person.id_number
        )
        if typed is not None:
            number = typed
        if typed is not None or (
            number[:17] == person.id_number[:17] and number[17:] != person.id_number[17:]
        ):
            self.truth.tag(*where, TYPED_WRONG_ID)
            if column and (typed is not None or number[17:].upper() != person.id_number[17:]):
                self.truth.defect(where, column, number, ID_CHECK, person.id_number)
        return number

    def _required(self, where: tuple[str, str], column: str, value: str, true: str) -> str | None:
        """A required value as delivered: now and then blank (a value defect: the correction
        loop asks for it), on a stream of its own so the other defects stay where they were."""
        if stream(self.world.seed, "required-blank", *where).random() < self.rates.required_blank:
            self.truth.defect(where, column, "", MISSING_REQUIRED, true)
            return None
        return value

    def _name(self, rng: Any, name: str, where: tuple[str, str], column: str | None = None) -> str:
        """A person's name as the record ``where`` carries it."""
        written = noise.homophone_name(
            stream(self.world.seed, "homophone", *where), self.rates, name
        )
        delivered = noise.noisy_name(rng, self.rates, written)
        if written != name:
            self.truth.tag(*where, SAME_SOUND_NAME)
            if column:
                self.truth.defect(where, column, delivered, NAME_SOUND, name)
        return delivered

    def _date(
        self, rng: Any, value: dt.date, declared: str, where: tuple[str, str], column: str
    ) -> str:
        """A date as the record carries it; an impossible or future one is a value defect."""
        delivered = noise.noisy_date(rng, self.rates, value, declared)
        if delivered.startswith("2099") or (delivered[-2:] == "30" and "02" in delivered[4:8]):
            self.truth.defect(where, column, delivered, DATE_INVALID, value.strftime(declared))
        return delivered

    def _uscc(self, rng: Any, code: str | None, where: tuple[str, str], column: str) -> str | None:
        """A credit code as the record carries it: a wrong check character is a defect."""
        if not code:
            return None
        delivered = noise.noisy_uscc(rng, self.rates, code)
        if delivered != code:
            self.truth.defect(where, column, delivered, CODE_CHECK, code)
        return delivered

    def _by_name_only(self, rate: float, where: tuple[str, str]) -> bool:
        return stream(self.world.seed, "name-only", *where).random() < rate

    def _address(self, rng: Any, person: Person) -> str:
        county = person.hukou
        city = prefecture_names().get(county.code[:4], "")
        return noise.noisy_address(
            rng, self.rates, PROVINCE, city, county.name, person.address_detail
        )

    # --- natural-person sources -----------------------------------------------------------

    def gat_czrk(self, person: Person, day: int, op: str | None) -> Row:
        key = person.rybh or ""
        rng = self._rng("gat_czrk", key)
        self.truth.record("gat_czrk", key, person.pid)
        row = {
            "RYBH": key,
            "GMSFHM": self._id(rng, person, ("gat_czrk", key), "GMSFHM"),
            "XM": self._name(rng, person.name, ("gat_czrk", key), "XM"),
            "CYM": person.former_names[-1] if person.former_names else None,
            "XB": person.sex,
            "MZ": person.ethnicity,
            "CSRQ": self._date(rng, person.birth, "%Y%m%d", ("gat_czrk", key), "CSRQ"),
            "HJDZ_XZQHDM": person.hukou.code,
            "HJDZ_QHNXXDZ": person.address_detail,
            "RYZT": person.status,
            "SWRQ": person.death_date.strftime("%Y%m%d") if person.death_date else None,
            "GXSJ": self._gxsj(day, key),
        }
        if op is not None:
            row["CZBS"] = op
        return row

    def mzt_hydj(self, marriage: Any, day: int) -> Row:
        rng = self._rng("mzt_hydj", marriage.ywlsh)
        husband, wife = self.world.persons[marriage.husband], self.world.persons[marriage.wife]
        self.truth.record("mzt_hydj", f"{marriage.ywlsh}#NAN", husband.pid)
        self.truth.record("mzt_hydj", f"{marriage.ywlsh}#NV", wife.pid)
        row: Row = {
            "YWLSH": marriage.ywlsh,
            "YWLX": marriage.kind,
            "DJRQ": marriage.date.isoformat(),
            "DJJG": f"{husband.hukou.name}民政局婚姻登记处",
        }
        for prefix, person in (("NAN", husband), ("NV", wife)):
            foreign = person.id_number is None
            where = ("mzt_hydj", f"{marriage.ywlsh}#{prefix}")
            row |= {
                f"{prefix}_XM": self._name(rng, person.name, where, f"{prefix}_XM"),
                f"{prefix}_ZJLX": "414" if foreign else "111",
                f"{prefix}_ZJHM": self._id(rng, person, where, f"{prefix}_ZJHM"),
                f"{prefix}_CSRQ": self._date(
                    rng, person.birth, "%Y-%m-%d", where, f"{prefix}_CSRQ"
                ),
                f"{prefix}_GJ": person.nationality,
            }
        return row | {"GXSJ": self._gxsj(day, marriage.ywlsh, "%Y-%m-%d %H:%M:%S"), "CZBS": "I"}

    def swj_grnsr(self, person: Person, last_change_day: int) -> Row:
        key = person.tax_djxh or ""
        rng = self._rng("swj_grnsr", key)
        self.truth.record("swj_grnsr", key, person.pid)
        phone = noise.noisy_phone(rng, self.rates, person.phone) if person.phone else None
        return {
            "djxh": key,
            "xm": self._name(rng, person.name, ("swj_grnsr", key), "xm"),
            "sfzjlx": "208" if person.passport else "201",
            "sfzjhm": self._id(rng, person, ("swj_grnsr", key), "sfzjhm"),
            "xb": "男" if person.sex == "1" else "女",
            "csrq": person.birth,
            "lxdh": phone,
            "jzdz": self._address(rng, person),
            "djrq": self.world.start - dt.timedelta(days=rng.randint(30, 3000)),
            "gxsj": _beijing_naive(self._gxsj(last_change_day, key)),
            "scbz": "1" if person.status != "0" else "0",
        }

    def rst_cbry(self, person: Person, day: int) -> list[Row]:
        employer = self.world.organisations[person.employer] if person.employer else None
        rng = self._rng("rst_cbry", person.grbh or "")
        types = (
            ["110", "310"]
            + (["210"] if rng.random() < 0.7 else [])
            + (["410"] if rng.random() < 0.6 else [])
        )
        # The employer as the insured person's records name it (the same in all of them): by
        # credit code, a code with a wrong check character, or by name only.
        employer_rng = stream(self.world.seed, "employer", person.grbh)
        employer_code = employer.uscc if employer else None
        if employer_code and employer_rng.random() < self.rates.employer_code_missing:
            employer_code = None
        elif employer_code:
            employer_code = noise.noisy_uscc(
                employer_rng, self.rates, employer_code, self.rates.employer_code_wrong_check
            )
        short_name = employer_rng.random() < self.rates.employer_name_short
        if employer is not None:
            self.truth.employment[person.pid] = (
                employer.oid,
                person.status == "0",
                employer_code == employer.uscc,
            )
        rows = []
        for xzlx in types:
            key = f"{person.grbh}_{xzlx}"
            self.truth.record("rst_cbry", key, person.pid)
            if employer is not None and employer_code != employer.uscc:
                self.truth.tag("rst_cbry", key, EMPLOYER_BY_NAME)
            if employer is not None and employer_code and employer_code != employer.uscc:
                self.truth.defect(
                    ("rst_cbry", key), "DWTYXYDM", employer_code, CODE_CHECK, employer.uscc or ""
                )
            employer_name = None
            if employer is not None:
                employer_name = noise.noisy_org_name(rng, self.rates, employer.name)
                if short_name:
                    employer_name = noise.short_org_name(employer_name)
            rows.append(
                {
                    "GRBH": person.grbh,
                    "SHBZHM": self._id(rng, person, ("rst_cbry", key), "SHBZHM"),
                    "XM": self._required(
                        ("rst_cbry", key),
                        "XM",
                        self._name(rng, person.name, ("rst_cbry", key), "XM"),
                        person.name,
                    ),  # fmt: skip
                    "XB": person.sex,
                    "CSRQ": self._date(rng, person.birth, "%Y-%m-%d", ("rst_cbry", key), "CSRQ"),
                    "SJHM": noise.noisy_phone(rng, self.rates, person.phone)
                    if person.phone
                    else None,
                    "DWBH": "DW" + employer.oid[1:] if employer else None,
                    "DWMC": employer_name,
                    "DWTYXYDM": employer_code,
                    "XZLX": xzlx,
                    "CBZT": "1" if person.status == "0" else "3",
                    "CBRQ": (
                        self.world.start - dt.timedelta(days=rng.randint(30, 5000))
                    ).isoformat(),
                    "GXSJ": self._gxsj(day, key),
                }
            )
        return rows

    def wjw_csyxzm(self, child: Person, day: int) -> Row:
        key = "T45" + child.pid[1:]
        rng = self._rng("wjw_csyxzm", key)
        mother = self.world.persons[child.mother] if child.mother else None
        father = self.world.persons[child.father] if child.father else None
        self.truth.record("wjw_csyxzm", f"{key}#XSE", child.pid)
        row: Row = {
            "cszmbh": key,
            "xsexm": child.name if rng.random() < 0.6 else None,
            "xsexb": child.sex,
            "cssj": dt.datetime.combine(
                child.birth, dt.time(rng.randint(0, 23), rng.randint(0, 59))
            ).isoformat(),
            "csdd_xzqhdm": child.hukou.code,
        }
        by_name_only: dict[str, bool] = {}
        for prefix, role, parent in (("mq", "MQ", mother), ("fq", "FQ", father)):
            if parent is None or (role == "FQ" and rng.random() < 0.03):
                continue  # father may be missing
            where = ("wjw_csyxzm", f"{key}#{role}")
            self.truth.record(*where, parent.pid)
            number = self._id(rng, parent, where, f"{prefix}sfzjhm")
            if number is not None and self._by_name_only(self.rates.parent_id_missing, where):
                number = None
            by_name_only[role] = number is None
            row |= {
                f"{prefix}xm": self._name(rng, parent.name, where, f"{prefix}xm"),
                f"{prefix}sfzjhm": number,
                f"{prefix}nl": (child.birth - parent.birth).days // 365,
            }
        for role, other, parent in (("MQ", "FQ", mother), ("FQ", "MQ", father)):
            if parent is not None and by_name_only.get(role):
                self.truth.tag("wjw_csyxzm", f"{key}#{role}", NAME_ONLY)
                # the other parent, named by ID number, shares the registered household
                if by_name_only.get(other) is False and parent.rybh:
                    self.truth.tag("wjw_csyxzm", f"{key}#{role}", NAME_ONLY_DECIDED)
        row |= {
            "qfrq": (child.birth + dt.timedelta(days=rng.randint(0, 3))).isoformat(),
            "gxsj": self._gxsj(day, key, "%Y-%m-%d %H:%M:%S"),
        }
        return row

    def jyt_xsxj(self, student: Person, day: int) -> Row:
        key = "XS" + student.pid[1:]
        rng = self._rng("jyt_xsxj", key)
        self.truth.record("jyt_xsxj", f"{key}#XS", student.pid)
        guardian_pid = student.mother if rng.random() < 0.5 else student.father
        guardian = self.world.persons.get(guardian_pid or "") or None
        number = self._id(rng, student, ("jyt_xsxj", f"{key}#XS"), "SFZJH")
        school = "小学" if (self.world.start - student.birth).days < 12 * 365 else "中学"
        row: Row = {
            "XSID": key,
            "QGXJH": ("G" + student.id_number) if student.id_number else None,
            "XM": self._name(rng, student.name, ("jyt_xsxj", f"{key}#XS"), "XM"),
            "XB": "男" if student.sex == "1" else "女",
            "CSRQ": self._date(rng, student.birth, "%Y%m%d", ("jyt_xsxj", f"{key}#XS"), "CSRQ"),
            "MZ": ETHNICITY_NAMES.get(student.ethnicity, "其他"),
            "SFZJLX": "居民身份证",
            "SFZJH": number,
            "XXBSM": f"21{student.hukou.code}{(int(student.pid[1:]) % 97):02d}",
            "XXMC": f"{student.hukou.name}第{int(student.pid[1:]) % 9 + 1}{school}",
        }
        if guardian is not None:
            self.truth.record("jyt_xsxj", f"{key}#JHR", guardian.pid)
            self.truth.relations.add(("guardian", guardian.pid, student.pid, "", ""))
            where = ("jyt_xsxj", f"{key}#JHR")
            row |= {
                "JHRXM": self._name(rng, guardian.name, where, "JHRXM"),
                "JHRSFZJH": self._id(rng, guardian, where, "JHRSFZJH")
                if rng.random() > 0.05
                else None,
            }
            if row["JHRSFZJH"] is None:
                self.truth.tag(*where, NAME_ONLY)
                # the student's parent, in the student's registered household
                if guardian.rybh and student.rybh:
                    self.truth.tag(*where, NAME_ONLY_DECIDED)
        return row | {"GXSJ": self._gxsj(day, key)}

    # --- legal-person sources -------------------------------------------------------------------

    def _rep(
        self,
        dataset: str,
        key: str,
        org: Organisation,
        rng: Any,
        id_missing: float,
        role: str = "FDDBR",
    ) -> tuple[str, str | None]:
        rep = self.world.persons[org.legal_rep]
        where = (dataset, f"{key}#{role}")
        self.truth.record(*where, rep.pid)
        name_column, id_column = REP_COLUMNS[dataset]
        number = None if rng.random() < id_missing else self._id(rng, rep, where, id_column)
        if number is not None and self._by_name_only(self.rates.rep_id_missing, where):
            number = None
        if number is None:
            self.truth.tag(*where, NAME_ONLY)
        self.truth.rep_records.setdefault(org.oid, {})[where] = number is not None and (
            number in (rep.id_number, rep.passport)
        )
        return self._name(rng, rep.name, where, name_column), number

    def scjgj_qydj(self, org: Organisation, day: int, op: str | None) -> Row:
        key = org.source_key
        rng = self._rng("scjgj_qydj", key)
        self.truth.record("scjgj_qydj", key, org.oid)
        rep_name, rep_id = self._rep(
            "scjgj_qydj", key, org, rng, 0.02 if org.established.year < 2000 else 0.0
        )
        row: Row = {
            "PRIPID": key,
            "UNISCID": self._uscc(rng, org.uscc, ("scjgj_qydj", key), "UNISCID"),
            "REGNO": org.regno,
            "ENTNAME": noise.noisy_org_name(rng, self.rates, org.name),
            "ENTTYPE": org.enttype,
            "LEREP": rep_name,
            "LEREP_CERTYPE": "20" if self.world.persons[org.legal_rep].passport else "10",
            "LEREP_CERNO": rep_id,
            "REGCAP": f"{org.capital_wan:.2f}",
            "REGCAPCUR": "156",
            "ESTDATE": org.established.isoformat(),
            "DOM": org.address,
            "DOMDISTRICT": org.division.code,
            "REGSTATE": REGSTATE[org.status],
            "REGORG": f"{org.division.name}市场监督管理局",
            "INDUSTRYCO": org.industry,
            "APPRDATE": self.world.day_date(org.changed_on_day).isoformat()
            if org.changed_on_day > 1
            else org.established.isoformat(),
            "GXSJ": self._gxsj(day, key),
        }
        if op is not None:
            row["CZBS"] = op
        return row

    def bb_sydwdj(self, org: Organisation, day: int) -> Row:
        key = org.source_key
        rng = self._rng("bb_sydwdj", key)
        self.truth.record("bb_sydwdj", key, org.oid)
        rep_name, rep_id = self._rep("bb_sydwdj", key, org, rng, 0.4)
        return {
            "SYDWID": key,
            "TYSHXYDM": self._uscc(rng, org.uscc, ("bb_sydwdj", key), "TYSHXYDM"),
            "DWMC": org.name,
            "FDDBR": rep_name,
            "FDDBRZJHM": rep_id,
            "JFLY": rng.choice(("财政全额拨款", "财政差额拨款", "经费自理")),
            "KBZJ": f"{org.capital_wan:.2f}",
            "JBDW": f"{org.division.name}人民政府",
            "ZS": org.address,
            "DJZT": "1" if org.status == "active" else "3",
            "DJRQ": org.established.isoformat(),
            "GXSJ": self._gxsj(day, key),
        }

    def mzt_shzz(self, org: Organisation, day: int) -> Row:
        key = org.source_key
        rng = self._rng("mzt_shzz", key)
        self.truth.record("mzt_shzz", key, org.oid)
        rep_name, rep_id = self._rep("mzt_shzz", key, org, rng, 0.1)
        kind = {
            "social_group": "社会团体",
            "private_non_enterprise": "民办非企业单位",
            "foundation": "基金会",
        }
        return {
            "SHZZID": key,
            "TYSHXYDM": self._uscc(rng, org.uscc, ("mzt_shzz", key), "TYSHXYDM"),
            "ZZMC": org.name,
            "ZZLX": kind[org.kind],
            "FDDBR": rep_name,
            "FDDBRSFZH": rep_id,
            "YWZGDW": f"{prefecture_names().get(org.division.code[:4], '')}民政局",
            "ZCZJ": f"{org.capital_wan:.2f}",
            "ZS": org.address,
            "DJRQ": org.established.isoformat(),
            "DJZT": "1" if org.status == "active" else "3",
            "GXSJ": self._gxsj(day, key),
        }

    def swj_dwnsr(self, org: Organisation, last_change_day: int) -> Row:
        key = org.tax_djxh or ""
        rng = self._rng("swj_dwnsr", key)
        self.truth.record("swj_dwnsr", key, org.oid)
        rep_name, rep_id = self._rep("swj_dwnsr", key, org, rng, 0.03)
        return {
            "djxh": key,
            "nsrsbh": org.tax_number,
            "nsrmc": noise.noisy_org_name(rng, self.rates, org.name),
            "fddbrxm": rep_name,
            "fddbrsfzjhm": rep_id,
            "zcdz": org.address,
            "scjydz": org.address if rng.random() < 0.7 else None,
            "nsrzt": "03" if org.status == "active" else "07",
            "nsxydj": org.tax_rating,
            "pjnd": org.tax_rating_year,
            "djrq": org.established,
            "gxsj": _beijing_naive(self._gxsj(last_change_day, key)),
            "scbz": "0" if org.status == "active" else "1",
        }


def relations(world: World) -> list[tuple[str, str, str, str, str]]:
    """True relations: (type, from_id, to_id, valid_from, valid_to)."""
    rows = []
    divorced = {(d.husband, d.wife): d.date for d in world.marriages if d.kind == "2"}
    for m in world.marriages:
        if m.kind == "1":
            ended = divorced.get((m.husband, m.wife))
            end = ended.isoformat() if ended is not None and ended >= m.date else ""
            rows.append(("spouse", m.husband, m.wife, m.date.isoformat(), end))
    for p in world.persons.values():
        for parent in (p.mother, p.father):
            if parent:
                rows.append(("parent", parent, p.pid, p.birth.isoformat(), ""))
        if p.employer:
            rows.append(("employee", p.pid, p.employer, "", ""))
    for o in world.organisations.values():
        rows.append(("legal_representative", o.legal_rep, o.oid, o.established.isoformat(), ""))
        if o.parent:
            rows.append(("branch_of", o.oid, o.parent, o.established.isoformat(), ""))
    return rows
