import pytest

from mdm.connections import conninfo, params_from_url
from mdm.transform import dbt_environment

pytestmark = pytest.mark.unit


def test_params_from_url_round_trip():
    params = params_from_url("postgresql://alice:pw@db.example:6543/mdm")
    assert params == {
        "user": "alice",
        "password": "pw",
        "host": "db.example",
        "port": "6543",
        "dbname": "mdm",
    }
    assert params_from_url(conninfo(params)) == params


def test_dbt_environment_from_params():
    env = dbt_environment({"host": "h", "port": "1", "user": "u", "dbname": "d"})
    assert env["MDM_PG_HOST"] == "h"
    assert env["MDM_PG_PORT"] == "1"
    assert env["MDM_PG_PASSWORD"] == ""
    assert env["MDM_PG_DATABASE"] == "d"
