"""Benchmark of the Latin and Cyrillic word forms (alertbot/text/paradigms.py).

What it measures, in one process:

- pymorphy3's analyzer: how long the first Cyrillic watch takes to compile (the analyzer
  is loaded then) and how much the process's RSS grows with it;
- compile time per Cyrillic watch after that: with words not seen before, and again with
  words already expanded (a /watch of a known name);
- matching cost per article, warm (the second pass over the same articles, with the
  matcher's word cache filled), with the watches' words expanded against the same watches
  matched as written, as a ratio (the issue's target for variants and paradigms together:
  at most 1.3). On the Arabic corpus (the real workload: its Latin words are few, its
  Cyrillic none) and on Russian news sentences assembled into articles.

It is a benchmark, not a test: it never fails the build. Run it from the repository root:

    export CAMELTOOLS_DATA=/path/to/camel-data
    uv run python bench/paradigms_bench.py [--limit N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from alertbot import camel_data
from alertbot.cli import open_lemmatizer
from alertbot.text.lemmatize import Lemmatizer
from alertbot.text.normalize import normalize_word
from alertbot.text.paradigms import Paradigms, WordForms, match_key
from alertbot.watch.match import Matcher, Watch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "arabic-news.jsonl"
TARGET_RATIO = 1.3

# The bench's diplomatic watches with their Latin and Cyrillic aliases, each written once.
WATCHES: tuple[tuple[str, str], ...] = (
    ("Naryshkin", "ناريشكين OR Naryshkin OR Нарышкин"),
    ("Lavrov", "لافروف OR Lavrov OR Лавров"),
    ("Putin", "بوتين OR Putin OR Путин"),
    ("Sisi", "السيسي OR Sisi OR Сиси"),
    ("Erdogan", "أردوغان OR Erdogan OR Erdoğan OR Эрдоган"),
    ("Peskov", "بيسكوف OR Peskov OR Песков"),
    ("Egypt", "مصر OR Egypt OR Египет"),
    ("Security Council", '"مجلس الأمن" OR "Security Council" OR "Совет Безопасности"'),
    ("Sanctions", "عقوبات OR sanctions OR санкции"),
    ("Talks in Cairo", "(Каир OR القاهرة) NEAR/5 (переговоры OR مفاوضات)"),
)
# Watches with only Cyrillic words, to time compiling apart from the Arabic analysis.
CYRILLIC_FIRST = ("Нарышкин OR Лавров",)
CYRILLIC_NEW = (
    "Путин",
    "Песков OR Захарова",
    '"Сергей Шойгу"',
    "санкции NEAR/3 Египет",
    "Москва AND Каир",
    "Медведев",
    "Матвиенко",
    "Володин",
)

# Russian news sentences, as an agency would write them, the names in their case forms.
RUSSIAN = (
    "Директор СВР Сергей Нарышкин прибыл в Каир с рабочим визитом.",
    "Президент Египта Абдель Фаттах ас-Сиси принял Сергея Нарышкина.",
    "По словам Нарышкина, переговоры прошли в конструктивной атмосфере.",
    "Министр иностранных дел России Сергей Лавров провёл переговоры с египетским коллегой.",
    "Встреча с Лавровым продолжалась более двух часов.",
    "Пресс-секретарь президента Дмитрий Песков заявил, что Кремль следит за ситуацией.",
    "Песков отказался комментировать сообщения о новых санкциях.",
    "Евросоюз продлил санкции ещё на шесть месяцев.",
    "Совет Безопасности ООН соберётся на экстренное заседание в четверг.",
    "Путин и Эрдоган обсудили по телефону ситуацию в Сирии.",
    "Египту предложили участие в проекте строительства АЭС в Эль-Дабаа.",
    "Делегация прибыла в Каир для переговоров о прекращении огня в секторе Газа.",
    "Турецкий лидер Эрдоган посетит Москву в следующем месяце.",
    "Стороны договорились продолжить консультации на уровне экспертов.",
)


class AsWritten(Paradigms):
    """The baseline: every word matched as written (accent-folded, like the expanded)."""

    def forms(self, word: str) -> WordForms:
        return WordForms(word, (match_key(normalize_word(word)),), ())


def rss_mb() -> float:
    """The process's resident memory now, in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def corpus_articles(path: Path, limit: int | None) -> list[tuple[str | None, str]]:
    """(title, text) of the corpus's articles."""
    out = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            out.append((item.get("title") or None, item["text"]))
            if limit is not None and len(out) >= limit:
                break
    return out


