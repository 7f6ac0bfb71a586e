"""Story clustering over the whole corpus stream: quality on labelled pairs, speed, memory.

    uv run python bench/stories_bench.py [--join 0.5 --related 0.3] [--sweep]

Streams every item of ../shared/corpus/arabic-news.jsonl in publication order through
`alertbot.stories.stream.cluster_stream` (what `alertbot stories` runs), from a fresh
state, and scores the outcome on the hand-labelled pairs of tests/fixtures/story-pairs*.toml:

    repeats quieted      same-event pairs whose later article joined or is related to the
                         earlier one's story (target ≥ 0.75, aim 0.90)
    events hidden        different-event pairs joined into one story (≤ 0.05, aim 0.02)
    related              different-event pairs related (≤ 0.25, aim 0.10)
    same-outlet hidden   same-outlet different-event pairs joined (≤ 0.20, aim 0.05)

Then the cost: clustering alone in articles/s and ms per article next to matching's on the
same articles (the default config's watches), and the memory of the clusterer with 5,000
stories in its window. `--sweep` prints the four figures for a grid of thresholds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path
from typing import Any

from alertbot.stories import cluster
from alertbot.stories.stream import (
    StreamItem,
    StreamResult,
    article_of,
    cluster_articles,
    cluster_stream,
)
from testsupport.storypairs import figures, labelled_pairs, stream_items

ROOT = Path(__file__).resolve().parent.parent


def run(items: list[StreamItem], is_name: Any) -> dict[str, StreamResult]:
    return {r.id: r for r in cluster_stream(items, is_name)}


def run_read(articles: list[tuple[str, Any]], join: float, related: float) -> dict[str, Any]:
    """Clustering alone, on articles read beforehand, at the given thresholds."""
    clusterer = cluster.Clusterer[int](join=join, related=related)
    return {r.id: r for r in cluster_articles(articles, clusterer)}


def name_test() -> Any:
    """`is_name` over the real morphology database, and the lemmatizer."""
    from alertbot.cli import open_lemmatizer
    from alertbot.stories.stream import name_test as names

    lemmatizer = open_lemmatizer()
    return names(lemmatizer), lemmatizer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--join", type=float, default=cluster.JOIN)
    parser.add_argument("--related", type=float, default=cluster.RELATED)
    parser.add_argument("--sweep", action="store_true", help="a grid of thresholds")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes")
    args = parser.parse_args()
    if not os.environ.get("CAMELTOOLS_DATA"):
        print("set CAMELTOOLS_DATA to ../shared/camel-data", file=sys.stderr)
        return 2
    items = stream_items()
    pairs = labelled_pairs()
    is_name, lemmatizer = name_test()
    print(f"{len(items)} articles, {len(pairs)} labelled pairs")

    read = [(item.id, article_of(item, is_name)) for item in items]  # warms the caches too
    if args.sweep:
        print("join  related  quieted  joined  hidden  related  same-outlet-hidden")
        for join in (0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
            for related in (0.15, 0.2, 0.25, 0.3):
                f = figures(run_read(read, join, related), pairs)
                print(f"{join:4.2f}  {related:7.2f}  {f['repeats quieted']:7.2f}"
                      f"  {f['same joined']:6.2f}  {f['events hidden']:6.2f}"
                      f"  {f['related']:7.2f}  {f['same-outlet hidden']:6.2f}")  # fmt: skip
    f = figures(run_read(read, args.join, args.related), pairs)
    print(f"\nthresholds: join {args.join}, related {args.related}")
    for key, value in f.items():
        print(f"  {key:28} {value:.3f}" if isinstance(value, float) else f"  {key:28} {value}")

    whole, alone = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        run(items, is_name)
        whole.append(len(items) / (time.perf_counter() - start))
        start = time.perf_counter()
        run_read(read, args.join, args.related)
        alone.append(len(items) / (time.perf_counter() - start))
    match_rates = _matching_rates(items, lemmatizer, args.repeat)
    print("\ncost (warm analyzer cache)")
    for label, rates in (
        ("reading + clustering", whole),
        ("clustering alone", alone),
        ("matching", match_rates),
    ):
        per = 1000 / statistics.median(rates)
        print(f"  {label:22} {_spread(rates)} articles/s, {per:.2f} ms per article")
    per_match = 1 / statistics.median(match_rates)
    print("  clustering ÷ matching, per article:"
          f" {(1 / statistics.median(alone)) / per_match:.2f} alone,"
          f" {(1 / statistics.median(whole)) / per_match:.2f} with reading"
          " (the fingerprint included; the pipeline computes it anyway)")  # fmt: skip
    print(f"  index memory, 5,000 stories in the window: {_memory(items) / 1e6:.1f} MB")
    return 0


def _matching_rates(items: list[StreamItem], lemmatizer: Any, repeat: int) -> list[float]:
    from alertbot.config import load_config
    from alertbot.watch.match import Matcher

    matcher = Matcher(load_config(ROOT / "config" / "alertbot.toml").watches, lemmatizer)
    for item in items:
        matcher.match_article(item.title, item.text)
    rates = []
    for _ in range(repeat):
        start = time.perf_counter()
        for item in items:
            matcher.match_article(item.title, item.text)
        rates.append(len(items) / (time.perf_counter() - start))
    return rates


def _memory(items: list[StreamItem]) -> int:
    """Bytes the clusterer holds with 5,000 stories in its window (the corpus, squeezed
    into three days so that none of it ages out, and repeated as needed)."""
    start = items[0].published
    squeezed = []
    for n in range(5000):
        item = items[n % len(items)]
        at = start + timedelta(seconds=n * 50)  # 5,000 articles in under three days
        squeezed.append(StreamItem(f"m{n}", item.title, item.text + f"\n{n}", item.outlet, at))
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    clusterer = cluster.Clusterer[int](join=2.0, related=2.0)  # every article a new story
    from alertbot.stories.cluster import Article
    from alertbot.stories.fingerprint import fingerprint
    from alertbot.stories.vectors import terms_of

    for n, item in enumerate(squeezed):
        article = Article(item.outlet, item.published, terms_of(item.title, item.text),
                          fingerprint(item.title, item.text))  # fmt: skip
        clusterer.add(n, article, clusterer.decide(article))
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(clusterer) == 5000
    return held


def _spread(values: list[float]) -> str:
    return f"{min(values):.0f}–{max(values):.0f}"


if __name__ == "__main__":
    raise SystemExit(main())
