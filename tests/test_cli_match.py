"""`alertbot match`: JSON Lines in, one JSON line out per line, spans into the original."""

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from alertbot import camel_data
from alertbot.cli import cli
from alertbot.errors import CamelDataError

ROOT = Path(__file__).resolve().parent.parent

ARTICLE = {
    "id": "sisi-naryshkin",
    "title": "السيسي يستقبل وناريشكين",
    "text": "استقبل الرئيس السيسي سيرغي ناريشكين، وبحثا وقفَ إطلاق النار في غزة.\n"
    "كما تناولا محطة الضبعة النووية.",
}
NOTHING = {"id": "weather", "text": "طقس معتدل في القاهرة اليوم"}


@pytest.fixture
def run(monkeypatch, lemmatizer):
    """Invoke `alertbot match` in-process, from the repository root, on the shared analyzer."""
    monkeypatch.setattr("alertbot.cli.open_lemmatizer", lambda *args, **kwargs: lemmatizer)
    monkeypatch.chdir(ROOT)

    def run(*args: str, input: str | None = None):
        if input is not None:
            args = (*args, "--input", "-")
        return CliRunner().invoke(cli, ["match", *args], input=input)

    return run


@pytest.fixture
def watchlist(tmp_path) -> Path:
    path = tmp_path / "watches.toml"
    path.write_text(
        '[[watch]]\nname = "Naryshkin"\nquery = "ناريشكين OR Нарышкин"\n'
        '[[watch]]\nname = "Dabaa"\nquery = "الضبعة"\n',
        encoding="utf-8",
    )
    return path


def jsonl(*items) -> str:
    return "".join(
        (item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)) + "\n"
        for item in items
    )


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def assert_spans_point_into(record: dict, item: dict) -> None:
    for match in record["matches"]:
        assert match["spans"]
        for span in match["spans"]:
            field = item[span["field"]]
            assert field[span["start"] : span["end"]] == span["text"]


def test_one_line_out_per_line_in_with_exact_spans(run, watchlist):
    result = run("--watchlist", str(watchlist), input=jsonl(ARTICLE, NOTHING))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    out = records(result.stdout)
    assert [r["id"] for r in out] == ["sisi-naryshkin", "weather"]
    assert {m["watch"] for m in out[0]["matches"]} == {"Naryshkin", "Dabaa"}
    assert out[1]["matches"] == []
    assert_spans_point_into(out[0], ARTICLE)
    naryshkin = next(m for m in out[0]["matches"] if m["watch"] == "Naryshkin")
    assert {(s["field"], s["text"]) for s in naryshkin["spans"]} == {
        ("title", "وناريشكين"),
        ("text", "ناريشكين"),
    }


def test_output_record_shape(run, watchlist):
    result = run("--watchlist", str(watchlist), input=jsonl(NOTHING | {"text": "محطة الضبعة"}))
    assert records(result.stdout) == [
        {
            "id": "weather",
            "matches": [
                {
                    "watch": "Dabaa",
                    "spans": [
                        {"field": "text", "start": 5, "end": 11, "text": "الضبعة"},
                    ],
                },
            ],
        }
    ]


def test_bad_lines_are_reported_with_their_number_and_skipped(run, watchlist):
    stdin = jsonl(
        ARTICLE,  # 1
        "{not json",  # 2
        "[1, 2]",  # 3
        {"title": "x", "text": "ناريشكين"},  # 4: no id
        {"id": "n", "text": 5},  # 5
        {"id": 7, "text": "ناريشكين"},  # 6
        {"id": "t", "title": ["x"], "text": "ناريشكين"},  # 7
        NOTHING,  # 8
    )
    result = run("--watchlist", str(watchlist), input=stdin)
    assert result.exit_code == 1
    assert [r["id"] for r in records(result.stdout)] == ["sisi-naryshkin", "weather"]
    errors = result.stderr.splitlines()
    assert len(errors) == 6
    for lineno, error in zip([2, 3, 4, 5, 6, 7], errors, strict=True):
        assert f":{lineno}: " in error
        assert error.endswith("line skipped")
    assert "not valid JSON" in errors[0]
    assert "expected a JSON object" in errors[1]
    assert '"id" must be a string' in errors[2]
    assert '"text" must be a string' in errors[3]


