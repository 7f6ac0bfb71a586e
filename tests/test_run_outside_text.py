"""`alertbot run --once` on hostile and imprecise outside text: feed items carrying terminal
escapes and bidi overrides, and items whose source gives only a date. The real CLI in a
subprocess, against feeds and pages on loopback; stdout, the database and the recap read
back."""

from __future__ import annotations

import html
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from testsupport.httpserver import LocalServer
from testsupport.processes import run_cli

FEED_HEADERS = {"Content-Type": "application/rss+xml; charset=utf-8"}
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8"}

# What a hostile item carries: clear screen, red, a window title (OSC ended by BEL, and by
# ST), a reset, and a right-to-left override, embeddings and isolates of its own.
CLEAR, RED, RESET = "\x1b[2J", "\x1b[31m", "\x1b[0m"
TITLE_SET = "\x1b]0;pwned\x07"
TITLE_SET_ST = "\x1b]2;pwned\x1b\\"
BIDI = "\u202e\u202a\u202b\u202c\u202d\u2066\u2067"
# Never on stdout. (FSI and PDI, U+2068/U+2069, are the console's own isolates.)
FORBIDDEN = ["\x1b", "\x07", "\x9b", "\x00", *"\u202a\u202b\u202c\u202d\u202e\u2066\u2067"]

HOSTILE_TITLE = f"مصر{CLEAR} تستضيف {RED}جولة{RESET} جديدة {TITLE_SET}من المحادثات {BIDI}اليوم"
HOSTILE_TEXT = [
    f"أعلنت وزارة الخارجية في مصر{RED} اليوم{RESET} استضافة جولة جديدة من المحادثات بين"
    f" الأطراف المعنية،{TITLE_SET_ST} وقال المتحدث الرسمي إن الوفود ستصل إلى القاهرة خلال"
    " الأيام المقبلة لبحث الملفات العالقة.",
    f"وأضاف أن الجولة تأتي بعد اتصالات مكثفة استمرت أسابيع{CLEAR} بين العواصم، وأن {BIDI}"
    "النتائج ستعلن في مؤتمر صحفي مشترك في ختام المباحثات.",
    "وأشار إلى أن الوزير سيلتقي رؤساء الوفود كلا على حدة قبل الجلسة العامة.",
]
FEED_DATE_ONLY_TEXT = [
    "افتتحت مصر معرضا دوليا للكتاب يشارك فيه ناشرون من أكثر من أربعين دولة، ويستمر المعرض"
    " أسبوعين وسط إقبال كبير من الزوار والطلاب والباحثين.",
    "وتقام على هامش المعرض ندوات فكرية وأمسيات شعرية وورش للأطفال في قاعات متعددة.",
]
PAGE_DATE_ONLY_TEXT = [
    "سجلت صادرات مصر الزراعية ارتفاعا ملحوظا خلال الموسم الحالي بحسب بيانات رسمية صدرت"
    " صباح اليوم عن الجهات المختصة.",
    "وتصدرت الموالح والبطاطس قائمة المنتجات المصدرة إلى الأسواق الأوروبية والعربية، تلتها"
    " الفراولة والعنب والبصل.",
    "وتوقع خبراء استمرار النمو في الموسم المقبل مع فتح أسواق جديدة في آسيا وأفريقيا.",
]


def write_config(path: Path, database: Path, sources: Sequence[tuple[str, str]]) -> Path:
    lines = [f"database = {json.dumps(str(database))}", 'timezone = "UTC"', ""]
    lines += ["[polling]", 'timeout = "5s"', ""]
    for name, url in sources:
        lines += ["[[source]]", f"name = {json.dumps(name)}", f"url = {json.dumps(url)}", ""]
    lines += ["[[watch]]", 'name = "Egypt"', 'query = "مصر"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def page(title: str, paragraphs: Sequence[str], head: str = "", byline: str = "") -> bytes:
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{title}</title>{head}</head><body><main><article><h1>{title}</h1>{byline}"
        f"{body}</article></main></body></html>"
    ).encode()


def rss_item(title: str, link: str, description: str, pub_date: str | None) -> str:
    date = f"<pubDate>{pub_date}</pubDate>" if pub_date else ""
    return (
        f"<item><title>{html.escape(title)}</title><link>{html.escape(link)}</link>"
        f"<description>{html.escape(description)}</description>{date}</item>"
    )


def rss(items: Sequence[str]) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def alert_blocks(stdout: str) -> Iterator[list[str]]:
    """Each console alert: "● watches", title, outlet · time, URL, quote."""
    lines = stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("● "):
            yield lines[index : index + 5]


def bare(text: str) -> str:
    """Console text without our isolates."""
    return text.replace("\u2068", "").replace("\u2069", "").strip()


