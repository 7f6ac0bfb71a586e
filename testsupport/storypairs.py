"""The hand-labelled story pairs and how a clustering of the corpus stream scores on them.

    stream_items()       the corpus in publication order, as `alertbot stories` reads it
    labelled_pairs()     tests/fixtures/story-pairs*.toml: a, b, same, kind
    figures(results, pairs)   the issue's four figures (and the counts behind them)

Labelling rule (the fixtures' headers say it too): "same" when a reader alerted to one
would call the other a repeat: the same meeting, strike, statement or decision, from any
outlet, or a follow-up within about two days that adds no new event; "different" for
different events on the same topic in the same week. Every pair was read in full.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from alertbot.stories.stream import StreamItem, StreamResult
from testsupport.shared import corpus

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
PAIR_FILES = ("story-pairs.toml", "story-pairs-part1.toml", "story-pairs-part2.toml")


def published(row: dict[str, Any]) -> datetime:
    """A corpus row's publication time: RFC 2822, "crawled <RFC 2822>", or a date."""
    raw = str(row.get("date") or "").removeprefix("crawled ").strip()
    try:
        return parsedate_to_datetime(raw).astimezone(UTC)
    except (TypeError, ValueError):
        return datetime.fromisoformat(raw[:10]).replace(tzinfo=UTC)


def stream_items() -> list[StreamItem]:
    """The corpus as stream items, in publication order (ties in file order)."""
    rows = sorted(enumerate(corpus()), key=lambda ir: (published(ir[1]), ir[0]))
    return [
        StreamItem(r["id"], r["title"] or "", r["text"], r["outlet"], published(r)) for _, r in rows
    ]


def labelled_pairs() -> list[dict[str, Any]]:
    """Every labelled pair: a, b, same (bool), kind (cross-outlet | same-outlet)."""
    pairs = []
    for name in PAIR_FILES:
        for p in tomllib.loads((FIXTURES / name).read_text(encoding="utf-8"))["pair"]:
            same = p["same"] if "same" in p else p["label"] == "same"
            pairs.append({"a": p["a"], "b": p["b"], "same": same,
                          "kind": p.get("kind", "cross-outlet")})  # fmt: skip
    return pairs


def outcome(results: dict[str, StreamResult], a: str, b: str) -> str:
    """ "joined", "related" or "apart" for a pair, by the later item's relation."""
    ra, rb = results[a], results[b]
    if ra.story == rb.story:
        return "joined"
    if rb.related_to == ra.story or ra.related_to == rb.story:
        return "related"
    return "apart"


def figures(results: dict[str, StreamResult], pairs: list[dict[str, Any]]) -> dict[str, float]:
    """The four quality figures of the issue, and the counts behind them."""
    same = [p for p in pairs if p["same"]]
    cross_diff = [p for p in pairs if not p["same"] and p["kind"] == "cross-outlet"]
    outlet_diff = [p for p in pairs if not p["same"] and p["kind"] == "same-outlet"]
    different = cross_diff + outlet_diff
    got = {id(p): outcome(results, p["a"], p["b"]) for p in pairs}
    return {
        "same pairs": len(same),
        "different pairs": len(different),
        "same-outlet different pairs": len(outlet_diff),
        "repeats quieted": sum(got[id(p)] != "apart" for p in same) / len(same),
        "same joined": sum(got[id(p)] == "joined" for p in same) / len(same),
        "events hidden": sum(got[id(p)] == "joined" for p in different) / len(different),
        "related": sum(got[id(p)] == "related" for p in different) / len(different),
        "same-outlet hidden": sum(got[id(p)] == "joined" for p in outlet_diff) / len(outlet_diff),
    }
