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

Then the cost per article, in CPU time, on the same articles with the default config's
watches: matching alone (`Matcher.match_article`), the pipeline's one pass that matches and
reads every word (`Matcher.read`), the terms and fingerprint made from those words, and the
clustering (decide, add). Stories cost the pass's extra over matching plus the rest; the
issue wants that at most matching's. Then the memory of the clusterer with 5,000 stories in
its window. `--sweep` prints the four figures for a grid of thresholds.
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
    article_of,
    cluster_articles,
)
from testsupport.storypairs import figures, labelled_pairs, stream_items

ROOT = Path(__file__).resolve().parent.parent


def run_read(articles: list[tuple[str, Any]], join: float, related: float) -> dict[str, Any]:
    """Clustering alone, on articles read beforehand, at the given thresholds."""
    clusterer = cluster.Clusterer[int](join=join, related=related)
    return {r.id: r for r in cluster_articles(articles, clusterer)}


def reader() -> Any:
    """The pipeline's reading pass over the real morphology database, and the lemmatizer."""
    from alertbot.cli import open_lemmatizer
    from alertbot.stories.stream import word_reader

    lemmatizer = open_lemmatizer()
    return word_reader(lemmatizer), lemmatizer


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
    read_words, lemmatizer = reader()
    print(f"{len(items)} articles, {len(pairs)} labelled pairs")

    read = [(item.id, article_of(item, read_words)) for item in items]  # warms the caches too
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

    cost = _cost(items, lemmatizer, read, args)
    print("\ncost per article, warm analyzer cache (median of the passes, min–max)")
    for label, key in (
        ("matching (match_article)", "match"),
        ("the shared pass (read)", "read"),
        ("  of which story words", "words"),
        ("terms + fingerprint", "terms"),
        ("clustering (decide, add)", "cluster"),
        ("stories in all", "stories"),
    ):
        print(f"  {label:26} {_ms(cost[key])}")
    ratios = [s / m for s, m in zip(cost["stories"], cost["match"], strict=True)]
    print(f"  stories ÷ matching, per article: {statistics.median(ratios):.2f}"
          f" ({min(ratios):.2f}–{max(ratios):.2f}); the fingerprint alone:"
          f" {statistics.median(cost['print']) * 1000:.2f} ms (the store needs its content"
          " hash either way)")  # fmt: skip
    print(f"  index memory, 5,000 stories in the window: {_memory(items) / 1e6:.1f} MB")
    return 0


def _cost(
    items: list[StreamItem], lemmatizer: Any, read: list[tuple[str, Any]], args: Any
) -> dict[str, list[float]]:
    """Seconds per article of each part, per timed pass, all on the same articles with the
    config's watches: matching alone; the pass that matches and reads the words (the
    pipeline's); terms and fingerprint from those words; the clustering itself. What stories
    cost is the pass's extra over matching, plus the rest."""
    from alertbot.config import load_config
    from alertbot.stories.fingerprint import fingerprint_of
    from alertbot.stories.vectors import terms_of
    from alertbot.watch.match import Matcher

    matcher = Matcher(load_config(ROOT / "config" / "alertbot.toml").watches, lemmatizer)
    for item in items:  # warm the matcher's word cache, as a running bot's is
        matcher.read(item.title, item.text)
    n = len(items)
    parts = ("match", "read", "words", "terms", "print", "cluster", "stories")
    out: dict[str, list[float]] = {k: [] for k in parts}
    for _ in range(args.repeat):
        start = time.process_time()
        for item in items:
            matcher.match_article(item.title, item.text)
        match = (time.process_time() - start) / n
        start = time.process_time()
        words = [matcher.read(item.title, item.text)[1] for item in items]
        whole = (time.process_time() - start) / n
        start = time.process_time()
        for w in words:
            terms_of(w)
        terms = (time.process_time() - start) / n
        start = time.process_time()
        for w in words:
            fingerprint_of(w)
        prints = (time.process_time() - start) / n
        start = time.process_time()
        run_read(read, args.join, args.related)
        clustering = (time.process_time() - start) / n
        extra = max(whole - match, 0.0)
        for key, value in (("match", match), ("read", whole), ("words", extra),
                           ("terms", terms + prints), ("print", prints),
                           ("cluster", clustering),
                           ("stories", extra + terms + prints + clustering)):  # fmt: skip
            out[key].append(value)
    return out


def _ms(values: list[float]) -> str:
    return (f"{statistics.median(values) * 1000:.3f} ms"
            f" ({min(values) * 1000:.3f}–{max(values) * 1000:.3f})")  # fmt: skip


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
    from alertbot.stories.fingerprint import fingerprint_of
    from alertbot.stories.vectors import terms_of
    from alertbot.text.tokenize import article_words

    for n, item in enumerate(squeezed):
        words = article_words(item.title, item.text)
        article = Article(item.outlet, item.published, terms_of(words), fingerprint_of(words))
        clusterer.add(n, article, clusterer.decide(article))
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(clusterer) == 5000
    return held


if __name__ == "__main__":
    raise SystemExit(main())