def test_every_kind_of_bad_line_is_reported_and_the_lines_after_it_are_read(run, watchlist):
    """Read as bytes, line by line: a line that is not UTF-8, is binary, nests too deep or
    has the wrong types is one bad line, never the end of the input."""
    good = jsonl(ARTICLE).encode()
    bad_lines = [
        (b'{"id": "x", "text": "\xff\xfe"}\n', "not valid UTF-8 (byte 0xff at byte 22)"),
        (b"\x89PNG\r\n", "not valid UTF-8 (byte 0x89 at byte 1)"),
        (b'{"id": "x", "text": "a"}\x00\x00\n', "contains a NUL byte"),
        (b"\xed\xa0\x80\n", "not valid UTF-8"),  # an encoded surrogate (CESU-8)
        (b"[" * 100_000 + b"\n", "JSON nested too deeply"),
        (b'{"id": "x", "text": ' + b"[" * 100_000 + b"\n", "JSON nested too deeply"),
        (b'{"id": "x", "text": "a", "n": ' + b"1" * 5000 + b"}\n", "not valid JSON"),
        (b'"just a string"\n', "expected a JSON object, got str"),
        (b"null\n", "expected a JSON object, got NoneType"),
        (b'{"id": "x", "text": null}\n', '"text" must be a string'),
        (b'{"id": ["x"], "text": "a"}\n', '"id" must be a string'),
        (b'{"id": "x", "title": 1, "text": "a"}\n', '"title" must be a string or null'),
        (b'{"id": "x", "text": "\\udc00"}\n', "unpaired surrogate"),
    ]
    stdin = good + b"".join(line + good for line, _ in bad_lines)
    result = run("--watchlist", str(watchlist), input=stdin)
    assert result.exit_code == 1
    assert [r["id"] for r in records(result.stdout)] == ["sisi-naryshkin"] * (len(bad_lines) + 1)
    errors = result.stderr.splitlines()
    assert len(errors) == len(bad_lines), result.stderr
    for n, (error, (_, reason)) in enumerate(zip(errors, bad_lines, strict=True)):
        assert error.startswith(f"alertbot match: <stdin>:{2 * n + 2}: ")
        assert reason in error
        assert error.endswith("; line skipped")


def test_a_bad_line_in_a_file_and_a_bom_at_its_start(run, watchlist, tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf" + jsonl(NOTHING).encode() + b"\xc3\x28\n" + jsonl(ARTICLE).encode()
    )
    result = run("--watchlist", str(watchlist), "--input", str(path))
    assert result.exit_code == 1
    assert [r["id"] for r in records(result.stdout)] == ["weather", "sisi-naryshkin"]
    assert result.stderr == (
        f"alertbot match: {path}:2: not valid UTF-8 (byte 0xc3 at byte 1); line skipped\n"
    )


def test_a_bom_is_accepted_on_stdin_and_crlf_line_ends_too(run, watchlist):
    stdin = b"\xef\xbb\xbf" + jsonl(NOTHING).replace("\n", "\r\n").encode() * 2
    result = run("--watchlist", str(watchlist), input=stdin)
    assert result.exit_code == 0, result.stderr
    assert [r["id"] for r in records(result.stdout)] == ["weather", "weather"]


def test_a_bom_after_the_first_line_is_a_bad_line(run, watchlist):
    result = run("--watchlist", str(watchlist), input=jsonl(NOTHING) + "\ufeff" + jsonl(NOTHING))
    assert result.exit_code == 1
    assert ":2: not valid JSON" in result.stderr


