"""What the bot's commands do, without Telegram: parse arguments, change the store, explain.

    parse_watch_args(text)      "/watch NAME: QUERY" or "/watch QUERY"  -> Watch
    parse_duration_arg(text)    "/mute 2h30m"                          -> timedelta
    WatchService.trial          parse and compile /watch's query        -> WatchTrial
    WatchService.keep           store it for the chat                 -> WatchAdded
    WatchService.backtest       what it would have matched recently   -> Backtest
    WatchService.remove         /unwatch NAME                          -> bool
    WatchService.test           /test TEXT: what the watches match in it, highlighted

Wrong arguments raise `UsageError`, whose message is a one-line answer for the user; a
query that does not parse raises the parser's `QuerySyntaxError` unchanged. Everything here
is synchronous (the handler runs it off the event loop: store work on the store runner's
threads, matching a text on a thread of its own), works on the store it is handed, and
reads the time only through the clock it is given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from alertbot.durations import DurationError, parse_duration
from alertbot.errors import AlertbotError, QuerySyntaxError
from alertbot.store import Store
from alertbot.text.lemmatize import Lemmatizer
from alertbot.watch.match import Matcher, Watch
from alertbot.watch.query import parse_query
from alertbot.watch.snippet import Snippet, snippet_for

MAX_NAME = 40
MAX_QUERY = 500
MAX_WATCHES = 50
EXAMPLES = 3
SPELLINGS = 5  # other spellings of a name shown, the commonest first
MIN_MUTE = timedelta(minutes=1)
MAX_MUTE = timedelta(days=30)

WATCH_USAGE = "usage: /watch QUERY or /watch NAME: QUERY"
UNWATCH_USAGE = "usage: /unwatch NAME"
TEST_USAGE = "usage: /test TEXT"
MUTE_USAGE = "usage: /mute DURATION, e.g. /mute 2h (1m to 30d)"

_COLONS = ":\uff1a"  # ASCII and fullwidth; Arabic text uses the ASCII colon
_NOT_IN_NAME = set('"“”«»„()')


class UsageError(AlertbotError):
    """A command's arguments are wrong; `str(e)` is a one-line answer for the user."""


@dataclass(frozen=True)
class Example:
    """A stored item a new watch would have matched."""

    title: str
    url: str
    source: str
    at: datetime
    date_only: bool = False  # `at` is a published day, its time of day unknown


@dataclass(frozen=True)
class Backtest:
    """What a watch would have matched among the items of the last `days` days."""

    days: int
    scanned: int
    count: int  # articles matched
    examples: tuple[Example, ...]  # newest first, one per story, at most EXAMPLES
    stories: int = 0  # the stories they make: several outlets' reports of one event are one
    # Per name word of the watch, the other spellings of it the matched articles carry, and
    # in how many articles: (("ترامب", (("ترمب", 46),)),).
    spellings: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()


@dataclass(frozen=True)
class WatchAdded:
    """The first answer to /watch: the watch stored and how it was understood (its
    backtest follows, `WatchService.backtest`)."""

    watch: Watch
    new: bool  # False when it replaced the query of a watch of the same name
    # (word as written, its lemmas as a user reads them): () for an Arabic name the
    # database does not know (matched by its letters); a Latin or Cyrillic word maps to itself.
    understood: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Hit:
    """One watch that matched the text of /test, with the matches marked."""

    watch: str
    field: str
    snippet: Snippet


def parse_watch_args(text: str) -> Watch:
    """The watch in /watch's arguments: "NAME: QUERY" or "QUERY" (named after itself)."""
    text = text.strip()
    if not text:
        raise UsageError(WATCH_USAGE)
    name, query = _split_name(text)
    if not query:
        raise UsageError(WATCH_USAGE)
    if len(query) > MAX_QUERY:
        raise UsageError(f"a query is at most {MAX_QUERY} characters ({len(query)} given)")
    if name is None:
        name = _short_name(query)
    elif len(name) > MAX_NAME:
        raise UsageError(f"a watch name is at most {MAX_NAME} characters ({len(name)} given)")
    return Watch(name, query)


def _split_name(text: str) -> tuple[str | None, str]:
    """(name, query) when the text starts with a plausible "NAME:", else (None, text)."""
    at = min((i for i in (text.find(c) for c in _COLONS) if i != -1), default=-1)
    if at == -1:
        return None, text
    name, query = text[:at].strip(), text[at + 1 :].strip()
    # A quote or parenthesis before the colon means it is inside the query ("وقف: النار").
    if not name or not query or _NOT_IN_NAME.intersection(name):
        return None, text
    return name, query


def _short_name(query: str) -> str:
    """The query as a name: one line, cut to MAX_NAME characters at a word boundary."""
    flat = " ".join(query.split())
    if len(flat) <= MAX_NAME:
        return flat
    cut = flat[: MAX_NAME + 1].rfind(" ")
    return flat[:cut] if cut > 0 else flat[:MAX_NAME]


