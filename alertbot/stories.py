"""Story clustering: the same news from another outlet, or lightly rewritten, is one story.

    fingerprint(title, text)            -> Fingerprint   (MinHash + exact content hash)
    similarity(a, b)                    -> float         (estimated Jaccard of the shingles)
    StoryIndex.find(fp, published)      -> story id | None
    StoryIndex.add(story_id, fp, published); StoryIndex.forget_before(cutoff)

Method. Title and text are split by `alertbot.text.tokenize.words` and folded by
`normalize_word` (diacritics, tatweel, alef/hamza, ta marbuta, digits, case). For the
MinHash, function words are dropped and one leading clitic group is stripped (وال بال فال
كال لل ال و, when three letters remain), so بالضبعة and الضبعة shingle alike; words shorter
than three letters are dropped. The remaining words form 2-word shingles, hashed into a
datasketch MinHash with 128 permutations, a fixed seed (1) and the pinned "affine32"
scheme of datasketch 2.0, so fingerprints are equal across processes and can be stored:
`Fingerprint.to_bytes()` is 545 bytes (a version byte, the 32-byte sha256, 128
little-endian uint32 hash values). `content_hash` is the sha256 of
all normalised words joined by one space: texts differing only in whitespace, punctuation,
diacritics or spelling variants have the same hash, the store's "same content seen" rule.

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

import hashlib
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import numpy as np
from datasketch import MinHash

from alertbot.text.normalize import normalize_word
from alertbot.text.tokenize import words

NUM_PERM = 128
SEED = 1
SCHEME = "affine32"  # datasketch 2.0 permutation scheme: uint32 values
SHINGLE = 2
THRESHOLD = 0.15
WINDOW = timedelta(days=3)

_VERSION = 1
_HEADER = struct.Struct("<B32s")
_SIZE = _HEADER.size + 4 * NUM_PERM

# Function words dropped before shingling (already normalised: أ→ا, ى→ي, ة→ه).
_STOPWORD_TEXT = (
    "في من على إلى عن أن إن التي الذي الذين اللذين هذا هذه ذلك تلك هؤلاء مع كان كانت"
    " يكون قد لا ما لم لن أو ثم بعد قبل حتى كما عند بين كل قال وقال أضاف وأضاف أكد"
    " وأكد وفق خلال منذ هو هي هم انه أنه وهو وهي حيث أي غير أيضا وذلك لكن ولكن إذا"
    " فيه فيها منه منها عليه عليها إليه إليها the of and to in a on for"
)
_STOPWORDS = frozenset(normalize_word(w) for w in _STOPWORD_TEXT.split())
# One leading clitic group, longest first; stripped when at least three letters remain.
_PREFIXES = ("وال", "بال", "فال", "كال", "لل", "ال", "و")


@dataclass(frozen=True)
class Fingerprint:
    """A text's MinHash (128 uint32 values) and the sha256 of its normalised words."""

    hashvalues: tuple[int, ...]
    content_hash: bytes

    def to_bytes(self) -> bytes:
        """A compact encoding for SQLite: version, sha256, little-endian uint32 values."""
        values = np.asarray(self.hashvalues, dtype="<u4").tobytes()
        return _HEADER.pack(_VERSION, self.content_hash) + values

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        """Decode `to_bytes()` output; ValueError for anything else."""
        if len(data) != _SIZE or data[0] != _VERSION:
            raise ValueError(f"not a version-{_VERSION} fingerprint ({len(data)} bytes)")
        _, content_hash = _HEADER.unpack_from(data)
        values = np.frombuffer(data, dtype="<u4", offset=_HEADER.size)
        return cls(tuple(int(v) for v in values), content_hash)


def normalised_words(title: str, text: str) -> list[str]:
    """Every word of title and text, normalised (`normalize_word`), in order."""
    return [normalize_word(surface) for _, _, surface in words(f"{title}\n{text}")]


def content_words(title: str, text: str, normalised: list[str] | None = None) -> list[str]:
    """The normalised, clitic-stripped content words of title and text, in order."""
    out = []
    for word in normalised if normalised is not None else normalised_words(title, text):
        if word in _STOPWORDS:
            continue
        for prefix in _PREFIXES:
            if word.startswith(prefix) and len(word) - len(prefix) >= 3:
                word = word[len(prefix) :]
                break
        if len(word) >= 3:
            out.append(word)
    return out


def shingles(tokens: list[str], size: int = SHINGLE) -> set[str]:
    """The set of `size`-word runs of `tokens` (the whole list when it is shorter)."""
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def content_hash(title: str, text: str, normalised: list[str] | None = None) -> bytes:
    """sha256 of every normalised word of title and text, joined by single spaces."""
    joined = " ".join(normalised if normalised is not None else normalised_words(title, text))
    return hashlib.sha256(joined.encode("utf-8")).digest()


def minhash_values(items: set[str]) -> tuple[int, ...]:
    """The MinHash (NUM_PERM values, fixed SEED) of a set of strings."""
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_permutations())
    m.update_batch([s.encode("utf-8") for s in sorted(items)])
    return tuple(int(v) for v in m.hashvalues)


def fingerprint(title: str, text: str, size: int = SHINGLE) -> Fingerprint:
    """The fingerprint of an article: MinHash of its shingles and its content hash."""
    normalised = normalised_words(title, text)
    return Fingerprint(
        minhash_values(shingles(content_words(title, text, normalised), size)),
        content_hash(title, text, normalised),
    )


def fingerprints(pairs: list[tuple[str, str]]) -> list[Fingerprint]:
    """`fingerprint` of each (title, text): one call, for handing a batch to a process pool."""
    return [fingerprint(title, text) for title, text in pairs]


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets (1.0 for equal content)."""
    if a.content_hash == b.content_hash:
        return 1.0
    return float(np.mean(np.asarray(a.hashvalues) == np.asarray(b.hashvalues)))


@dataclass(frozen=True)
class StoryMatch:
    """The story an article joins, and how similar it is to that story's fingerprint."""

    story_id: str
    similarity: float


class StoryIndex:
    """Recent stories' fingerprints in memory; the store rebuilds it from SQLite at start.

    The hash values live in one numpy matrix that grows by doubling, with the publication
    times beside it as epoch seconds, so `match` is a few vectorised operations however
    many stories are indexed, and `add` is amortised O(1).
    """

    def __init__(self, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._ids: list[str] = []
        self._values = np.empty((64, NUM_PERM), dtype=np.uint32)
        self._times = np.empty(64, dtype=np.float64)
        self._hashes: dict[bytes, int] = {}  # content hash -> latest row with it
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, story_id: str, fp: Fingerprint, published: datetime) -> None:
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

    def find(self, fp: Fingerprint, published: datetime, window: timedelta = WINDOW) -> str | None:
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


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The fixed-seed permutations, built once on first use (not at import)."""
    return MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations


def _require_aware(when: datetime) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when.isoformat()}: pass a timezone-aware one")