def test_a_config_with_a_query_nested_too_deep_exits_2_with_one_line(run, tmp_path):
    path = tmp_path / "alertbot.toml"
    query = "(" * 300 + "غزة" + ")" * 300
    path.write_text(f'[[watch]]\nname = "Deep"\nquery = "{query}"\n', encoding="utf-8")
    result = run("--config", str(path), "--text", "غزة")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"alertbot: {path}: watch[0].query: too deeply nested:"
        " at most 20 levels of parentheses at column 21\n"
    )


def test_a_lower_case_or_in_a_watchlist_exits_2_naming_it(run, tmp_path):
    path = tmp_path / "watches.toml"
    path.write_text('[[watch]]\nname = "x"\nquery = "غزة or مصر"\n', encoding="utf-8")
    result = run("--watchlist", str(path), "--text", "غزة")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "watch[0].query: operators are upper-case: 'or' must be OR" in result.stderr
    assert result.stderr.endswith("at column 5\n")


def test_blank_lines_are_skipped_quietly(run, watchlist):
    result = run("--watchlist", str(watchlist), input="\n" + jsonl(NOTHING) + "  \n")
    assert result.exit_code == 0
    assert [r["id"] for r in records(result.stdout)] == ["weather"]


def test_stdin_is_the_default_input(monkeypatch, lemmatizer, watchlist):
    monkeypatch.setattr("alertbot.cli.open_lemmatizer", lambda *args, **kwargs: lemmatizer)
    result = CliRunner().invoke(cli, ["match", "--watchlist", str(watchlist)], input=jsonl(NOTHING))
    assert result.exit_code == 0, repr(result.exception)
    assert [r["id"] for r in records(result.stdout)] == ["weather"]


