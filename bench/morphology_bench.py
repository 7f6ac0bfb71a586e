"""Benchmark of the morphology database: load time, memory and word-analysis rates.

Each scenario runs in a process of its own (so that its memory high-water mark is its own),
over the Arabic words of the first ARTICLES corpus articles, every token in text order (as
matching reads them: repeated words hit the caches):

- stock:      unmodified camel-tools (MorphologyDB with every feature), for reference;
- first start: an empty state folder: the database is parsed (compact) and its tables file
              written; the pass is cold (every distinct form analysed by camel-tools);
- restart:    the state folder the first start left: cold-after-restart, every form
              answered by the persistent cache, camel-tools not even loaded;
- warmed:     the same, with the memory cache warmed from the persistent one first
              (`Lemmatizer.warm_up`, as `alertbot run` does on its loading thread);
- new words:  the same state, a pass over the next ARTICLES articles (mostly new forms):
              camel-tools loaded from the tables file when the first one needs it.

Each prints the open time, memory after opening (VmHWM, VmRSS, PSS) and after the passes,
and words/s for the first pass and for a second, warm pass in the same process. Then it
times `alertbot match --text` in a child process, with and without the caches. A benchmark,
not a test: it never fails.

    export CAMELTOOLS_DATA=/path/to/camel-data
    uv run python bench/morphology_bench.py [--articles N] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MATCH_TEXT = "استقبل الرئيس عبد الفتاح السيسي سيرغي ناريشكين في القاهرة لبحث محطة الضبعة"


def memory() -> dict[str, float]:
    """This process's peak and current resident memory and its PSS, in MB."""
    out = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                out[key] = int(value.split()[0]) / 1024
    with open("/proc/self/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                out["Pss"] = int(line.split()[1]) / 1024
    return out


def corpus_words(first: int, count: int) -> list[str]:
    """The Arabic word tokens of corpus articles [first, first + count), in order."""
    sys.path.insert(0, str(ROOT))
    from alertbot.text.tokenize import is_arabic, words
    from testsupport import shared

    rows = shared.corpus()[first : first + count]
    return [
        surface
        for row in rows
        for field in (row.get("title") or "", row["text"])
        for _, _, surface in words(field)
        if is_arabic(surface)
    ]


def child(scenario: str, state: Path, articles: int) -> dict[str, Any]:
    """One scenario, in this process."""
    from alertbot import camel_data

    database = camel_data.require_installed(camel_data.camel_data_dir()).database
    tokens = corpus_words(articles if scenario == "new words" else 0, articles)
    before = memory()
    t0 = time.perf_counter()
    if scenario == "stock":
        from camel_tools.morphology.analyzer import Analyzer
        from camel_tools.morphology.database import MorphologyDB

        from alertbot.text.lemmatize import Lemmatizer

        db = MorphologyDB(str(database), "a")
        lemmatizer = Lemmatizer(Analyzer(db, backoff="NOAN_PROP"))
    else:
        from alertbot.text.lemmatize import load_lemmatizer

        lemmatizer = load_lemmatizer(database, state=state)
        if scenario == "warmed":
            lemmatizer.warm_up()
    opened = time.perf_counter() - t0
    after_open = memory()
    rates = []
    for _ in range(2):
        t = time.perf_counter()
        for surface in tokens:
            lemmatizer.analyze(surface)
        rates.append(len(tokens) / (time.perf_counter() - t))
    lemmatizer.close()
    return {
        "scenario": scenario,
        "open_s": opened,
        "tokens": len(tokens),
        "distinct": len(set(tokens)),
        "before": before,
        "after_open": after_open,
        "after_passes": memory(),
        "first_rate": rates[0],
        "warm_rate": rates[1],
        "camel_loaded": "camel_tools.morphology.analyzer" in sys.modules,
    }


def run_child(scenario: str, state: Path, articles: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", scenario, "--state", str(state),
         "--articles", str(articles)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def time_match(config: Path, repeat: int) -> list[float]:
    """Wall seconds of `alertbot match --config CONFIG --text ...`, `repeat` times."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "alertbot", "match", "--config", str(config),
             "--text", MATCH_TEXT],
            capture_output=True, check=True, cwd=ROOT,
        )  # fmt: skip
        times.append(time.perf_counter() - t)
    return times


def main() -> None:
    """Run every scenario in a child process and print what each measured."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3, help="runs of `alertbot match`")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.state, args.articles)))
        return
    print(f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        results = [
            run_child(scenario, state, args.articles)
            for scenario in ("stock", "first start", "restart", "warmed", "new words")
        ]
        print(f"{results[0]['tokens']:,} Arabic tokens of {args.articles} articles,"
              f" {results[0]['distinct']:,} distinct")  # fmt: skip
        print(f"{'scenario':<12} {'open s':>7} {'camel':>6} {'HWM':>6} {'RSS':>6} {'PSS':>6}"
              f" {'HWM end':>8} {'1st pass w/s':>13} {'warm w/s':>10} {'ratio':>6}")  # fmt: skip
        for r in results:
            o, e = r["after_open"], r["after_passes"]
            print(
                f"{r['scenario']:<12} {r['open_s']:>7.2f} {r['camel_loaded']!s:>6}"
                f" {o['VmHWM']:>6.0f} {o['VmRSS']:>6.0f} {o['Pss']:>6.0f} {e['VmHWM']:>8.0f}"
                f" {r['first_rate']:>13,.0f} {r['warm_rate']:>10,.0f}"
                f" {r['first_rate'] / r['warm_rate']:>6.2f}"
            )
        print("(memory in MB after opening, HWM end after both passes; ratio = first / warm)")
        config = Path(tmp) / "alertbot.toml"
        default = (ROOT / "config" / "alertbot.toml").read_text(encoding="utf-8")
        watches = default[default.index("\n[[watch]]") :]  # the default watches, a fresh state
        database = json.dumps(str(Path(tmp) / "match" / "alertbot.db"))
        config.write_text(f"database = {database}\n\n{watches}", encoding="utf-8")
        for label in ("first (no caches)", "later (cached)"):
            times = time_match(config, 1 if label.startswith("first") else args.repeat)
            spread = f"{min(times):.2f}–{max(times):.2f}" if len(times) > 1 else f"{times[0]:.2f}"
            print(f"alertbot match --text, {label}: median {statistics.median(times):.2f} s"
                  f" ({spread} s over {len(times)})")  # fmt: skip


if __name__ == "__main__":
    main()
