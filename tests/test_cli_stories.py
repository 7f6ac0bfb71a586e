"""`alertbot stories`: JSON Lines of articles in, one line out per line: its story, how it
came there (new, joined, related), the story it relates to, and the score."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from alertbot.cli import cli
from testsupport.shared import corpus, seed_articles

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2018, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def run(monkeypatch, lemmatizer):
    """Invoke `alertbot stories` in-process on the shared analyzer."""
    monkeypatch.setattr("alertbot.cli.open_lemmatizer", lambda *args, **kwargs: lemmatizer)
    monkeypatch.chdir(ROOT)

    def run(lines: list[str], *args: str):
        return CliRunner().invoke(
            cli, ["stories", *args, "--input", "-"], input="".join(f"{x}\n" for x in lines)
        )

    return run


def _line(item_id: str, title: str, text: str, outlet: str, at: datetime, **extra) -> str:
    record = {"id": item_id, "title": title, "text": text, "outlet": outlet,
              "published": at.isoformat(), **extra}  # fmt: skip
    return json.dumps(record, ensure_ascii=False)


def _outputs(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_one_line_out_per_line_in_with_the_contracts_fields(run):
    rows = {r["id"]: r for r in corpus()}
    kaspersky, taliban, again = rows["ant-360"], rows["ant-159"], rows["ant-1971"]
    (t1, x1), (t2, x2) = seed_articles().values()
    lines = [
        _line("k1", kaspersky["title"], kaspersky["text"], kaspersky["outlet"], T0),
        _line(
            "t1",
            taliban["title"],
            taliban["text"],
            taliban["outlet"],
            T0 + timedelta(hours=1),
            url="https://example.org/t1",
        ),
        _line("k2", again["title"], again["text"], again["outlet"], T0 + timedelta(hours=2)),
        _line("copy", kaspersky["title"], kaspersky["text"], "Mirror", T0 + timedelta(hours=3)),
        _line("seed-a", t1, x1, "Ahram", T0),
        _line("seed-b", t2, x2, "Sky News Arabia", T0 + timedelta(days=120)),
    ]
    result = run(lines)
    assert result.exit_code == 0, result.stderr
    out = _outputs(result)
    assert [o["id"] for o in out] == ["k1", "t1", "k2", "copy", "seed-a", "seed-b"]
    assert all(set(o) == {"id", "story", "relation", "related_to", "score"} for o in out)
    by = {o["id"]: o for o in out}
    assert by["k1"]["relation"] == "new" and by["k1"]["related_to"] is None
    assert by["k2"]["relation"] == "joined" and by["k2"]["story"] == by["k1"]["story"]
    assert by["copy"]["relation"] == "joined" and by["copy"]["story"] == by["k1"]["story"]
    assert by["t1"]["story"] != by["k1"]["story"]
    assert by["seed-b"]["relation"] == "new" and by["seed-b"]["related_to"] is None
    assert all(isinstance(o["score"], float) for o in out)


def test_bad_lines_are_reported_with_their_number_and_skipped(run):
    good = _line("ok", "عنوان", "نص عن الطقس في القاهرة", "Ahram", T0)
    lines = [
        good,
        "not json",
        json.dumps({"id": "x", "text": "نص", "outlet": "A"}),  # no published
        json.dumps({"id": "y", "text": "نص", "outlet": "A", "published": "2018-06-01T12:00"}),
        json.dumps({"id": "z", "text": "نص", "outlet": "A", "published": "yesterday"}),
        json.dumps({"id": 5, "text": "نص", "outlet": "A", "published": T0.isoformat()}),
        _line("ok2", "عنوان آخر", "نص آخر عن الاقتصاد", "Sky", T0),
    ]
    result = run(lines)
    assert result.exit_code == 1
    assert [o["id"] for o in _outputs(result)] == ["ok", "ok2"]
    errors = result.stderr.splitlines()
    assert [e.split(":")[2] for e in errors] == ["2", "3", "4", "5", "6"]
    assert "needs a UTC offset" in errors[2] and "not an ISO 8601 time" in errors[3]
    assert all(e.startswith("alertbot stories: <stdin>:") for e in errors)


def test_input_is_required(run):
    result = CliRunner().invoke(cli, ["stories"])
    assert result.exit_code == 2 and "--input" in result.output
