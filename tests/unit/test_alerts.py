"""Failure and missed-deadline mails, sent to a local SMTP sink (docs/adr/0024)."""

from __future__ import annotations

import asyncio

import pytest
from smtp_sink import smtp_sink

from mdm import alerts

pytestmark = pytest.mark.unit


def _env(port: int) -> dict[str, str]:
    return {
        "MDM_ALERT_TO": "ops@example.org, oncall@example.org",
        "MDM_ALERT_SMTP": f"127.0.0.1:{port}",
        "MDM_ALERT_FROM": "mdm@example.org",
    }


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"MDM_ALERT_TO": " , "}, None),
        (
            {"MDM_ALERT_TO": "a@x.org"},
            alerts.AlertSettings(("a@x.org",), "localhost", 25, "mdm-platform@localhost"),
        ),
        (
            {"MDM_ALERT_TO": "a@x.org,b@x.org", "MDM_ALERT_SMTP": "relay:587",
             "MDM_ALERT_SMTP_USER": "u", "MDM_ALERT_SMTP_PASSWORD": "p",
             "MDM_ALERT_SMTP_STARTTLS": "true"},
            alerts.AlertSettings(("a@x.org", "b@x.org"), "relay", 587, "mdm-platform@localhost",
                                 "u", "p", True),
        ),
    ],
)  # fmt: skip
def test_alert_settings_from_the_environment(environ, expected):
    assert alerts.alert_settings(environ) == expected


def test_a_bad_relay_address_is_refused():
    with pytest.raises(ValueError, match="host:port"):
        alerts.alert_settings({"MDM_ALERT_TO": "a@x.org", "MDM_ALERT_SMTP": "relay"})


def test_a_failed_run_is_mailed_without_secrets():
    subject, body = alerts.failure_message(
        "mdm_ingest_gat_czrk",
        "manual__2026-11-02",
        ["check_deliveries"],
        "cannot reach postgresql://mdm:hunter2@db:5432/mdm\nTraceback: line 2",
    )
    with smtp_sink() as (port, received):
        assert alerts.notify(subject, body, _env(port)) is True
    [(envelope, message)] = received
    assert envelope["to"] == ["ops@example.org", "oncall@example.org"]
    assert message["Subject"] == "[mdm] mdm_ingest_gat_czrk failed"
    text = message.get_payload(decode=True).decode()
    assert "check_deliveries" in text and "cannot reach postgresql://mdm:" in text
    assert "hunter2" not in text and "Traceback" not in text


def test_nothing_is_sent_without_recipients():
    with smtp_sink() as (port, received):
        assert alerts.notify("s", "b", {"MDM_ALERT_SMTP": f"127.0.0.1:{port}"}) is False
    assert received == []


def test_a_missed_deadline_is_mailed(monkeypatch):
    # The context Airflow's triggerer passes a deadline callback (models/deadline.py).
    context = {
        "dag_run": {"dag_id": "mdm_build", "dag_run_id": "scheduled__2026-11-02"},
        "deadline": {"id": "1", "deadline_time": "2026-11-02T12:00:00+00:00"},
    }
    with smtp_sink() as (port, received):
        for key, value in _env(port).items():
            monkeypatch.setenv(key, value)
        assert asyncio.run(alerts.deadline_missed(context=context)) is True
    [(_, message)] = received
    assert message["Subject"] == "[mdm] mdm_build missed its deadline"
    text = message.get_payload(decode=True).decode()
    assert "2026-11-02T12:00:00+00:00" in text and "scheduled__2026-11-02" in text
