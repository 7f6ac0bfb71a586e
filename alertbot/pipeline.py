"""From articles to queued alerts: match, cluster into stories, record, in one place.

    articles -> not seen? (URL, guid, content hash) -> match every watch (config and chats')
             -> story (StoryIndex: same event from another outlet joins the earlier story)
             -> Store.record_item: seen + story + one outbox row per recipient, one transaction

Who gets an alert: the config's `[[watch]]` entries alert the config recipients (Telegram
`alert_chats`, or the console when there is no Telegram token); a chat's own watches alert
that chat. A recipient gets one row per story, naming every watch of theirs it matched.

`Pipeline.process` is synchronous and CPU-bound (matching, fingerprints) with short SQLite
transactions: the application runs it on one worker thread, so items are recorded one at a
time in the order they were polled.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alertbot.snippet import snippet_for
from alertbot.sources.model import Article
from alertbot.store import Recipient, Store
from alertbot.stories import WINDOW, Fingerprint, StoryIndex, fingerprints
from alertbot.text.lemmatize import Lemmatizer
from alertbot.watch.match import Matcher, Watch, WatchMatch

log = logging.getLogger(__name__)

# An article older than this when first seen is recorded but not alerted: a new source's
# first poll, or a sitemap listing years of archive, must not flood the chats with old news.
MAX_AGE = timedelta(days=3)
# A published date further in the future than this is a source's mistake: use first-seen.
FUTURE_SLACK = timedelta(hours=1)

_SEP = "\x1f"  # joins owner and watch name in the matcher's internal watch names


@dataclass(frozen=True)
class Watchlists:
    """Every watch in force: the config's (alerting `config_recipients`) and each chat's."""

    config_watches: tuple[Watch, ...]
    config_recipients: tuple[Recipient, ...]
    chat_watches: Mapping[int, Sequence[Watch]] = field(default_factory=dict)

    def keyed(self) -> list[Watch]:
        """The watches under internal names unique across owners, for one Matcher."""
        out = [Watch(f"{_SEP}{w.name}", w.query) for w in self.config_watches]
        for chat_id, watches in self.chat_watches.items():
            out.extend(Watch(f"{chat_id}{_SEP}{w.name}", w.query) for w in watches)
        return out

    def recipients(self, matches: Iterable[WatchMatch]) -> tuple[list[str], list[Recipient]]:
        """The watch names an article matched, and its recipients with their own names."""
        names: list[str] = []
        by_address: dict[tuple[str, str], list[str]] = {}
        for m in matches:
            owner, _, name = m.watch.partition(_SEP)
            names.append(name)
            targets = self.config_recipients if not owner else (Recipient("telegram", owner),)
            for r in targets:
                by_address.setdefault((r.channel, r.address), []).append(name)
        recipients = [
            Recipient(channel, address, tuple(dict.fromkeys(watch_names)))
            for (channel, address), watch_names in by_address.items()
        ]
        return list(dict.fromkeys(names)), recipients


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
    grown: set[int] = field(default_factory=set)  # stories that gained an outlet


class Pipeline:
    """Matches articles and records them with their alerts; holds the story index."""

    def __init__(
        self,
        store: Store,
        lemmatizer: Lemmatizer,
        watchlists: Watchlists,
        *,
        index: StoryIndex | None = None,
        max_age: timedelta = MAX_AGE,
        executor: Executor | None = None,
    ) -> None:
        self._store = store
        # Fingerprints are computed here when given (the process pool); matching needs the
        # morphology database, which only this process holds.
        self._executor = executor
        self._lemmatizer = lemmatizer
        self._index = index or StoryIndex()
        self._max_age = max_age
        self.set_watchlists(watchlists)

    def set_watchlists(self, watchlists: Watchlists) -> None:
        """Compile a new set of watches (a chat added or removed one)."""
        self.watchlists = watchlists
        self._matcher = Matcher(watchlists.keyed(), self._lemmatizer)

    def load_index(self, now: datetime) -> int:
        """Rebuild the story index from the stories of the last window; returns how many."""
        rows = self._store.recent_story_fingerprints(now - 2 * WINDOW)
        for story_id, data, at in rows:
            try:
                self._index.add(story_id, Fingerprint.from_bytes(data), at)
            except ValueError:
                log.warning("story %d: stored fingerprint unreadable; skipped", story_id)
        return len(rows)

    def forget_before(self, cutoff: datetime) -> None:
        """Drop stories older than `cutoff` from the index (they can no longer be joined)."""
        self._index.forget_before(cutoff)

    def process(self, articles: Iterable[Article], now: datetime) -> ProcessCounts:
        """Record each article that is new, queueing alerts for the watches it matched.

        Matching and fingerprints are computed first; then the whole batch is recorded in
        one transaction (one disk sync for a poll, not one per article). Each article is
        still seen-with-its-outbox-rows atomically: the batch commits or none of it does.
        """
        counts = ProcessCounts()
        articles = list(articles)
        prepared = []
        for article, fp in zip(articles, self._fingerprints(articles), strict=True):
            counts.articles += 1
            item = self._prepare(article, fp, now, counts)
            if item is not None:
                prepared.append(item)
        if prepared:
            with self._store.batch():
                for item in prepared:
                    self._record(item, now, counts)
        return counts

    def _fingerprints(self, articles: list[Article]) -> list[Fingerprint]:
        pairs = [(a.title, a.text) for a in articles]
        if self._executor is None or len(pairs) < 8:
            return fingerprints(pairs)
        chunks = [pairs[i : i + 16] for i in range(0, len(pairs), 16)]
        return [fp for chunk in self._executor.map(fingerprints, chunks) for fp in chunk]

    def _prepare(
        self, article: Article, fp: Fingerprint, now: datetime, counts: ProcessCounts
    ) -> _Prepared | None:
        """Everything about an article that needs no write: None if it was seen before."""
        digest = fp.content_hash.hex()
        if self._store.is_seen(article.canonical_url, article.guid, digest, article.source):
            counts.seen += 1
            return None
        matches = self._matcher.match_article(article.title, article.text)
        names, recipients = self.watchlists.recipients(matches)
        published = article.published
        if published is None or published > now + FUTURE_SLACK:
            published = now
        snippet = snippet_for(article.title, article.text, matches).to_json() if matches else ""
        if matches:
            counts.matched += 1
            if now - published > self._max_age:
                counts.too_old += 1
                recipients = []
        return _Prepared(article, fp, digest, published, names, snippet, recipients)

    def _record(self, item: _Prepared, now: datetime, counts: ProcessCounts) -> None:
        # The story is looked up here, not in _prepare: an earlier article of the same
        # batch may have started it.
        story_id = self._index.find(item.fp, item.published)
        outcome = self._store.record_item(
            item.article, item.digest, item.fp.to_bytes(), story_id, item.names,
            item.snippet, item.recipients, now,
        )  # fmt: skip
        if outcome.already_seen:
            counts.seen += 1
            return
        if outcome.story_id is not None:
            self._index.add(outcome.story_id, item.fp, item.published)
            if outcome.new_story:
                counts.new_stories += 1
            else:
                counts.joined += 1
                counts.grown.add(outcome.story_id)
        counts.queued += len(outcome.outbox_ids)


@dataclass(frozen=True)
class _Prepared:
    """An unseen article with its fingerprint, matches and recipients, ready to record."""

    article: Article
    fp: Fingerprint
    digest: str
    published: datetime
    names: list[str]
    snippet: str
    recipients: list[Recipient]
