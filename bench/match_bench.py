"""Benchmark of watch matching on real Arabic news, against trafilatura's extraction.

What it measures, in one process, on the JSON Lines corpus (`id`, `title`, `text`, ...):

- startup: interpreter start to the script, importing alertbot, importing camel-tools,
  loading the morphology database, and compiling the watches (the three of
  config/alertbot.toml plus the 20 below) into a ready `Matcher`;
- matching: articles/s and ms/article over all articles, first with empty caches (cold),
  then a second pass over the same articles with the caches the first pass filled (warm);
- extraction: `trafilatura.bare_extraction` over the same articles wrapped as simple HTML
  pages, so matching's cost can be read as a fraction of the cost of getting the text;
- peak RSS (`ru_maxrss`) after startup, after matching (before trafilatura is imported),
  and at the end.

Targets (from the issue): warm matching at most a quarter of extraction per article,
startup at most 5 s, peak RSS at most 600 MB. It also prints how many articles each watch
matched, as a sanity check. It is a benchmark, not a test: it never fails the build.

Run it from the repository root:

    export CAMELTOOLS_DATA=/path/to/camel-data   # holds catalogue.json and data/
    uv run python bench/match_bench.py [--limit N] [--corpus PATH] [--config PATH]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alertbot.watch.match import Matcher, Watch

# Startup is timed from here (the stdlib imports above count as "process start to script").
_SCRIPT_START = time.perf_counter()

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "arabic-news.jsonl"
DEFAULT_CONFIG = ROOT / "config" / "alertbot.toml"

TARGET_RATIO = 0.25
TARGET_STARTUP_S = 5.0
TARGET_RSS_MB = 600.0
# A watch matching more than this share of the articles is worth a second look.
SUSPICIOUS_SHARE = 0.5

# Twenty diplomatic watches on top of the config's three: people, places and topics, with
# words, phrases, AND, OR, NOT and NEAR, and Latin or Cyrillic aliases (Russian case forms
# are separate words).
EXTRA_WATCHES: tuple[tuple[str, str], ...] = (
    ("Lavrov", "لافروف OR Lavrov OR Лавров OR Лаврова OR Лаврову OR Лавровым"),
    ("Putin", "بوتين OR بوتن OR Putin OR Путин OR Путина OR Путину OR Путиным"),
    ("Sisi", "السيسي OR Sisi OR Сиси"),
    ("Netanyahu", "نتنياهو OR Netanyahu OR Нетаньяху"),
    ("Erdogan", "أردوغان OR Erdogan OR Erdoğan OR Эрдоган"),
    ("Guterres", "غوتيريش OR غوتيريس OR Guterres OR Гутерриш"),
    ("Talks in Cairo", "القاهرة NEAR/5 (مفاوضات OR محادثات OR وساطة)"),
    ("Moscow, not football", 'موسكو NOT (مونديال OR "كأس العالم" OR المنتخب)'),
    ("Tehran nuclear", "(طهران OR إيران) NEAR/8 نووي"),
    ("Security Council", '"مجلس الأمن" OR "Security Council" OR "Совет Безопасности"'),
    ("Intelligence services", "المخابرات OR الاستخبارات"),
    ("Truce outside Gaza", "(هدنة OR التهدئة) NOT غزة"),
    ("Nuclear", "نووي OR nuclear OR ядерный"),
    ("United Nations", '"الأمم المتحدة" OR "United Nations" OR ООН'),
    ("Egypt and Russia", "(مصر OR القاهرة) AND (روسيا OR موسكو)"),
    ("Syria talks", "سوريا AND (أستانا OR جنيف OR سوتشي OR Astana OR Sochi)"),
    ("Sanctions", 'عقوبات NEAR/4 (روسيا OR إيران OR "كوريا الشمالية")'),
    ("Iran nuclear deal", '"الاتفاق النووي" OR JCPOA'),
    ("Ambassador summoned", "استدعاء NEAR/3 السفير"),
    ("Trump-Putin summit", "(ترامب NEAR/6 بوتين) AND قمة"),
)


@dataclass(frozen=True)
class Article:
    """One corpus item."""

    id: str
    title: str | None
    text: str
    url: str | None


@dataclass
class Startup:
    """Seconds spent in each step of getting a ready Matcher."""

    before_script: float | None
    import_alertbot: float
    import_camel: float
    load_db: float
    compile: float

    @property
    def in_script(self) -> float:
        """From the first line of this script to a ready Matcher."""
        return self.import_alertbot + self.import_camel + self.load_db + self.compile

    @property
    def total(self) -> float:
        """From process start (when /proc tells it) to a ready Matcher."""
        return self.in_script + (self.before_script or 0.0)


@dataclass
class Pass:
    """One timed pass over the articles."""

    seconds: float
    articles: int
    matched: dict[str, int] = field(default_factory=dict)
    results: list[tuple[str, ...]] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        """Articles per second."""
        return self.articles / self.seconds if self.seconds else float("inf")

    @property
    def ms_per_article(self) -> float:
        """Milliseconds per article."""
        return 1000 * self.seconds / self.articles if self.articles else 0.0


def seconds_since_process_start() -> float | None:
    """How long ago the kernel started this process (Linux only; 10 ms resolution)."""
    try:
        stat = Path("/proc/self/stat").read_text()
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except OSError:
        return None
    # The command name (field 2) may contain spaces; fields after it are space-separated.
    fields = stat[stat.rindex(")") + 2 :].split()
    start_ticks = int(fields[19])  # field 22, starttime, in clock ticks since boot
    return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))


def code_version() -> str:
    """The commit alertbot/ is at, "+ changes" when it has uncommitted ones ("?" without git)."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "alertbot"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return f"{commit} + changes" if dirty else commit


