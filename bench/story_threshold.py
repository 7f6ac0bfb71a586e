"""Precision and recall of "same story" over the hand-labelled pairs, by threshold and shingle.

    uv run python bench/story_threshold.py

Reads tests/fixtures/story-pairs.toml and the ANT items of ../shared/corpus/arabic-news.jsonl,
prints, for 1-, 2- and 3-word shingles of content words, the exact Jaccard spread of the
same-event and different-event pairs, the MinHash precision/recall at a range of thresholds,
the similarity of the two seed articles, and the time to fingerprint one article.
"""

from __future__ import annotations

import json
import statistics
import time
import tomllib
from pathlib import Path

from alertbot.stories.fingerprint import content_words, fingerprint, shingles, similarity

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "arabic-news.jsonl"
SEEDS = ROOT.parent / "shared" / "fixtures" / "seed-articles"
PAIRS = ROOT / "tests" / "fixtures" / "story-pairs.toml"
THRESHOLDS = (0.05, 0.08, 0.10, 0.12, 0.15, 0.20, 0.25, 0.30)


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity."""
    return len(a & b) / len(a | b) if a | b else 0.0


def main() -> None:
    """Print the tables."""
    rows = {}
    with CORPUS.open(encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["id"].startswith("ant-"):
                rows[row["id"]] = row
    pairs = tomllib.loads(PAIRS.read_text(encoding="utf-8"))["pair"]
    seed_a, seed_b = ((SEEDS / f"sisi-naryshkin-{x}.txt").read_text() for x in "ab")
    same = sum(p["same"] for p in pairs)
    print(f"{len(pairs)} labelled pairs: {same} same event, {len(pairs) - same} different\n")
    for size in (1, 2, 3):
        exact = {True: [], False: []}
        est = []
        for p in pairs:
            a, b = rows[p["a"]], rows[p["b"]]
            ta, tb = (content_words(r["title"], r["text"]) for r in (a, b))
            exact[p["same"]].append(jaccard(shingles(ta, size), shingles(tb, size)))
            fa = fingerprint(a["title"], a["text"], size)
            fb = fingerprint(b["title"], b["text"], size)
            est.append((similarity(fa, fb), p))
        seed_exact = jaccard(
            shingles(content_words("", seed_a), size), shingles(content_words("", seed_b), size)
        )
        seed_est = similarity(fingerprint("", seed_a, size), fingerprint("", seed_b, size))
        pos, neg = sorted(exact[True]), sorted(exact[False])
        print(f"== {size}-word shingles")
        print(
            f"exact Jaccard: same min {pos[0]:.3f} median {statistics.median(pos):.3f}"
            f" | different max {neg[-1]:.3f} | seed articles {seed_exact:.3f}"
            f" (MinHash {seed_est:.3f})"
        )
        print("threshold  precision  recall  TP  FP  FN   false joins")
        for t in THRESHOLDS:
            tp = sum(1 for s, p in est if s >= t and p["same"])
            fp = [p for s, p in est if s >= t and not p["same"]]
            fn = same - tp
            prec = tp / (tp + len(fp)) if tp + len(fp) else 1.0
            wrong = " ".join(f"{p['a']}/{p['b']}" for p in fp)
            print(
                f"{t:9.2f}  {prec:9.2f}  {tp / same:6.2f}  {tp:2d}  {len(fp):2d}  {fn:2d}   {wrong}"
            )
        print()
    texts = list(rows.values())[:500]
    start = time.perf_counter()
    for r in texts:
        fingerprint(r["title"], r["text"])
    per = (time.perf_counter() - start) / len(texts)
    mean_len = statistics.mean(len(r["text"]) for r in texts)
    print(f"fingerprint: {per * 1000:.2f} ms per article ({mean_len:.0f} characters on average)")


if __name__ == "__main__":
    main()
