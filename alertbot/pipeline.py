"""From articles to queued alerts: match, cluster into stories, record, in one place.

    articles -> not seen? (URL, guid, content hash) -> match every watch (config and chats')
             -> story (StoryIndex: same event from another outlet joins the earlier story)
             -> Store.record_item: seen + story + one outbox row per recipient, one transaction

Who gets an alert: the config's `[[watch]]` entries alert the config recipients (Telegram
`alert_chats`, or the console when there is no Telegram token); a chat's own watches alert
that chat. A recipient gets one row per story, naming every watch of theirs it matched.

`Pipeline.prepare` is CPU work on the pipeline's worker thread; `Pipeline.record` runs on
the store's thread (`alertbot.store.runner`), so items are recorded in the order they were
polled and a bot command's store call waits at most for one short transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alertbot.errors import QuerySyntaxError
from alertbot.sources.model import Article
from alertbot.store import NewItem, Recipient, Store
from alertbot.stories import StoryId
from alertbot.stories.fingerprint import Fingerprint, fingerprints
from alertbot.stories.index import WINDOW, StoryIndex
from alertbot.text.lemmatize import Lemmatizer
from alertbot.watch.match import Matcher, Watch, WatchMatch
from alertbot.watch.query import parse_query
from alertbot.watch.snippet import snippet_for

log = logging.getLogger(__name__)

# An article older than this when first seen is recorded but not alerted: a new source's
# first poll, or a sitemap listing years of archive, must not flood the chats with old news.
MAX_AGE = timedelta(days=3)
# A published date further in the future than this is a source's mistake: use first-seen.
FUTURE_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class Watchlists:
    """Every watch in force: the config's (alerting `config_recipients`) and each chat's."""

    config_watches: tuple[Watch, ...]
    config_recipients: tuple[Recipient, ...]
    chat_watches: Mapping[int, Sequence[Watch]] = field(default_factory=dict)

    def owned(self) -> list[Watch]:
        """Every watch with its owner (None: the config's), for one Matcher.

        A chat's stored query that today's parser refuses (accepted by an older alertbot)
        is left out with a warning: it must not keep the other watches from running.
        """
        out = [replace(w, owner=None) for w in self.config_watches]
        for chat_id, watches in self.chat_watches.items():
            out.extend(replace(w, owner=chat_id) for w in watches if _parses(chat_id, w))
        return out

    def recipients(self, matches: Iterable[WatchMatch]) -> tuple[list[str], list[Recipient]]:
        """The watch names an article matched, and its recipients with their own names."""
        names: list[str] = []
        by_address: dict[tuple[str, str], list[str]] = {}
        for m in matches:
            name = m.watch
            names.append(name)
            targets = (
                self.config_recipients
                if m.owner is None
                else (Recipient("telegram", str(m.owner)),)
            )
            for r in targets:
                by_address.setdefault((r.channel, r.address), []).append(name)
        recipients = [
            Recipient(channel, address, tuple(dict.fromkeys(watch_names)))
            for (channel, address), watch_names in by_address.items()
        ]
        return list(dict.fromkeys(names)), recipients


def _parses(chat_id: int, watch: Watch) -> bool:
    try:
        parse_query(watch.query)
    except QuerySyntaxError as exc:
        log.warning(
            "chat %d: watch %r skipped, its query no longer parses: %s", chat_id, watch.name, exc
        )
        return False
    return True


@dataclass
class ProcessCounts:
    """What processing one batch of articles did."""

    articles: int = 0
    seen: int = 0  # already seen (URL, guid or same content)
    matched: int = 0
    new_stories: int = 0
    joined: int = 0  # joined an existing story (another outlet, a rewrite)
    too_old: int = 0  # matched, but older than MAX_AGE: recorded without alerts
    queued: int = 0  # outbox rows written
    grown: set[StoryId] = field(default_factory=set)  # stories that gained an outlet

    def add(self, more: ProcessCounts) -> None:
        """Add `more`'s counts into these."""
        for name, value in vars(more).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.grown |= more.grown


@dataclass(frozen=True)
class Prepared:
    """An article with its fingerprint, matches and recipients: ready to record."""

    article: Article
    fp: Fingerprint
    published: datetime  # as the story index files it: the outlet's time, or first seen
    names: list[str]  # the watches it matched
    snippet: str
    recipients: list[Recipient]


class Pipeline:
    """Matches articles and records them with their alerts; holds the story index.

    Two halves, for two threads: `prepare` is CPU work (fingerprints, matching) and touches
    no database, so it runs on the pipeline's worker; `record` is the store's work (seen
    check, story, outbox rows in one transaction), so it runs on the store's thread
    (`alertbot.store.runner`), which also owns the story index.
    """

    def __init__(
        self,
        lemmatizer: Lemmatizer,
        watchlists: Watchlists,
        *,
        index: StoryIndex | None = None,
        max_age: timedelta = MAX_AGE,
        executor: Executor | None = None,
    ) -> None:
        # Fingerprints are computed here when given (the process pool); matching needs the
        # morphology database, which only this process holds.
        self._executor = executor
        self._lemmatizer = lemmatizer
        self._index = index or StoryIndex()
        self._max_age = max_age
        self.set_watchlists(watchlists)

    @property
    def index(self) -> StoryIndex:
        """The story index (for the store's thread, and for benchmarks)."""
        return self._index

    def set_watchlists(self, watchlists: Watchlists) -> None:
        """Compile a new set of watches (a chat added or removed one)."""
        self.watchlists = watchlists
        self._matcher = Matcher(watchlists.owned(), self._lemmatizer)

    def load_index(self, store: Store, now: datetime) -> int:
        """Rebuild the story index from the stories of the last window; returns how many."""
        rows = store.recent_story_fingerprints(now - 2 * WINDOW)
        for story_id, data, at in rows:
            try:
                self._index.add(story_id, Fingerprint.from_bytes(data), at)
            except ValueError:
                log.warning("story %d: stored fingerprint unreadable; skipped", story_id)
        return len(rows)

    def forget_before(self, cutoff: datetime) -> None:
        """Drop stories older than `cutoff` from the index (they can no longer be joined)."""
        self._index.forget_before(cutoff)

    def process(self, store: Store, articles: Iterable[Article], now: datetime) -> ProcessCounts:
        """`prepare`, then `record`, on this thread: for tests and one-off use."""
        return self.record(store, self.prepare(articles, now), now)

    def prepare(self, articles: Iterable[Article], now: datetime) -> list[Prepared]:
        """Fingerprint and match each article; no database."""
        articles = list(articles)
        return [
            self._prepare(article, fp, now)
            for article, fp in zip(articles, self._fingerprints(articles), strict=True)
        ]

    def record(self, store: Store, prepared: Sequence[Prepared], now: datetime) -> ProcessCounts:
        """Record each article that is new, queueing alerts for the watches it matched.

        The whole batch is one transaction (one disk sync for a poll, not one per article);
        each article is still seen-with-its-outbox-rows atomically.
        """
        counts = ProcessCounts(articles=len(prepared))
        if prepared:
            with store.batch():
                for item in prepared:
                    self._record(store, item, now, counts)
        return counts

    def _fingerprints(self, articles: list[Article]) -> list[Fingerprint]:
        pairs = [(a.title, a.text) for a in articles]
        if self._executor is None or len(pairs) < 8:
            return fingerprints(pairs)
        chunks = [pairs[i : i + 16] for i in range(0, len(pairs), 16)]
        return [fp for chunk in self._executor.map(fingerprints, chunks) for fp in chunk]

    def _prepare(self, article: Article, fp: Fingerprint, now: datetime) -> Prepared:
        matches = self._matcher.match_article(article.title, article.text)
        names, recipients = self.watchlists.recipients(matches)
        published = article.published
        if published is None or published > now + FUTURE_SLACK:
            published = now
        snippet = snippet_for(article.title, article.text, matches).to_json() if matches else ""
        return Prepared(article, fp, published, names, snippet, recipients)

    def _record(self, store: Store, item: Prepared, now: datetime, counts: ProcessCounts) -> None:
        recipients = item.recipients
        if item.names and now - item.published > self._max_age:
            recipients = []
        # The story is looked up here, not in prepare: an earlier article of the same
        # batch may have started it.
        new = NewItem(
            article=item.article,
            content_hash=item.fp.content_hash.hex(),
            fingerprint=item.fp.to_bytes(),
            story_id=self._index.find(item.fp, item.published),
            watches=tuple(item.names),
            snippet=item.snippet,
            recipients=tuple(recipients),
        )
        outcome = store.record_item(new, now)
        if outcome.already_seen:
            counts.seen += 1
            return
        if item.names:
            counts.matched += 1
            if not recipients:
                counts.too_old += 1
        if outcome.story_id is not None:
            self._index.add(outcome.story_id, item.fp, item.published)
            if outcome.new_story:
                counts.new_stories += 1
            else:
                counts.joined += 1
                counts.grown.add(outcome.story_id)
        counts.queued += len(outcome.outbox_ids)