def peak_rss_mb() -> float:
    """The process's peak resident set size so far, in MB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def read_corpus(path: Path, limit: int | None) -> list[Article]:
    """The corpus's articles, in file order, the first `limit` of them if given."""
    articles = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            item: dict[str, Any] = json.loads(line)
            articles.append(
                Article(str(item["id"]), item.get("title") or None, item["text"], item.get("url"))
            )
            if limit is not None and len(articles) >= limit:
                break
    return articles


def build_matcher(config: Path, extra: Sequence[tuple[str, str]]) -> tuple[Matcher, Startup]:
    """Import, load the database and compile the watches, timing each step."""
    before_script = seconds_since_process_start()
    if before_script is not None:
        # /proc's figure is "now"; keep only what passed before the script's first line.
        before_script = max(0.0, before_script - (time.perf_counter() - _SCRIPT_START))

    t0 = _SCRIPT_START
    from alertbot import camel_data
    from alertbot.cli import open_lemmatizer
    from alertbot.config import load_config
    from alertbot.watch.match import Matcher, Watch

    t1 = time.perf_counter()
    # open_lemmatizer() would download a missing database: a benchmark must not.
    data = camel_data.camel_data_dir()
    if not data.is_installed():
        sys.exit(
            f"match_bench: no camel-tools morphology database under {data.root}; "
            "export CAMELTOOLS_DATA=/path/to/camel-data (with catalogue.json and data/)"
        )
    # Imported here only to time the import apart from the database load.
    import camel_tools.morphology.analyzer
    import camel_tools.morphology.database  # noqa: F401

    t2 = time.perf_counter()
    lemmatizer = open_lemmatizer()
    t3 = time.perf_counter()
    watches: list[Watch] = list(load_config(config).watches)
    watches += [Watch(name, query) for name, query in extra]
    matcher = Matcher(watches, lemmatizer)
    t4 = time.perf_counter()
    return matcher, Startup(before_script, t1 - t0, t2 - t1, t3 - t2, t4 - t3)


def match_pass(matcher: Matcher, articles: Sequence[Article]) -> Pass:
    """Match every article once; keep which watches matched each."""
    results: list[tuple[str, ...]] = []
    start = time.perf_counter()
    for article in articles:
        found = matcher.match_article(article.title, article.text)
        results.append(tuple(m.watch for m in found))
    seconds = time.perf_counter() - start
    matched = {c.watch.name: 0 for c in matcher.watches}
    for names in results:
        for name in names:
            matched[name] += 1
    return Pass(seconds, len(articles), matched, results)


def as_html_page(article: Article) -> str:
    """The article as a simple right-to-left HTML page, one <p> per line of its text."""
    title = html.escape(article.title or "")
    paragraphs = "".join(
        f"<p>{html.escape(line.strip())}</p>\n" for line in article.text.split("\n") if line.strip()
    )
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{title}</title></head>\n<body><article><h1>{title}</h1>\n{paragraphs}"
        "</article></body></html>\n"
    )


def extraction_pass(
    extract: Callable[..., Any], pages: Sequence[tuple[str, str]]
) -> tuple[Pass, int]:
    """Run the extractor once over (url, html) pages; also count pages that gave text."""
    extracted = 0
    start = time.perf_counter()
    for url, page in pages:
        doc = extract(page, url=url)
        if doc is not None and doc.text:
            extracted += 1
    seconds = time.perf_counter() - start
    return Pass(seconds, len(pages)), extracted


