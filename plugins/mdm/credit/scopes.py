"""Which profile columns each authorisation scope (xyd_sq SQFW, standard 4.18) opens to a bank.

A bank's view shows an enterprise's identity and, per scope the enterprise authorised that
bank, the scope's columns; the columns of a scope not authorised are null for that enterprise.
"""

from __future__ import annotations

# Shown for every authorised enterprise: whom the row is about, when it was computed and
# which sources were stale (names of sources only).
IDENTITY = ("legal_person_id", "uscc", "name", "org_kind", "as_of_date", "stale_sources")
SCOPES: dict[str, tuple[str, ...]] = {
    "JBXX": (
        "registration_status", "years_established", "registered_capital_cny", "industry_code",
        "is_branch", "registration_source", "registration_as_of",
    ),
    "NSXX": (
        "taxpayer_status", "tax_credit_rating", "tax_credit_rating_year", "tax_source",
        "tax_as_of",
    ),
    "SBXX": (
        "employees_paying_pension", "employees_change_12m", "employees_compared_with",
        "social_insurance_source", "social_insurance_as_of",
    ),
    "GJJ": (
        "housing_fund_contributors", "housing_fund_monthly_yuan",
        "housing_fund_arrears_months", "housing_fund_source", "housing_fund_as_of",
    ),
    "SDQ": (
        "water_billed_12m_yuan", "water_paid_12m_yuan", "electricity_billed_12m_yuan",
        "electricity_paid_12m_yuan", "gas_billed_12m_yuan", "gas_paid_12m_yuan",
        "utility_arrears_yuan", "utility_arrears_months", "utilities_source", "utilities_as_of",
    ),
    "SFXX": (
        "penalties_36m_count", "penalties_36m_fine_yuan", "penalties_36m_by_category",
        "penalties_source", "penalties_as_of", "dishonest_enterprise", "dishonest_legal_rep",
        "courts_source", "courts_as_of",
    ),
}  # fmt: skip
# What a bank's view adds about the authorisation itself.
AUTHORISATION = ("authorised_scopes", "authorised_until", "authorisation_ids")


def scope_of(column: str) -> str | None:
    """The scope that opens ``column`` (None: identity, shown for every authorised row)."""
    for scope, columns in SCOPES.items():
        if column in columns:
            return scope
    if column in IDENTITY or column in AUTHORISATION:
        return None
    raise KeyError(f"profile column {column!r} belongs to no scope: add it to mdm.credit.scopes")


def bank_columns() -> list[str]:
    """The columns of every bank's view, in order."""
    return [*IDENTITY, *AUTHORISATION, *(c for columns in SCOPES.values() for c in columns)]