def test_input_file(run, watchlist, tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text(jsonl(NOTHING, "oops"), encoding="utf-8")
    result = run("--watchlist", str(watchlist), "--input", str(path))
    assert result.exit_code == 1
    assert [r["id"] for r in records(result.stdout)] == ["weather"]
    assert f"{path}:2:" in result.stderr


def test_text_option(run, watchlist):
    text = "التقى ناريشكين بالسيسي"
    result = run("--watchlist", str(watchlist), "--text", text)
    assert result.exit_code == 0, result.stderr
    [record] = records(result.stdout)
    assert record["matches"] == [
        {
            "watch": "Naryshkin",
            "spans": [{"field": "text", "start": 6, "end": 14, "text": "ناريشكين"}],
        },
    ]


def test_watches_from_the_default_config(run):
    result = run("--config", "config/alertbot.toml", input=jsonl(ARTICLE))
    assert result.exit_code == 0, result.stderr
    [record] = records(result.stdout)
    assert {m["watch"] for m in record["matches"]} == {
        "Naryshkin",
        "El-Dabaa nuclear plant",
        "Gaza ceasefire",
    }
    assert_spans_point_into(record, ARTICLE)
    ceasefire = next(m for m in record["matches"] if m["watch"] == "Gaza ceasefire")
    assert ("text", "وقفَ إطلاق النار") in {(s["field"], s["text"]) for s in ceasefire["spans"]}


def test_watchlist_and_config_together_is_a_usage_error(run):
    result = run("--watchlist", "w.toml", "--config", "c.toml", "--text", "x")
    assert result.exit_code == 2
    assert "give --watchlist FILE or --config PATH, not both" in result.stderr
    assert result.stdout == ""


def test_without_watchlist_or_config_the_default_config_is_used(run, monkeypatch):
    monkeypatch.delenv("ALERTBOT_CONFIG", raising=False)
    result = run("--text", "استقبل السيسي ناريشكين")
    assert result.exit_code == 0, result.stderr
    assert [m["watch"] for m in json.loads(result.stdout)["matches"]] == ["Naryshkin"]


def test_without_watchlist_or_config_alertbot_config_is_used(run, monkeypatch, tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text('[[watch]]\nname = "Cairo"\nquery = "القاهرة"\n', encoding="utf-8")
    monkeypatch.setenv("ALERTBOT_CONFIG", str(path))
    result = run("--text", "في القاهرة")
    assert result.exit_code == 0, result.stderr
    assert [m["watch"] for m in json.loads(result.stdout)["matches"]] == ["Cairo"]
    monkeypatch.setenv("ALERTBOT_CONFIG", str(tmp_path / "missing.toml"))
    missing = run("--text", "x")
    assert missing.exit_code == 2
    assert missing.stderr == f"alertbot: {tmp_path / 'missing.toml'}: file not found\n"


def test_version_is_the_package_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"alertbot {importlib.metadata.version('alertbot')}\n"


def test_input_and_text_together_is_a_usage_error(run, watchlist, tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text("", encoding="utf-8")
    result = run("--watchlist", str(watchlist), "--input", str(path), "--text", "x")
    assert result.exit_code == 2


def test_bad_query_in_watchlist_exits_2_with_the_key_path(run, tmp_path):
    path = tmp_path / "watches.toml"
    path.write_text(
        '[[watch]]\nname = "a"\nquery = "غزة"\n[[watch]]\nname = "b"\nquery = "غزة OR"\n',
        encoding="utf-8",
    )
    result = run("--watchlist", str(path), "--text", "غزة")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "watch[1].query" in result.stderr
    assert "nothing after OR at column 7" in result.stderr


def test_missing_watchlist_exits_2(run, tmp_path):
    result = run("--watchlist", str(tmp_path / "nope.toml"), "--text", "x")
    assert result.exit_code == 2
    assert "file not found" in result.stderr


def test_lone_surrogate_in_a_line_does_not_crash_the_run(run, watchlist):
    stdin = '{"id": "\\ud800", "text": "x"}\n' + jsonl(NOTHING)
    result = run("--watchlist", str(watchlist), input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "weather" in [r["id"] for r in records(result.stdout)]


def test_python_m_alertbot_match_in_a_real_process():
    try:
        data = camel_data.require_installed(camel_data.camel_data_dir())
    except CamelDataError as exc:
        pytest.fail(str(exc), pytrace=False)
    text = "استقبل السيسي ناريشكين في القاهرة"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "alertbot",
            "match",
            "--config",
            "config/alertbot.toml",
            "--text",
            text,
        ],
        cwd=ROOT,
        env={**os.environ, "CAMELTOOLS_DATA": str(data.root)},
        capture_output=True,
        encoding="utf-8",
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "id": "text",
        "matches": [
            {
                "watch": "Naryshkin",
                "spans": [
                    {"field": "text", "start": 14, "end": 22, "text": "ناريشكين"},
                ],
            }
        ],
    }


def test_explain_tells_how_words_are_understood_and_the_stored_spellings(run, tmp_path):
    from datetime import timedelta

    from alertbot.clock import utc_now
    from alertbot.store import NewItem, Store
    from testsupport.storefixtures import article

    database = tmp_path / "state" / "alertbot.db"
    store = Store.open(database)
    now = utc_now()
    for n, text in enumerate(["التقى ترمب نظيره", "وقال ترمب إن الاتفاق قريب", "قال ترامب"]):
        item = article(f"https://a.example/{n}", text=text, fetched=now - timedelta(hours=n))
        store.record_item(NewItem(item, f"h{n}", None, None, [], "", []), now)
    store.close()
    config = tmp_path / "alertbot.toml"
    config.write_text(
        f'database = "{database}"\n\n[[watch]]\nname = "Trump"\nquery = "ترامب OR Trump"\n',
        encoding="utf-8",
    )
    result = run("--config", str(config), "--explain", "--text", "قال ترمب")
    assert result.exit_code == 0, result.output
    assert "Trump: ترامب → as written; Trump → Trumps, Trump's" in result.stderr
    assert "  ترامب → also ترمب (2)" in result.stderr
    assert json.loads(result.stdout)["matches"][0]["watch"] == "Trump"