def russian_articles(count: int) -> list[tuple[str | None, str]]:
    """`count` articles of 6 to 12 of the Russian sentences each, in a fixed random order."""
    rng = random.Random(14)
    out: list[tuple[str | None, str]] = []
    for _ in range(count):
        body = rng.sample(RUSSIAN, rng.randint(6, 12))
        out.append((body[0], "\n".join(body[1:])))
    return out


def warm_ms(matcher: Matcher, articles: Sequence[tuple[str | None, str]]) -> tuple[float, int]:
    """ms per article of one pass with the matcher's cache already filled, and the number of
    articles that matched a watch."""
    matched = 0
    start = time.perf_counter()
    for title, text in articles:
        matched += bool(matcher.match_article(title, text))
    return (time.perf_counter() - start) * 1000 / len(articles), matched


def ratio(
    lemmatizer: Lemmatizer,
    watches: list[Watch],
    articles: Sequence[tuple[str | None, str]],
    repeat: int,
) -> tuple[float, float, int, int]:
    """Warm ms/article expanded and as written (medians of `repeat` alternating passes),
    and how many articles each matched."""
    expanded = Matcher(watches, lemmatizer)
    written = Matcher(watches, lemmatizer, paradigms=AsWritten())
    warm_ms(expanded, articles)  # fill both caches (and the lemmatizer's)
    warm_ms(written, articles)
    times: dict[str, list[float]] = {"expanded": [], "written": []}
    found = {}
    for _ in range(repeat):
        for name, matcher in (("expanded", expanded), ("written", written)):
            ms, found[name] = warm_ms(matcher, articles)
            times[name].append(ms)
    return (
        statistics.median(times["expanded"]),
        statistics.median(times["written"]),
        found["expanded"],
        found["written"],
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None, help="corpus articles (all)")
    parser.add_argument("--repeat", type=int, default=5, help="warm passes per side")
    args = parser.parse_args(argv)

    if not camel_data.camel_data_dir().is_installed():
        sys.exit("paradigms_bench: no camel-tools database; export CAMELTOOLS_DATA=...")
    lemmatizer = open_lemmatizer()

    before = rss_mb()
    start = time.perf_counter()
    Matcher([Watch("first", q) for q in CYRILLIC_FIRST], lemmatizer)
    first = time.perf_counter() - start
    grown = rss_mb() - before
    print(f"first Cyrillic watch (loads pymorphy3): {first * 1000:.0f} ms, RSS +{grown:.1f} MB")

    new = []
    for query in CYRILLIC_NEW:
        start = time.perf_counter()
        Matcher([Watch("w", query)], lemmatizer)
        new.append(time.perf_counter() - start)
    again = []
    for query in CYRILLIC_NEW:
        start = time.perf_counter()
        Matcher([Watch("w", query)], lemmatizer)
        again.append(time.perf_counter() - start)
    print(
        f"later Cyrillic watches: new words {statistics.median(new) * 1000:.2f} ms median"
        f" (max {max(new) * 1000:.2f}), words seen before"
        f" {statistics.median(again) * 1000:.3f} ms median, over {len(new)} watches"
    )

    watches = [Watch(name, query) for name, query in WATCHES]
    for label, articles in (
        (f"Arabic corpus ({args.corpus.name})", corpus_articles(args.corpus, args.limit)),
        ("Russian sentences", russian_articles(500)),
    ):
        exp, wr, n_exp, n_wr = ratio(lemmatizer, watches, articles, args.repeat)
        verdict = "ok" if exp / wr <= TARGET_RATIO else "OVER"
        print(
            f"{label}, {len(articles)} articles, warm: expanded {exp:.3f} ms/article,"
            f" as written {wr:.3f} ms/article, ratio {exp / wr:.2f} ({verdict}, target"
            f" <= {TARGET_RATIO}); articles matched: {n_exp} expanded, {n_wr} as written"
        )


if __name__ == "__main__":
    main()