def test_hostile_and_date_only_items_through_run_once(
    tmp_path: Path, child_env: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    today = now.date().isoformat()
    # An hour back, but still today (in the first hour of a UTC day an hour back is
    # yesterday, and the recap of today would not show it).
    earlier = max(now - timedelta(hours=1), now.replace(hour=0, minute=1, second=0))
    with LocalServer() as server:
        # 1. A feed item with escapes and overrides in its title, link and description,
        #    and on its article page; its time of day is known.
        hostile_link = server.url(f"/news/hostile?x={CLEAR}&y=\u202e")
        hostile_page = page(
            f"عنوان{RED} الصفحة",
            HOSTILE_TEXT,
            head=f'<meta property="article:published_time" content="{now.isoformat()}">',
        )
        server.route("/news/hostile", hostile_page, headers=PAGE_HEADERS)
        # 2. A feed item whose pubDate is a date without a time (full text in the feed).
        items = [
            rss_item(
                HOSTILE_TITLE,
                hostile_link,
                f"<p>{RED}{HOSTILE_TEXT[0][:120]}{TITLE_SET} …</p>",
                format_datetime(earlier),
            ),
            rss_item(
                "مصر تفتتح معرضا دوليا للكتاب",
                server.url("/news/book-fair"),
                "".join(f"<p>{p}</p>" for p in FEED_DATE_ONLY_TEXT * 3),
                f"{now:%a, %d %b %Y}",
            ),
        ]
        server.route("/feed.xml", rss(items), headers=FEED_HEADERS)
        # 3. A teaser item with no date whose page states only the day it was published.
        page_link = server.url("/news/exports")
        server.route(
            "/pages.xml",
            rss([rss_item("صادرات مصر الزراعية", page_link, "<p>سجلت صادرات مصر …</p>", None)]),
            headers=FEED_HEADERS,
        )
        dated_page = page(
            "صادرات مصر الزراعية ترتفع",
            PAGE_DATE_ONLY_TEXT,
            head=f'<meta property="article:published_time" content="{today}">',
            byline=f'<time datetime="{today}">{today}</time>',
        )
        server.route("/news/exports", dated_page, headers=PAGE_HEADERS)

        database = tmp_path / "alertbot.db"
        config = write_config(
            tmp_path / "alertbot.toml",
            database,
            [("Outlet", server.url("/feed.xml")), ("Dated pages", server.url("/pages.xml"))],
        )
        result = run_cli(["run", "--once", "--config", str(config)], child_env, tmp_path)
        assert result.returncode == 0, result.stderr

    out = result.stdout
    for c in FORBIDDEN:
        assert c not in out, f"{c!r} on stdout"
        assert c not in result.stderr, f"{c!r} on stderr"
    assert out.count("\u2068") == out.count("\u2069")  # only our own isolates, paired
    blocks = {bare(block[1]): block for block in alert_blocks(out)}
    assert set(blocks) == {
        "مصر تستضيف جولة جديدة من المحادثات اليوم",
        "مصر تفتتح معرضا دوليا للكتاب",
        "صادرات مصر الزراعية",
    }, out

    hostile = blocks["مصر تستضيف جولة جديدة من المحادثات اليوم"]
    assert bare(hostile[0]) == "● Egypt"
    assert re.fullmatch(r"Outlet · \d{4}-\d\d-\d\d \d\d:\d\d \(UTC\)", bare(hostile[2]))
    assert bare(hostile[3]) == server.url("/news/hostile?x=%1B[2J&y=%E2%80%AE")
    assert "**مصر**" in hostile[4]
    assert "[2J" not in hostile[4] and "pwned" not in hostile[4]

    # A date only is shown as the date alone: no invented 00:00 (or 02:00 in Cairo).
    assert bare(blocks["مصر تفتتح معرضا دوليا للكتاب"][2]) == f"Outlet · {today}"
    assert bare(blocks["صادرات مصر الزراعية"][2]) == f"Dated pages · {today}"

    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT title, url, canonical_url, text, published, published_date_only"
            " FROM seen_items ORDER BY id"
        ).fetchall()
        stories = db.execute("SELECT title, url, published_date_only FROM stories").fetchall()
    assert len(rows) == 3 and len(stories) == 3
    for row in rows:
        for value in row[:4]:
            for c in FORBIDDEN:
                assert c not in value, f"{c!r} stored in {value!r}"
        assert "[2J" not in row[0] + row[3] and "pwned" not in row[0] + row[3]
    by_title = {row[0]: row for row in rows}
    stored = by_title["مصر تستضيف جولة جديدة من المحادثات اليوم"]
    assert stored[3].split("\n")[-3:] == [
        "أعلنت وزارة الخارجية في مصر اليوم استضافة جولة جديدة من المحادثات بين الأطراف"
        " المعنية، وقال المتحدث الرسمي إن الوفود ستصل إلى القاهرة خلال الأيام المقبلة لبحث"
        " الملفات العالقة.",
        "وأضاف أن الجولة تأتي بعد اتصالات مكثفة استمرت أسابيع بين العواصم، وأن النتائج ستعلن"
        " في مؤتمر صحفي مشترك في ختام المباحثات.",
        HOSTILE_TEXT[2],
    ]
    assert stored[5] == 0
    for title in ("مصر تفتتح معرضا دوليا للكتاب", "صادرات مصر الزراعية"):
        assert by_title[title][4] == f"{today}T00:00:00.000000+00:00"
        assert by_title[title][5] == 1
    assert sorted(s[2] for s in stories) == [0, 1, 1]

    # The recap (no morphology needed) reads the same clean rows and dates.
    recap = run_cli(["recap", "--print", "--config", str(config)], child_env, tmp_path)
    assert recap.returncode == 0, recap.stderr
    for c in FORBIDDEN:
        assert c not in recap.stdout
    # (stripped: an article the clustering relates to another is listed under its story)
    recap_lines = [line.strip() for line in recap.stdout.splitlines()]
    assert f"Outlet · {today}" in recap_lines
    assert f"Dated pages · {today}" in recap_lines
    assert any(re.fullmatch(r"Outlet · \d\d:\d\d", line) for line in recap_lines), recap.stdout
