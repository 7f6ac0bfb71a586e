"""Finding the camel-tools morphology database, and saying how to get it when it is missing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from alertbot.camel_data import CamelData, camel_data_dir, require_installed
from alertbot.errors import CamelDataError

ROOT = Path(__file__).resolve().parent.parent
# A closed loopback port: the downloader's first connection is refused at once, so the
# test never waits on a network and no traffic leaves the machine.
DEAD_PROXY = "http://127.0.0.1:9"


def test_missing_catalogue_is_named_with_how_to_install(tmp_path):
    with pytest.raises(CamelDataError) as info:
        require_installed(CamelData(tmp_path))
    message = str(info.value)
    assert str(tmp_path / "catalogue.json") in message
    assert "camel_data -i morphology-db-msa-r13" in message
    assert "CAMELTOOLS_DATA" in message


def test_missing_database_is_named_when_the_catalogue_is_there(tmp_path):
    (tmp_path / "catalogue.json").write_text("{}", encoding="utf-8")
    with pytest.raises(CamelDataError) as info:
        require_installed(CamelData(tmp_path))
    database = tmp_path / "data" / "morphology_db" / "calima-msa-r13" / "morphology.db"
    assert str(database) in str(info.value)


def test_installed_data_is_returned(tmp_path):
    database = tmp_path / "data" / "morphology_db" / "calima-msa-r13" / "morphology.db"
    database.parent.mkdir(parents=True)
    database.write_bytes(b"")
    (tmp_path / "catalogue.json").write_text("{}", encoding="utf-8")
    data = CamelData(tmp_path)
    assert data.is_installed()
    assert require_installed(data) is data
    assert data.database == database


def test_data_dir_honours_cameltools_data(tmp_path):
    assert camel_data_dir({"CAMELTOOLS_DATA": str(tmp_path)}).root == tmp_path


def test_data_dir_expands_home_and_makes_relative_paths_absolute(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert camel_data_dir({"CAMELTOOLS_DATA": "camel"}).root == tmp_path / "camel"
    assert camel_data_dir({"CAMELTOOLS_DATA": "~/camel"}).root == Path.home() / "camel"


def test_data_dir_defaults_to_dot_camel_tools_in_home():
    assert camel_data_dir({}).root == Path.home() / ".camel_tools"
    assert camel_data_dir({"CAMELTOOLS_DATA": ""}).root == Path.home() / ".camel_tools"


def test_failed_download_exits_with_one_clear_message(tmp_path):
    empty = tmp_path / "camel-data"
    empty.mkdir()
    watchlist = tmp_path / "watches.toml"
    watchlist.write_text('[[watch]]\nname = "g"\nquery = "غزة"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("no_proxy", "all_proxy")}
    env |= {
        "CAMELTOOLS_DATA": str(empty),
        "HTTPS_PROXY": DEAD_PROXY,
        "HTTP_PROXY": DEAD_PROXY,
        "https_proxy": DEAD_PROXY,
        "http_proxy": DEAD_PROXY,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "alertbot", "match", "--text", "x", "--watchlist", str(watchlist)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "could not download" in proc.stderr
    assert "CAMELTOOLS_DATA" in proc.stderr