def parse_duration_arg(text: str) -> timedelta:
    """/mute's duration: "90s", "30m", "2h", "1d" or combined ("2h30m"), 1m to 30d."""
    try:
        seconds = parse_duration(text)
    except DurationError:
        raise UsageError(MUTE_USAGE) from None
    if not MIN_MUTE.total_seconds() <= seconds <= MAX_MUTE.total_seconds():
        raise UsageError(MUTE_USAGE)
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class WatchTrial:
    """A /watch parsed and compiled, before it is stored."""

    watch: Watch
    understood: tuple[tuple[str, tuple[str, ...]], ...]


class WatchService:
    """A chat's own watches: try, keep, backtest, remove, test on a text.

    The methods that need the database take the store they read or write, so the bot runs
    the long read (`backtest`) on the store runner's read-only connection and the writes
    (`keep`, `remove`) on the store's thread; `trial` and `test` need no database. `add` is
    `trial` then `keep`, for one-off use.
    """

    def __init__(
        self,
        lemmatizer: Lemmatizer,
        clock: Callable[[], datetime],
        *,
        backtest_days: int = 7,
        backtest_limit: int = 5000,
    ) -> None:
        self._lemmatizer = lemmatizer
        self._clock = clock
        self._backtest_days = backtest_days
        self._backtest_limit = backtest_limit

    @property
    def backtest_days(self) -> int:
        """How many days back `backtest` looks."""
        return self._backtest_days

    def trial(self, text: str) -> WatchTrial:
        """/watch, first step: parse and compile the query (QuerySyntaxError is the user's
        to fix)."""
        watch = parse_watch_args(text)
        matcher = Matcher([watch], self._lemmatizer)
        return WatchTrial(watch, _understood(matcher, watch))

    def keep(self, store: Store, chat_id: int, trial: WatchTrial) -> WatchAdded:
        """/watch, second step: store the watch for the chat, if it has room for one more
        (committed when this returns)."""
        self._check_room(store, chat_id, trial.watch)
        new = store.add_watch(chat_id, trial.watch.name, trial.watch.query, self._clock())
        return WatchAdded(trial.watch, new, trial.understood)

    def add(self, store: Store, chat_id: int, text: str) -> WatchAdded:
        """/watch on one store: `trial`, then `keep`."""
        return self.keep(store, chat_id, self.trial(text))

    def _check_room(self, store: Store, chat_id: int, watch: Watch) -> None:
        existing = store.chat_watches(chat_id)
        key = watch.name.casefold()
        if len(existing) >= MAX_WATCHES and all(w.name.casefold() != key for w in existing):
            raise UsageError(
                f"this chat has {len(existing)} watches, the most it may have; /unwatch one first"
            )

    def backtest(self, store: Store, watch: Watch) -> Backtest:
        """/watch, last step: what `watch` would have matched among the items stored in the
        last days (at most `backtest_limit` of them, the newest), one example per story."""
        matcher = Matcher([watch], self._lemmatizer)
        since = self._clock() - timedelta(days=self._backtest_days)
        items = store.recent_items(since, self._backtest_limit)
        compiled = matcher.watches[0]
        matched = []
        spelt: dict[str, Counter[str]] = {}
        for item in items:
            found = matcher.match_article(item["title"], item["text"] or "")
            if found:
                matched.append(item)
                for word, forms in matcher.spellings(compiled, found).items():
                    spelt.setdefault(word, Counter()).update(forms)
        # One entry per story: an article filed under none is a story of its own.
        by_story = {
            ("story", i["story_id"]) if i["story_id"] is not None else ("item", n): i
            for n, i in reversed(list(enumerate(matched)))
        }
        firsts = sorted(by_story.values(), key=lambda i: i["at"], reverse=True)
        examples = tuple(
            Example(i["title"] or "", i["url"], i["source"], i["at"], i["date_only"])
            for i in firsts[:EXAMPLES]
        )
        spellings = tuple(
            (word, tuple(counts.most_common(SPELLINGS))) for word, counts in spelt.items()
        )
        return Backtest(
            self._backtest_days, len(items), len(matched), examples, len(by_story), spellings
        )

    def remove(self, store: Store, chat_id: int, name: str) -> bool:
        """/unwatch: remove a chat's watch by name (any case); False if it had none."""
        name = name.strip()
        if not name:
            raise UsageError(UNWATCH_USAGE)
        return store.remove_watch(chat_id, name)

    def test(self, watches: Sequence[Watch], text: str) -> list[Hit]:
        """/test: those of `watches` (the chat's, and the config's where the chat gets
        their alerts) that match TEXT, marked."""
        text = text.strip()
        if not text:
            raise UsageError(TEST_USAGE)
        matcher = Matcher([w for w in watches if _parses(w)], self._lemmatizer)
        hits = []
        for match in matcher.match_article(None, text):
            field = match.spans[0].field if match.spans else "text"
            hits.append(Hit(match.watch, field, snippet_for("", text, [match])))
        return hits


def _parses(watch: Watch) -> bool:
    """False for a stored query today's parser rejects: it cannot match, and must not
    keep the chat's other watches from being tried."""
    try:
        parse_query(watch.query)
    except QuerySyntaxError:
        return False
    return True


def _understood(matcher: Matcher, watch: Watch) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each distinct word of the (single) compiled watch with its lemmas or its other
    forms, for display."""
    return tuple((word, tuple(lemmas)) for word, lemmas in matcher.understood(matcher.watches[0]))
