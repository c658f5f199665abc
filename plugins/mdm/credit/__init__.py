"""信易贷: the enterprise credit profile, its evaluation, the monthly push to the
financing-service platform and the banks' authorised reads (issue 22, ADR 0019).

The profile and evaluation are dbt models in schema ``credit`` (``dbt_project/models/credit``,
rules in ``seeds/credit``); ``profile.build_credit`` builds them after the repositories are
published and remakes the banks' filtered views (``banks``); ``explain`` shows a grade line by
line; ``push`` writes the month's results as a table and a file in the outbox.
"""
