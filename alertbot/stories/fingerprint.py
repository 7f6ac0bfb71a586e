"""An article's fingerprint: a MinHash of its content words' shingles, and its content hash.

    fingerprint(title, text)            -> Fingerprint   (MinHash + exact content hash)
    fingerprint_of(words)               -> the same, of words already read (Matcher.read)
    similarity(a, b)                    -> float         (estimated Jaccard of the shingles)

Method. Title and text are split by `alertbot.text.tokenize.words` and folded by
`normalize_word` (diacritics, tatweel, alef/hamza, ta marbuta, digits, case). For the
MinHash, function words are dropped and one leading clitic group is stripped (وال بال فال
كال لل ال و, when three letters remain), so بالضبعة and الضبعة shingle alike; words shorter
than three letters are dropped. The remaining words form 2-word shingles, hashed into a
MinHash with 128 permutations and a fixed seed (1), so fingerprints are equal across
processes and can be stored: `Fingerprint.to_bytes()` is 545 bytes (a version byte, the
32-byte sha256, 128 little-endian uint32 hash values). `content_hash` is the sha256 of all
normalised words joined by one space: texts differing only in whitespace, punctuation,
diacritics or spelling variants have the same hash, the store's "same content seen" rule.

The MinHash is datasketch 2.0's `MinHash(num_perm=128, seed=1, scheme="affine32")`, value
for value (tests/fixtures/minhash-golden.json was made with it), computed here in numpy:
importing datasketch loads scipy through its LSH module (about 56 MB) for nothing
alertbot uses. Each item is hashed by the first four bytes of its sha1 (little-endian),
mixed by the 32-bit MurmurHash3 finalizer, then sent through 128 affine maps
h -> a*h + b mod 2**32 (a odd, so each is a bijection) drawn from
`np.random.RandomState(1)`; each value is the least image over the items, 2**32 - 1 for
none.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from alertbot.text.normalize import normalize_word
from alertbot.text.tokenize import ArticleWords, article_words

NUM_PERM = 128
SEED = 1
SHINGLE = 2
# The lowest MinHash similarity with no wrong join on the labelled pairs when shingles alone
# decided (bench/story_threshold.py); copies and light rewrites score 0.5 and more.
THRESHOLD = 0.15

TERMS_REMEMBERED = 50_000  # word forms whose content term is remembered (most of a day's)

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


def content_words(title: str, text: str) -> list[str]:
    """The normalised, clitic-stripped content words of title and text, in order."""
    return _content(article_words(title, text).all())


def _content(normalised: list[str]) -> list[str]:
    return [term for term in map(content_term, normalised) if term is not None]


@lru_cache(maxsize=TERMS_REMEMBERED)
def content_term(word: str) -> str | None:
    """A normalised word as a content term: one leading clitic group stripped, when three
    letters remain; None for a function word or a word shorter than three letters."""
    if word in _STOPWORDS:
        return None
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 3:
            word = word[len(prefix) :]
            break
    return word if len(word) >= 3 else None


def shingles(tokens: list[str], size: int = SHINGLE) -> set[str]:
    """The set of `size`-word runs of `tokens` (the whole list when it is shorter)."""
    if len(tokens) <= size:
        return {" ".join(tokens)} if tokens else set()
    return {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}


def content_hash(title: str, text: str) -> bytes:
    """sha256 of every normalised word of title and text, joined by single spaces."""
    return _sha256(article_words(title, text).all())


def _sha256(normalised: list[str]) -> bytes:
    return hashlib.sha256(" ".join(normalised).encode("utf-8")).digest()


def minhash_values(items: set[str]) -> tuple[int, ...]:
    """The MinHash (NUM_PERM values, fixed SEED) of a set of strings."""
    if not items:
        return (_EMPTY,) * NUM_PERM
    sha1 = hashlib.sha1
    digests = b"".join([sha1(item.encode("utf-8")).digest()[:4] for item in items])
    h = _fmix32(np.frombuffer(digests, dtype="<u4").astype(np.uint32))
    a, b = _permutations()
    # One (items x NUM_PERM) product; uint32 arithmetic wraps, which is the mod 2**32.
    return tuple((h[:, None] * a + b).min(axis=0).tolist())


def fingerprint(title: str, text: str, size: int = SHINGLE) -> Fingerprint:
    """The fingerprint of an article: MinHash of its shingles and its content hash."""
    return fingerprint_of(article_words(title, text), size)


def fingerprint_of(words: ArticleWords, size: int = SHINGLE) -> Fingerprint:
    """`fingerprint` of an article's words already read (`Matcher.read` gives them)."""
    normalised = words.all()
    return Fingerprint(minhash_values(shingles(_content(normalised), size)), _sha256(normalised))


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard similarity of the two texts' shingle sets (1.0 for equal content)."""
    if a.content_hash == b.content_hash:
        return 1.0
    return float(np.mean(np.asarray(a.hashvalues) == np.asarray(b.hashvalues)))


_EMPTY = (1 << 32) - 1


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer on each value (a bijection that spreads the bits)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The affine maps' (a, b), drawn once from the fixed seed on first use (not at import):
    all 128 odd multipliers first, then the 128 offsets, as datasketch draws them."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b
