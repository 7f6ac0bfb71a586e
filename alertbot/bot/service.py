"""What the bot's commands do, without Telegram: parse arguments, change the store, explain.

    parse_watch_args(text)      "/watch NAME: QUERY in: A, B" or "/watch QUERY" -> Watch
    parse_exclude_args(text)    "/exclude NAME: QUERY" or "/exclude QUERY"       -> Watch
    parse_duration_arg(text)    "/mute 2h30m"                          -> timedelta
    WatchService.trial          parse and compile /watch's query        -> WatchTrial
    WatchService.keep           store it for the chat (and its topic) -> WatchAdded
    WatchService.backtest       what it would have matched recently   -> Backtest
    WatchService.remove         /unwatch NAME                          -> bool
    WatchService.exclude        /exclude: parse, compile, store        -> ExclusionAdded
    WatchService.exclusion_backtest   what it would have silenced     -> ExclusionBacktest
    WatchService.unexclude      /unexclude NUMBER, NAME or QUERY       -> the one removed
    WatchService.test           /test TEXT: what the watches match in it, highlighted

Wrong arguments raise `UsageError`, whose message is a one-line answer for the user; a
query that does not parse raises the parser's `QuerySyntaxError` unchanged. Everything here
is synchronous (the handler runs it off the event loop: store work on the store runner's
threads, matching a text on a thread of its own), works on the store it is handed, and
reads the time only through the clock it is given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from alertbot.config import MAX_NAME, short_name
from alertbot.durations import DurationError, parse_duration
from alertbot.errors import AlertbotError, QuerySyntaxError
from alertbot.pipeline import counts_for
from alertbot.store import Store
from alertbot.text.lemmatize import Lemmatizer
from alertbot.watch.match import Matcher, Watch
from alertbot.watch.query import parse_query
from alertbot.watch.snippet import Snippet, snippet_for

MAX_QUERY = 500
MAX_WATCHES = 50
MAX_EXCLUSIONS = 50
EXAMPLES = 3
SPELLINGS = 5  # other spellings of a name shown, the commonest first
MIN_MUTE = timedelta(minutes=1)
MAX_MUTE = timedelta(days=30)

WATCH_USAGE = "usage: /watch QUERY or /watch NAME: QUERY, optionally ending in: SOURCE, SOURCE"
UNWATCH_USAGE = "usage: /unwatch NAME"
EXCLUDE_USAGE = "usage: /exclude QUERY or /exclude NAME: QUERY"
UNEXCLUDE_USAGE = "usage: /unexclude NUMBER or /unexclude NAME (/list shows them)"
TEST_USAGE = "usage: /test TEXT"
MUTE_USAGE = "usage: /mute DURATION, e.g. /mute 2h (1m to 30d)"

_COLONS = ":\uff1a"  # ASCII and fullwidth; Arabic text uses the ASCII colon
_NOT_IN_NAME = set('"“”«»„()')
# "in:" as a word of its own (after a space), then the source names; the last one counts.
_IN = re.compile(r"(?:^|\s)in\s*[:\uff1a]", re.IGNORECASE)
_SOURCE_SEPARATORS = re.compile(r"[,\u060c]")  # the ASCII and the Arabic comma
_QUOTES = '"“”«»„'


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
    """One watch (or exclusion) that matched the text of /test, with the matches marked."""

    watch: str
    field: str
    snippet: Snippet
    excludes: bool = False  # an exclusion: the text would alert nobody in the chat


@dataclass(frozen=True)
class ExclusionAdded:
    """The first answer to /exclude: the exclusion stored (its backtest follows)."""

    exclusion: Watch
    new: bool  # False when it replaced the query of an exclusion of the same name


@dataclass(frozen=True)
class ExclusionBacktest:
    """What an exclusion would have done to the items of the last `days` days: how many
    it matches, and how many of those matched the chat's watches (alerts it would have
    silenced), with examples of these, newest first, one per story."""

    days: int
    scanned: int
    matched: int
    silenced: int
    examples: tuple[Example, ...]


def parse_watch_args(text: str) -> Watch:
    """The watch in /watch's arguments: "NAME: QUERY" or "QUERY" (named after itself),
    optionally ending with "in: SOURCE, SOURCE" (the source names, checked when it is
    kept: `WatchService.keep`)."""
    text, sources = _split_sources(text.strip())
    watch = _named_query(text, WATCH_USAGE)
    return replace(watch, sources=sources)


def parse_exclude_args(text: str) -> Watch:
    """The exclusion in /exclude's arguments: "NAME: QUERY" or "QUERY" (named after itself)."""
    return replace(_named_query(text.strip(), EXCLUDE_USAGE), excludes=True)


