"""Cost of transliteration variants (issue 14): warm matching per article of watches on
foreign names, with variants next to the same watches pinned (`=word`: no variants), on
the same corpus articles in the same run; compile time per watch; and the variant
fixture's precision and recall (tests/fixtures/name-variants.toml).

    export CAMELTOOLS_DATA=/path/to/camel-data
    uv run python bench/variants_bench.py [--repeat 5]

It prints figures, never fails. Target: with variants / pinned <= 1.3.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tomllib
from pathlib import Path

from alertbot.cli import open_lemmatizer
from alertbot.watch.match import Matcher, Watch
from testsupport import sourcefixtures as fx

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "name-variants.toml"
TARGET = 1.3


def per_article_ms(matcher: Matcher, articles: list[tuple[str, str]]) -> float:
    for title, text in articles:  # warm: every form in the matcher's cache
        matcher.match_article(title, text)
    t0 = time.process_time()
    for title, text in articles:
        matcher.match_article(title, text)
    return (time.process_time() - t0) * 1000 / len(articles)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    names = tomllib.loads(FIXTURE.read_text(encoding="utf-8"))["name"]
    lemmatizer = open_lemmatizer()
    articles = [(r["title"], r["text"]) for r in fx.corpus_rows()]
    watches = [Watch(n["query"], n["query"]) for n in names]
    pinned = [Watch(n["query"], "=" + n["query"]) for n in names]
    t0 = time.perf_counter()
    Matcher(watches, lemmatizer)
    compile_ms = (time.perf_counter() - t0) * 1000 / len(watches)
    ratios = []
    for _ in range(args.repeat):
        loose = per_article_ms(Matcher(watches, lemmatizer), articles)
        exact = per_article_ms(Matcher(pinned, lemmatizer), articles)
        ratios.append(loose / exact)
        print(f"  with variants {loose:.3f} ms/article, pinned {exact:.3f}: {loose / exact:.2f}")
    print(f"{len(watches)} name watches on {len(articles)} corpus articles, warm")
    print(
        f"ratio with variants / pinned: median {statistics.median(ratios):.2f}"
        f" (spread {min(ratios):.2f}-{max(ratios):.2f}), target <= {TARGET}"
    )
    print(f"compile: {compile_ms:.2f} ms per watch")
    sys.path.insert(0, str(ROOT / "tests"))
    import test_name_variants as judged

    missed, wrong, same = judged._score(lemmatizer)
    others = sum(len(n["other"]) for n in names)
    found = same - len(missed)
    print(
        f"fixture: {len(names)} names; recall {found}/{same} = {found / same:.2f};"
        f" look-alikes matched {len(wrong)}/{others}; precision"
        f" {found / (found + len(wrong)):.2f}"
    )
    print("  missed: " + ", ".join(missed))


if __name__ == "__main__":
    main()
