"""Render the HTML recap email in headless Chromium, to PNGs a person can look at.

It builds a realistic recap without a database: eight real items from the Arabic news
corpus (titles, a sentence of their text as the quote with the watched word marked, their
outlets plus "Sky News Arabia" as a Latin outlet name, a title with "MH17" in it, times in
Africa/Cairo, one story from the day before) under three watches ("Gaza ceasefire",
"El-Dabaa nuclear plant", "ناريشكين"), one story listed under two of them. It renders that
with `alertbot.notify.mail.recap_message`, takes the text/html part, and writes:

    <out-dir>/recap.html           the HTML part as sent
    <out-dir>/recap-phone.png      Chromium at 390x1600 (a phone)
    <out-dir>/recap-desktop.png    Chromium at 1024x1400

Run it from the repository root (Chromium is Debian's `chromium`: apt-get install chromium):

    uv run python bench/render_recap.py [--out-dir state/recap-render] [--corpus PATH]
                                        [--chromium PATH]

What to look for in the PNGs:

- every block is right-aligned and reads right to left, including the English heading
  ("Recap ...: N stories ...") and the section headings ("<watch> — N stories");
- titles are links (blue, underlined), and "MH17" or a Latin outlet sits in place inside
  its Arabic line rather than jumping to the line's other end;
- times and dates read left to right ("2025-03-01 00:00 – 2025-03-02 00:00"), the quote
  is in « » with the matched word in bold behind a border on its right;
- at phone width nothing is cut off or scrolls sideways and the text is large enough.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from alertbot.recap.build import Recap, RecapSection, RecapStory, day_bounds
from alertbot.recap.render import recap_message
from alertbot.watch.snippet import Snippet

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "arabic-news.jsonl"
DEFAULT_OUT = ROOT / "state" / "recap-render"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CAIRO = ZoneInfo("Africa/Cairo")
DATE_KEY = "2025-03-01"
LATIN_OUTLET = "Sky News Arabia"

# (corpus id, the word to quote and mark, local time "HH:MM" or "YYYY-MM-DD HH:MM",
#  extra outlets after the corpus one, watches)
GAZA, DABAA, NARYSHKIN = "Gaza ceasefire", "El-Dabaa nuclear plant", "ناريشكين"
SAMPLE = (
    ("ajgaza-34", "وقف إطلاق النار", "21:40", (LATIN_OUTLET, "BBC Arabic"), (GAZA,)),
    ("ajgaza-12", "وقف إطلاق النار", "16:05", (), (GAZA,)),
    ("ajgaza-86", "وقف إطلاق النار", "09:15", (LATIN_OUTLET,), (GAZA,)),
    ("ant-115", "غزة", "2025-02-28 23:50", (), (GAZA, NARYSHKIN)),
    ("ant-1224", "الضبعة", "13:20", ("Al Arabiya",), (DABAA,)),
    ("ant-1178", "نووية", "11:02", (), (DABAA,)),
    ("ant-729", "روسيا", "18:30", (LATIN_OUTLET,), (NARYSHKIN,)),
    ("ant-1545", "موسكو", "07:45", (), (NARYSHKIN,)),
)
_SENTENCE = re.compile(r"[^.!?؟\n]+[.!?؟]?")


def load_items(corpus: Path, ids: set[str]) -> dict[str, dict]:
    """The corpus items with these ids, by id."""
    found: dict[str, dict] = {}
    with corpus.open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            if item["id"] in ids:
                found[item["id"]] = item
    if missing := ids - found.keys():
        raise SystemExit(f"{corpus}: items not found: {', '.join(sorted(missing))}")
    return found


def quote_of(text: str, word: str) -> Snippet:
    """The first sentence of `text` holding `word`, every occurrence of it marked, widened
    to whole words ("لوقف إطلاق النار", not "ل" + a bold "وقف إطلاق النار") as the matcher
    marks tokens."""
    sentences = (s.strip() for s in _SENTENCE.findall(text))
    sentence = next((s for s in sentences if word in s), text.strip().split("\n")[0])
    marks = tuple((m.start(), m.end()) for m in re.finditer(_whole_words(word), sentence))
    return Snippet(sentence, marks)


def _whole_words(word: str) -> str:
    """A pattern for `word` with the rest of the words it starts and ends inside."""
    return r"[^\s#]*" + re.escape(word) + r"[^\s.,،:؛!?؟\"»)]*"


def _local(when: str) -> datetime:
    stamp = when if " " in when else f"{DATE_KEY} {when}"
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=CAIRO)


def build_sample_recap(corpus: Path = DEFAULT_CORPUS) -> Recap:
    """A recap of eight real corpus stories under three watches, for 2025-03-01 in Cairo."""
    items = load_items(corpus, {row[0] for row in SAMPLE})
    stories = []
    for n, (item_id, word, when, extra, watches) in enumerate(SAMPLE, start=1):
        item = items[item_id]
        moment = _local(when)
        stories.append(
            RecapStory(
                story_id=n,
                title=item["title"],
                url=item.get("url") or "",
                outlets=tuple(dict.fromkeys((item["outlet"], *extra))),
                first_seen=moment,
                published=moment,
                snippet=quote_of(item["text"], word),
                watches=watches,
            )
        )
    sections = []
    for watch in (GAZA, DABAA, NARYSHKIN):
        mine = [s for s in stories if watch in s.watches]
        mine.sort(key=lambda s: (-s.when.timestamp(), -s.story_id))
        sections.append(RecapSection(watch, tuple(mine)))
    sections.sort(key=lambda s: (-len(s.stories), s.watch.casefold(), s.watch))
    start, end = day_bounds(DATE_KEY, CAIRO)
    return Recap(
        date_key=DATE_KEY,
        start=start,
        end=end,
        timezone=CAIRO,
        sections=tuple(sections),
        story_count=len(stories),
        outlet_count=len({o for s in stories for o in s.outlets}),
    )


def build_sample_html(corpus: Path = DEFAULT_CORPUS) -> str:
    """The text/html part of the sample recap's email, as a string."""
    msg = recap_message(
        build_sample_recap(corpus),
        sender="alertbot <alerts@alertbot.local>",
        to="reader@example.com",
        now=datetime(2025, 3, 2, 8, 0, tzinfo=CAIRO),
    )
    body = msg.get_body(("html",))
    if body is None:
        raise SystemExit("recap_message produced no text/html part")
    return body.get_content()