def verdict(ok: bool) -> str:
    """PASS or FAIL."""
    return "PASS" if ok else "FAIL"


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Print rows of (figure, value, per article, target, status); an empty row is a gap."""
    header = ("figure", "value", "per article", "target", "")
    widths = [max(len(r[i]) for r in (header, *rows) if r) for i in range(len(header))]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths[:-1]))
    for row in rows:
        if not row:
            print()
            continue
        name, value, per_article, target, status = row
        cells = (
            name.ljust(widths[0]),
            value.rjust(widths[1]),
            per_article.rjust(widths[2]),
            target.ljust(widths[3]),
            status,
        )
        print("  ".join(cells).rstrip())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"JSON Lines of id, title, text (default: {DEFAULT_CORPUS})",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="config whose [[watch]] entries are the default watches",
    )
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="use only the first N articles"
    )
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit <= 0:
        parser.error("--limit must be a positive number")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print its figures."""
    args = parse_args(argv)

    matcher, startup = build_matcher(args.config, EXTRA_WATCHES)
    rss_startup = peak_rss_mb()

    articles = read_corpus(args.corpus, args.limit)
    if not articles:
        sys.exit(f"match_bench: no articles in {args.corpus}")
    chars = sum(len(a.text) + len(a.title or "") for a in articles)

    cold = match_pass(matcher, articles)
    warm = match_pass(matcher, articles)
    rss_matching = peak_rss_mb()

    pages = [(a.url or f"https://example.org/article/{a.id}", as_html_page(a)) for a in articles]
    t0 = time.perf_counter()
    from trafilatura import bare_extraction

    import_trafilatura = time.perf_counter() - t0
    extraction, extracted = extraction_pass(bare_extraction, pages)
    rss_end = peak_rss_mb()

    ratio = warm.ms_per_article / extraction.ms_per_article
    cold_ratio = cold.ms_per_article / extraction.ms_per_article
    before = startup.before_script
    watches = len(matcher.watches)

    print(
        f"corpus: {args.corpus} ({len(articles)} articles, {chars / len(articles):,.0f} "
        f"characters each on average)"
    )
    print(f"alertbot: commit {code_version()}")
    print(
        f"watches: {watches} ({watches - len(EXTRA_WATCHES)} from {args.config.name}, "
        f"{len(EXTRA_WATCHES)} extra)"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    # Other work on the machine skews every figure: the load average says if there was any.
    print(f"python {sys.version.split()[0]}, {sys.platform}, {os.cpu_count()} CPUs, load {load}")
    print()
    rows: list[tuple[str, ...]] = [
        ("startup: process start to script", "n/a" if before is None else f"{before:.2f} s"),
        ("startup: import alertbot", f"{startup.import_alertbot:.2f} s"),
        ("startup: import camel-tools", f"{startup.import_camel:.2f} s"),
        ("startup: load morphology db", f"{startup.load_db:.2f} s"),
        ("startup: import + db load", f"{startup.in_script - startup.compile:.2f} s"),
        (f"startup: compile {watches} watches", f"{startup.compile:.3f} s"),
        (
            "startup: total to ready Matcher",
            f"{startup.total:.2f} s",
            "",
            f"<= {TARGET_STARTUP_S:.0f} s",
            verdict(startup.total <= TARGET_STARTUP_S),
        ),
        (),
        ("matching, cold pass", f"{cold.per_second:,.0f} art/s", f"{cold.ms_per_article:.3f} ms"),
        ("matching, warm pass", f"{warm.per_second:,.0f} art/s", f"{warm.ms_per_article:.3f} ms"),
        (
            "extraction (bare_extraction)",
            f"{extraction.per_second:,.0f} art/s",
            f"{extraction.ms_per_article:.3f} ms",
        ),
        ("  pages with extracted text", f"{extracted}/{len(pages)}"),
        ("  import trafilatura (untimed)", f"{import_trafilatura:.2f} s"),
        (
            "ratio warm matching / extraction",
            f"{ratio:.3f}",
            "",
            f"<= {TARGET_RATIO}",
            verdict(ratio <= TARGET_RATIO),
        ),
        ("ratio cold matching / extraction", f"{cold_ratio:.3f}", "", "(information)"),
        (),
        ("peak RSS after startup", f"{rss_startup:,.0f} MB"),
        (
            "peak RSS after matching",
            f"{rss_matching:,.0f} MB",
            "",
            f"<= {TARGET_RSS_MB:.0f} MB",
            verdict(rss_matching <= TARGET_RSS_MB),
        ),
        (
            "peak RSS at the end",
            f"{rss_end:,.0f} MB",
            "",
            f"<= {TARGET_RSS_MB:.0f} MB",
            verdict(rss_end <= TARGET_RSS_MB),
        ),
    ]
    print_table([row + ("",) * (5 - len(row)) if row else row for row in rows])

    print()
    print("articles with at least one match, per watch (cold pass):")
    width = max(len(name) for name in cold.matched)
    for name, count in cold.matched.items():
        note = ""
        if count == 0:
            note = "  <- matches nothing"
        elif count > SUSPICIOUS_SHARE * len(articles):
            note = f"  <- more than {SUSPICIOUS_SHARE:.0%} of the articles"
        print(f"  {name.ljust(width)}  {count:5d}  {100 * count / len(articles):5.1f}%{note}")
    any_match = sum(1 for names in cold.results if names)
    share = 100 * any_match / len(articles)
    print(f"  {'(any watch)'.ljust(width)}  {any_match:5d}  {share:5.1f}%")
    if warm.results != cold.results:
        changed = sum(1 for a, b in zip(cold.results, warm.results, strict=True) if a != b)
        print(f"WARNING: the warm pass matched differently on {changed} articles")
    else:
        print("  warm pass matched exactly as the cold pass")


if __name__ == "__main__":
    main()