def _named_query(text: str, usage: str) -> Watch:
    if not text:
        raise UsageError(usage)
    name, query = _split_name(text)
    if not query:
        raise UsageError(usage)
    if len(query) > MAX_QUERY:
        raise UsageError(f"a query is at most {MAX_QUERY} characters ({len(query)} given)")
    if name is None:
        name = short_name(query)
    elif len(name) > MAX_NAME:
        raise UsageError(f"a name is at most {MAX_NAME} characters ({len(name)} given)")
    return Watch(name, query)


def _split_sources(text: str) -> tuple[str, tuple[str, ...]]:
    """(the rest, the source names) when the text ends with "in: A, B" outside quotes;
    else (text, ())."""
    found = list(_IN.finditer(text))
    if not found:
        return text, ()
    at = found[-1]
    before, after = text[: at.start()], text[at.end() :]
    if sum(before.count(q) for q in _QUOTES) % 2:  # inside a quoted phrase
        return text, ()
    names = [n.strip() for n in _SOURCE_SEPARATORS.split(after)]
    if not any(names):
        raise UsageError("after in: name the sources, separated by commas (/sources lists them)")
    if not all(names):
        raise UsageError("an empty source name after in: (separate the names with one comma)")
    return before.strip(), tuple(dict.fromkeys(names))


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
        config_sources: Sequence[str] = (),
        backtest_days: int = 7,
        backtest_limit: int = 5000,
    ) -> None:
        self._lemmatizer = lemmatizer
        self._clock = clock
        self._config_sources = tuple(config_sources)  # names; with the store's, the known
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

    def keep(
        self, store: Store, chat_id: int, trial: WatchTrial, topic: int | None = None
    ) -> WatchAdded:
        """/watch, second step: store the watch for the chat, its alerts going to forum
        `topic` (the one it was sent in; None: the chat itself), if its sources exist and
        the chat has room for one more (committed when this returns)."""
        watch = replace(trial.watch, sources=self.known_sources(store, trial.watch.sources),
                        topic=topic)  # fmt: skip
        self._check_room(store, chat_id, watch)
        new = store.add_watch(chat_id, watch.name, watch.query, self._clock(),
                              sources=watch.sources, topic=topic)  # fmt: skip
        return WatchAdded(watch, new, trial.understood)

    def add(self, store: Store, chat_id: int, text: str, topic: int | None = None) -> WatchAdded:
        """/watch on one store: `trial`, then `keep`."""
        return self.keep(store, chat_id, self.trial(text), topic)

    def known_sources(self, store: Store, names: Sequence[str]) -> tuple[str, ...]:
        """`names` as the sources spell them (the config's and those added from Telegram,
        any case); UsageError naming the unknown ones and listing the known."""
        known = [*self._config_sources, *(s.name for s in store.runtime_sources())]
        by_key = {name.casefold(): name for name in known}
        unknown = [n for n in names if n.casefold() not in by_key]
        if unknown:
            listed = ", ".join(known) or "none yet"
            what = "no source named" if len(unknown) == 1 else "no sources named"
            raise UsageError(f"{what} {', '.join(unknown)}. The sources are: {listed}")
        return tuple(dict.fromkeys(by_key[n.casefold()] for n in names))

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
        compiled = matcher.watches[0]
        items = self._recent(store)
        matched = []
        spelt: dict[str, Counter[str]] = {}
        for item in items:
            if not counts_for(watch, item["source"]):
                continue
            found = matcher.match_article(item["title"], item["text"] or "")
            if found:
                matched.append(item)
                for word, forms in matcher.spellings(compiled, found).items():
                    spelt.setdefault(word, Counter()).update(forms)
        stories, examples = _by_story(matched)
        spellings = tuple(
            (word, tuple(counts.most_common(SPELLINGS))) for word, counts in spelt.items()
        )
        return Backtest(self._backtest_days, len(items), len(matched), examples, stories, spellings)

    def _recent(self, store: Store) -> list[dict[str, Any]]:
        since = self._clock() - timedelta(days=self._backtest_days)
        return store.recent_items(since, self._backtest_limit)

    # -- exclusions --------------------------------------------------------------------

    def exclude(self, store: Store, chat_id: int, text: str) -> ExclusionAdded:
        """/exclude: parse and compile the query, store it for the chat if it has room
        (committed when this returns). Compiling needs no database, but it is quick next
        to a /watch (no lemmas to show), so it runs here, on the store's thread."""
        exclusion = parse_exclude_args(text)
        Matcher([exclusion], self._lemmatizer)  # a query that does not compile is refused
        existing = store.chat_exclusions(chat_id)
        key = exclusion.name.casefold()
        if len(existing) >= MAX_EXCLUSIONS and all(x.name.casefold() != key for x in existing):
            raise UsageError(f"this chat has {len(existing)} exclusions, the most it may have;"
                             " /unexclude one first")  # fmt: skip
        new = store.add_exclusion(chat_id, exclusion.name, exclusion.query, self._clock())
        return ExclusionAdded(exclusion, new)

    def exclusion_backtest(
        self, store: Store, exclusion: Watch, watches: Sequence[Watch]
    ) -> ExclusionBacktest:
        """/exclude, last step: among the items stored in the last days, those `exclusion`
        matches, and those of them that `watches` (what the chat is alerted about) match:
        the alerts it would have silenced."""
        excluding = Matcher([exclusion], self._lemmatizer)
        items = self._recent(store)
        matched = [i for i in items if excluding.match_article(i["title"], i["text"] or "")]
        alerting = Matcher([w for w in watches if _parses(w)], self._lemmatizer)
        by_name = {w.name: w for w in watches}
        silenced = [
            i
            for i in matched
            if any(
                counts_for(by_name[m.watch], i["source"])
                for m in alerting.match_article(i["title"], i["text"] or "")
            )
        ]
        _, examples = _by_story(silenced)
        return ExclusionBacktest(
            self._backtest_days, len(items), len(matched), len(silenced), examples
        )

    def unexclude(self, store: Store, chat_id: int, text: str) -> Watch | None:
        """/unexclude: remove a chat's exclusion by its number in /list, its name or its
        query (any case); the one removed, or None if none is so called."""
        text = text.strip()
        if not text:
            raise UsageError(UNEXCLUDE_USAGE)
        exclusions = store.chat_exclusions(chat_id)
        chosen = None
        if text.isdigit():
            number = int(text)
            chosen = exclusions[number - 1] if 1 <= number <= len(exclusions) else None
        else:
            key = " ".join(text.split()).casefold()
            chosen = next((x for x in exclusions if x.name.casefold() == key), None) or next(
                (x for x in exclusions if " ".join(x.query.split()).casefold() == key), None
            )
        if chosen is None or not store.remove_exclusion(chat_id, chosen.name):
            return None
        return chosen

    def remove(self, store: Store, chat_id: int, name: str) -> bool:
        """/unwatch: remove a chat's watch by name (any case); False if it had none."""
        name = name.strip()
        if not name:
            raise UsageError(UNWATCH_USAGE)
        return store.remove_watch(chat_id, name)

    def test(self, watches: Sequence[Watch], text: str) -> list[Hit]:
        """/test: those of `watches` (the chat's, and the config's where the chat gets
        their alerts; exclusions among them) that match TEXT, marked. A text has no
        source: a watch limited to sources is tried all the same."""
        text = text.strip()
        if not text:
            raise UsageError(TEST_USAGE)
        matcher = Matcher([w for w in watches if _parses(w)], self._lemmatizer)
        hits = []
        for match in matcher.match_article(None, text):
            field = match.spans[0].field if match.spans else "text"
            snippet = snippet_for("", text, [match])
            hits.append(Hit(match.watch, field, snippet, match.excludes))
        return hits


def _by_story(items: list[dict[str, Any]]) -> tuple[int, tuple[Example, ...]]:
    """How many stories `items` (newest first) make, and the newest item of each of the
    newest EXAMPLES stories; an item filed under none is a story of its own."""
    by_story = {
        ("story", i["story_id"]) if i["story_id"] is not None else ("item", n): i
        for n, i in reversed(list(enumerate(items)))
    }
    firsts = sorted(by_story.values(), key=lambda i: i["at"], reverse=True)
    examples = tuple(
        Example(i["title"] or "", i["url"], i["source"], i["at"], i["date_only"])
        for i in firsts[:EXAMPLES]
    )
    return len(by_story), examples


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
