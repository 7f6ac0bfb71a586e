"""What wider reading margins would add: the corpus words a watch would gain.

`alertbot.text.lemmatize.TEXT_MARGIN` keeps, for each word of a text, the readings whose
lemma is at most that far (in log-probability) below its best one. This script matches a
few watch words over every distinct Arabic word of the corpus with the current margin and
with wider ones, and prints the words each wider margin would add, with their counts.
Judge them by hand: additions that are real forms of the watch word argue for a wider
margin, additions that are other words argue against.

    CAMELTOOLS_DATA=... uv run python bench/margin_report.py [WORD ...]

It analyses ~70,000 distinct words once per margin: several minutes.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import alertbot.text.lemmatize as lemmatize
from alertbot.cli import open_lemmatizer
from alertbot.text.tokenize import tokenize
from alertbot.watch.match import Matcher, Watch

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "arabic-news.jsonl"
WORDS = "غزة روسيا مصر بوتين المخابرات هدنة نووي إطلاق النار وقف اتفاق حماس إسرائيل قطر سوريا"


def vocabulary(corpus: Path) -> collections.Counter[str]:
    """Every distinct Arabic word surface of the corpus, with its count."""
    counts: collections.Counter[str] = collections.Counter()
    with corpus.open(encoding="utf-8") as fh:
        for line in fh:
            item = json.loads(line)
            for field in (item.get("title") or "", item["text"]):
                counts.update(t.surface for t in tokenize(field) if t.arabic)
    return counts


def main() -> None:
    """Print, per wider margin, the words each watch word would newly match."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("words", nargs="*", default=WORDS.split())
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--margins", default="1.0,2.0,100")
    args = parser.parse_args()

    lemmatizer = open_lemmatizer()
    vocab = vocabulary(args.corpus)
    print(f"{len(vocab):,} distinct Arabic words; current TEXT_MARGIN = {lemmatize.TEXT_MARGIN}")

    def matched(margin: float) -> dict[str, dict[str, int]]:
        lemmatize.TEXT_MARGIN = margin
        matcher = Matcher([Watch(w, w) for w in args.words], lemmatizer)
        lemmatizer._cache.clear()  # the analyses depend on the margin
        out: dict[str, dict[str, int]] = {w: {} for w in args.words}
        for surface, count in vocab.items():
            for m in matcher.match_article(None, surface):
                out[m.watch][surface] = count
        return out

    base = matched(lemmatize.TEXT_MARGIN)
    for margin in (float(m) for m in args.margins.split(",")):
        wider = matched(margin)
        print(f"--- margin {margin}")
        for word in args.words:
            gained = {s: c for s, c in wider[word].items() if s not in base[word]}
            if gained:
                top = sorted(gained.items(), key=lambda kv: -kv[1])[:25]
                print(f"  {word}: +{len(gained)}", " ".join(f"{s}:{c}" for s, c in top))
        print("  (nothing else)")


if __name__ == "__main__":
    main()
