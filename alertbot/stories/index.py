"""The story index: which recent story an article's fingerprint joins, if any.

    StoryIndex.find(fp, published)      -> StoryId | None
    StoryIndex.add(story_id, fp, published); StoryIndex.forget_before(cutoff)

Threshold, measured by `bench/story_threshold.py` on 51 hand-labelled cross-outlet pairs
(`tests/fixtures/story-pairs.toml`: 30 same event, 21 different events on the same topic
within three days) from the ANT corpus. Exact Jaccard of the shingles (content words), and
precision/recall of the MinHash estimate at the best threshold with no false join:

    shingle  same min/median  different max  seed articles  P/R at 0.15  P/R at 0.10
    1 word   0.139 / 0.269    0.263          0.223          0.73 / 0.90  0.71 / 0.97
    2 words  0.020 / 0.136    0.120          0.042          1.00 / 0.43  0.90 / 0.63
    3 words  0.000 / 0.107    0.088          0.004          1.00 / 0.37  0.93 / 0.47

Independent rewrites of one event by two outlets share words but few phrases, and so do two
reports of different events on one topic (two Gaza strikes, two Ghouta truce stories), so no
threshold separates them all. Single words are the worst: the two seed articles (Sisi
receiving Naryshkin on two visits months apart) score 0.22, above half the true pairs.
2-word shingles with THRESHOLD = 0.15 give precision 1.00 and recall 0.43 (13 of 30) and
keep the seed articles at 0.04 (MinHash 0.06); 0.12 reaches 0.57 recall on this sample, but
the highest different-event pair is 0.120 exactly and MinHash at 128 permutations is only
good to about ±0.03 near J = 0.1, so 0.15 leaves that margin. A wrong join hides a story from
the reader; a missed join only costs a second alert. Light rewrites (the same copy with
sentences edited or added, other boilerplate) score 0.5 and above, far over the threshold;
the fingerprint does not claim to join independently written reports of one event.

Window. A story joins only stories published within `window` (3 days by default) of it:
the same wire copy reappears within hours or days, while the same words months apart (the
seed articles) are a new visit, a new story.

Index. `StoryIndex` scans a numpy matrix of the hash values in the window: a few thousand
stories in three days take about 2 ms per `find` (5,000 stories, measured). MinHashLSH is not used:
at a threshold of 0.15 its banding needs bands of one or two rows, i.e. near a full
scan anyway, with more memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from alertbot.stories import WINDOW, StoryId
from alertbot.stories.fingerprint import NUM_PERM, Fingerprint

THRESHOLD = 0.15


@dataclass(frozen=True)
class StoryMatch:
    """The story an article joins, and how similar it is to that story's fingerprint."""

    story_id: StoryId
    similarity: float


class StoryIndex:
    """Recent stories' fingerprints in memory; the store rebuilds it from SQLite at start.

    The hash values live in one numpy matrix that grows by doubling, with the publication
    times beside it as epoch seconds, so `match` is a few vectorised operations however
    many stories are indexed, and `add` is amortised O(1).
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._ids: list[StoryId] = []
        self._values = np.empty((64, NUM_PERM), dtype=np.uint32)
        self._times = np.empty(64, dtype=np.float64)
        self._hashes: dict[bytes, int] = {}  # content hash -> latest row with it
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, story_id: StoryId, fp: Fingerprint, published: datetime) -> None:
        """Remember a story's fingerprint (a story may be added with several)."""
        _require_aware(published)
        if self._size == len(self._times):
            self._values = np.concatenate([self._values, np.empty_like(self._values)])
            self._times = np.concatenate([self._times, np.empty_like(self._times)])
        row = self._size
        self._values[row] = np.asarray(fp.hashvalues, dtype=np.uint32)
        self._times[row] = published.timestamp()
        self._ids.append(story_id)
        self._hashes[fp.content_hash] = row
        self._size += 1

    def match(
        self, fp: Fingerprint, published: datetime, window: timedelta = WINDOW
    ) -> StoryMatch | None:
        """The most similar story at or above the threshold within `window`, if any."""
        _require_aware(published)
        if not self._size:
            return None
        at = published.timestamp()
        times = self._times[: self._size]
        near = np.abs(times - at) <= window.total_seconds()
        if not near.any():
            return None
        same = self._hashes.get(fp.content_hash)
        if same is not None and near[same]:
            return StoryMatch(self._ids[same], 1.0)
        rows = np.flatnonzero(near)
        sims = (self._values[rows] == np.asarray(fp.hashvalues, dtype=np.uint32)).mean(axis=1)
        best = int(np.argmax(sims))
        if sims[best] < self.threshold:
            return None
        return StoryMatch(self._ids[int(rows[best])], float(sims[best]))

    def find(
        self, fp: Fingerprint, published: datetime, window: timedelta = WINDOW
    ) -> StoryId | None:
        """The id of the story this fingerprint joins, or None for a new story."""
        found = self.match(fp, published, window)
        return found.story_id if found else None

    def forget_before(self, cutoff: datetime) -> None:
        """Drop the fingerprints of stories published before `cutoff`."""
        _require_aware(cutoff)
        keep = np.flatnonzero(self._times[: self._size] >= cutoff.timestamp())
        capacity = max(64, len(keep))
        values = np.empty((capacity, NUM_PERM), dtype=np.uint32)
        times = np.empty(capacity, dtype=np.float64)
        values[: len(keep)] = self._values[keep]
        times[: len(keep)] = self._times[keep]
        self._values, self._times = values, times
        self._ids = [self._ids[i] for i in keep]
        self._size = len(keep)
        old_rows = {int(old): new for new, old in enumerate(keep)}
        self._hashes = {h: old_rows[r] for h, r in self._hashes.items() if r in old_rows}


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when.isoformat()}: pass a timezone-aware one")
