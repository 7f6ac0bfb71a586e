"""`alertbot run --once` end to end: real Arabic articles served on loopback, the real CLI in
a subprocess, a temporary config and database, alerts read back from stdout."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alertbot.config import load_config
from alertbot.store import Store
from alertbot.stories.fingerprint import fingerprint, similarity
from alertbot.text.lemmatize import Lemmatizer
from alertbot.watch.match import Matcher
from testsupport.httpserver import LocalServer
from testsupport.processes import run_cli
from testsupport.sourcefixtures import NewsItem, article_page, news_items, rss

FEED_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8"}

# Short culture and society articles; two of the first eight mention Egypt (مصر, لمصر).
OUTLET_A_IDS = ("ant-1", "ant-2", "ant-4", "ant-5")
OUTLET_B_IDS = ("ant-9", "ant-10", "ant-11", "ant-12")
NEW_ID = "ant-15"  # not served before the third run; it mentions Egypt too


def alerted_urls(stdout: str) -> list[str]:
    """The URL of each console alert block ("● watches", title, outlet · time, URL, ...)."""
    urls = []
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("● "):
            url = lines[index + 3].strip()
            assert url.startswith("http://"), f"no URL line in the alert block at line {index}"
            urls.append(url)
    return urls


def write_config(
    path: Path,
    database: Path,
    sources: Sequence[tuple[str, str]],
    watches: Sequence[tuple[str, str]],
    extra: str = "",
) -> Path:
    """A config TOML with no [telegram] section: alerts go to the console."""
    lines = [f"database = {json.dumps(str(database))}", 'timezone = "UTC"', extra, ""]
    lines += ["[polling]", 'timeout = "5s"', ""]
    for name, url in sources:
        lines += ["[[source]]", f"name = {json.dumps(name)}", f"url = {json.dumps(url)}", ""]
    for name, query in watches:
        query_line = f"query = {json.dumps(query, ensure_ascii=False)}"
        lines += ["[[watch]]", f"name = {json.dumps(name)}", query_line, ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def serve(server: LocalServer, prefix: str, items: Sequence[NewsItem]) -> None:
    """Serve an outlet's RSS feed (teasers only) at PREFIX/rss.xml and each article page."""
    base = server.url(prefix)
    server.route(f"{prefix}/rss.xml", rss(items, base_url=base), headers=FEED_HEADERS)
    for item in items:
        page = article_page(item, base_url=base).encode("utf-8")
        server.route(item.path, page, headers=PAGE_HEADERS)


def rewrite(item: NewsItem, url: str, published: datetime) -> NewsItem:
    """The same story lightly rewritten by another outlet: same title, last paragraph
    dropped, one sentence added."""
    paragraphs = item.paragraphs[:-1]
    paragraphs.append("وتابعت وسائل الإعلام المحلية الخبر باهتمام كبير خلال الساعات الماضية.")
    return replace(item, id=f"{item.id}-copy", text="\n".join(paragraphs), url=url,
                   published=published, outlet="Outlet B")  # fmt: skip


def expected_urls(matcher: Matcher, items: Sequence[NewsItem]) -> set[str]:
    """The URLs of the items any watch matches, on their plain title and text."""
    return {i.url for i in items if matcher.match_article(i.plain_title, i.plain_text)}