def find_chromium(given: str | None) -> str | None:
    """The browser to run: `given` if it exists (as a path or on PATH), else the first of
    chromium, chromium-browser, google-chrome on PATH."""
    if given:
        return shutil.which(given) or (given if Path(given).is_file() else None)
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def screenshot(browser: str, page: Path, png: Path, width: int, height: int) -> None:
    """One screenshot of `page` at width x height, by headless Chromium."""
    command = [
        browser,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        f"--screenshot={png}",
        page.resolve().as_uri(),
    ]
    png.unlink(missing_ok=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0 or not png.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SystemExit(
            f"{browser} failed (exit {done.returncode}) for {png.name}:\n" + "\n".join(tail)
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT, help="where to write")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="JSON Lines corpus")
    parser.add_argument("--chromium", help="the browser binary (default: found on PATH)")
    args = parser.parse_args(argv)

    browser = find_chromium(args.chromium)
    if browser is None:
        wanted = args.chromium or " / ".join(BROWSERS)
        print(f"no browser found ({wanted}): apt-get install chromium", file=sys.stderr)
        return 2

    out: Path = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    page = out / "recap.html"
    page.write_text(build_sample_html(args.corpus), encoding="utf-8")
    print(page)
    for name, width, height in (("recap-phone.png", 390, 1600), ("recap-desktop.png", 1024, 1400)):
        screenshot(browser, page, out / name, width, height)
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
