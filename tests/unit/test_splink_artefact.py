"""Trained model files are named by version, time and content; the newest is the one in use."""

from __future__ import annotations

import datetime as dt

import pytest

from mdm.resolve import organisation_model, person_model, splink_artefact

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("model", [person_model, organisation_model])
def test_each_committed_model_file_is_named_by_its_content_and_loads(model):
    path = splink_artefact.model_path(model)
    assert path.name.startswith(f"{model.MODEL_VERSION}-")
    content = path.read_bytes()
    stamp = path.name.split("-")[-2]
    trained_at = dt.datetime.strptime(stamp + "+0000", "%Y%m%dT%H%M%SZ%z")
    assert path.name == splink_artefact.file_name(model, content, trained_at)
    assert splink_artefact.trained_settings(model, "duckdb")["comparisons"]


def test_the_newest_file_of_the_version_is_in_use_and_the_older_stay(tmp_path, monkeypatch):
    committed = splink_artefact.model_path(person_model)
    monkeypatch.setattr(splink_artefact, "MODELS_DIR", tmp_path)
    old = tmp_path / committed.name
    old.write_bytes(committed.read_bytes())
    retrained = committed.read_bytes().replace(b"{", b"{ ", 1)  # other content, same model
    newer = tmp_path / splink_artefact.file_name(
        person_model, retrained, dt.datetime(2099, 1, 1, tzinfo=dt.UTC)
    )
    newer.write_bytes(retrained)
    (tmp_path / "person-v1-20200101T000000Z-000000000000.json").write_text("{}")  # other version
    assert splink_artefact.model_files(person_model) == [old, newer]
    assert splink_artefact.model_path(person_model) == newer
    assert splink_artefact.trained_settings(person_model, "duckdb")["comparisons"]


def test_a_file_whose_content_is_not_its_hash_is_refused(tmp_path, monkeypatch):
    committed = splink_artefact.model_path(person_model)
    monkeypatch.setattr(splink_artefact, "MODELS_DIR", tmp_path)
    edited = tmp_path / committed.name
    edited.write_bytes(committed.read_bytes().replace(b"{", b"{ ", 1))  # edited by hand
    with pytest.raises(ValueError, match="named by its content"):
        splink_artefact.trained_settings(person_model, "duckdb")


def test_no_trained_file_says_how_to_train(tmp_path, monkeypatch):
    monkeypatch.setattr(splink_artefact, "MODELS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="mdm resolve train"):
        splink_artefact.model_path(organisation_model)