def test_run_once_alerts_once_then_only_new_stories(
    tmp_path: Path, lemmatizer: Lemmatizer, child_env: dict[str, str]
) -> None:
    """Pins `run --once`: exactly the matching articles alerted once each; a rerun alerts
    nothing; a new article alerts, a near-duplicate from another outlet joins its story."""
    now = datetime.now(UTC)
    with LocalServer() as server:
        start = now - timedelta(hours=1)
        step = timedelta(minutes=5)
        a_items = news_items(ids=OUTLET_A_IDS, base_url=server.url("/a"), start=start,
                             step=step, arabic_slugs=False)  # fmt: skip
        b_items = news_items(ids=OUTLET_B_IDS, base_url=server.url("/b"), start=start,
                             step=step, arabic_slugs=False)  # fmt: skip
        serve(server, "/a", a_items)
        serve(server, "/b", b_items)
        database = tmp_path / "alertbot.db"
        config_file = write_config(
            tmp_path / "alertbot.toml",
            database,
            [("Outlet A", server.url("/a/rss.xml")), ("Outlet B", server.url("/b/rss.xml"))],
            [("Egypt", "مصر")],
        )
        config = load_config(config_file)
        matcher = Matcher(config.watches, lemmatizer)
        served = [*a_items, *b_items]
        expected = expected_urls(matcher, served)
        assert 2 <= len(expected) < len(served)
        args = ["run", "--once", "--config", str(config_file)]

        first = run_cli(args, child_env, tmp_path)
        assert first.returncode == 0, first.stderr
        urls = alerted_urls(first.stdout)
        assert Counter(urls) == Counter(expected)  # each expected alert, once
        assert f"alertbot: config {config_file}, database {database}" in first.stderr
        assert "alertbot: 2 sources, 1 watches" in first.stderr
        assert "alertbot: notifiers: console" in first.stderr
        assert "alertbot: no Telegram token configured" in first.stderr

        second = run_cli(args, child_env, tmp_path)
        assert second.returncode == 0, second.stderr
        assert alerted_urls(second.stdout) == []
        assert "●" not in second.stdout

        # A new article on outlet A, and outlet B's light rewrite of an alerted A story.
        (new,) = news_items(ids=[NEW_ID], base_url=server.url("/a"), start=now,
                            arabic_slugs=False)  # fmt: skip
        assert expected_urls(matcher, [new]) == {new.url}
        original = next(i for i in a_items if i.url in expected)
        copy = rewrite(original, server.url("/b/politics/rewritten-story-1"), now)
        same = similarity(
            fingerprint(original.plain_title, original.plain_text),
            fingerprint(copy.plain_title, copy.plain_text),
        )
        assert same >= 0.5, f"the rewrite should be a near-duplicate, similarity {same:.2f}"
        serve(server, "/a", [new, *a_items])
        serve(server, "/b", [copy, *b_items])

        third = run_cli(args, child_env, tmp_path)
        assert third.returncode == 0, third.stderr
        assert alerted_urls(third.stdout) == [new.url]

    with sqlite3.connect(database) as db:
        (story_id,) = db.execute(
            "SELECT story_id FROM seen_items WHERE url = ?", (copy.url,)
        ).fetchone()
    store = Store.open(database)
    try:
        story = store.story(story_id)
    finally:
        store.close()
    assert story is not None
    assert story.url == original.url
    assert [(o.source, o.url) for o in story.outlets] == [
        ("Outlet A", original.url),
        ("Outlet B", copy.url),
    ]


def test_run_unknown_config_key_exits_2_naming_it(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    """Pins exit status 2 and one stderr line naming the key path of an unknown key."""
    config_file = write_config(
        tmp_path / "alertbot.toml",
        tmp_path / "alertbot.db",
        [("Outlet A", "http://127.0.0.1:1/rss.xml")],
        [("Egypt", "مصر")],
    )
    text = config_file.read_text(encoding="utf-8")
    config_file.write_text(text.replace('timeout = "5s"', 'timeout = "5s"\nintervl = "5m"'))
    result = run_cli(["run", "--once", "--config", str(config_file)], child_env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "polling.intervl" in lines[0]
    assert result.stdout == ""
    assert not (tmp_path / "alertbot.db").exists()


def test_run_bad_watch_query_exits_2_naming_it(tmp_path: Path, child_env: dict[str, str]) -> None:
    """Pins exit status 2 and a stderr line naming `watch[0].query` for a query that does
    not parse."""
    config_file = write_config(
        tmp_path / "alertbot.toml",
        tmp_path / "alertbot.db",
        [("Outlet A", "http://127.0.0.1:1/rss.xml")],
        [("Broken", "مصر AND (سوريا")],
    )
    result = run_cli(["run", "--once", "--config", str(config_file)], child_env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "watch[0].query" in lines[0]


def test_run_once_exits_1_when_every_source_fails(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    """Pins exit status 1 for a `--once` pass in which every source failed."""
    with LocalServer() as server:
        config_file = write_config(
            tmp_path / "alertbot.toml",
            tmp_path / "alertbot.db",
            [
                ("Missing feed", server.url("/no/such/feed.xml")),
                ("Nobody listening", "http://127.0.0.1:1/rss.xml"),
            ],
            [("Egypt", "مصر")],
        )
        result = run_cli(["run", "--once", "--config", str(config_file)], child_env, tmp_path)
    assert result.returncode == 1, result.stderr
    assert "polled 2 sources (2 failed)" in result.stderr
    assert result.stdout == ""
