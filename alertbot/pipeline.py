"""From articles to queued alerts: match, cluster into stories, record, in one place.

    articles -> not seen? (URL, guid, content hash) -> match every watch (config and chats')
             -> story (Clusterer: joined, related or new; alertbot.stories.cluster)
             -> Store.record_item: seen + story + one outbox row per recipient, one transaction

Who gets an alert: the config's `[[watch]]` entries alert the config recipients (Telegram
`alert_chats`, or the console when there is no Telegram token); a chat's own watches alert
that chat. A recipient gets one row per story, naming every watch of theirs it matched.
`Watchlists.recipients` decides it: a watch limited to sources counts only for their
articles, a watch with a forum topic alerts that topic (a recipient of its own), and an
exclusion that matched silences its chat (the config's: the config watches' alerts). An
excluded article is still recorded and clustered: excluding is about alerts only, so the
recap (built from the outbox rows) leaves it out too.

`Pipeline.prepare` is CPU work on the pipeline's worker thread; `Pipeline.record` runs on
the store's thread (`alertbot.store.runner`), so items are recorded in the order they were
polled and a bot command's store call waits at most for one short transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from alertbot.errors import QuerySyntaxError
from alertbot.sources.model import Article
from alertbot.store import NewItem, Recipient, Store
from alertbot.store.items import TEXT_KEPT
from alertbot.stories import StoryId
from alertbot.stories.cluster import WINDOW, Clusterer, Relation
from alertbot.stories.cluster import Article as ClusterArticle
from alertbot.stories.fingerprint import Fingerprint, fingerprint_of
from alertbot.stories.vectors import ArticleTerms, terms_of
from alertbot.text.lemmatize import Lemmatizer
from alertbot.text.tokenize import article_words
from alertbot.watch.match import Matcher, Watch, WatchMatch
from alertbot.watch.query import parse_query
from alertbot.watch.snippet import snippet_for

log = logging.getLogger(__name__)

# An article older than this when first seen is recorded but not alerted: a new source's
# first poll, or a sitemap listing years of archive, must not flood the chats with old news.
MAX_AGE = timedelta(days=3)
# At start, the clustering is rebuilt from at most this many of the newest stored texts:
# enough for the document frequencies, bounded so that a busy database starts quickly.
REBUILD_TEXTS = 5000
# A published date further in the future than this is a source's mistake: use first-seen.
FUTURE_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class Routed:
    """Who an article alerts: the watches it matched (of its sources) and their matches,
    the recipients with their own watch names and topics, and whether an exclusion
    silenced anyone."""

    names: list[str]
    matches: list[WatchMatch]
    recipients: list[Recipient]
    excluded: bool = False


@dataclass(frozen=True)
class Watchlists:
    """Every watch in force: the config's (alerting `config_recipients`) and each chat's,
    and the exclusions: the config's (`[[exclude]]`, over the config's watches) and each
    chat's (/exclude, over everything the chat gets)."""

    config_watches: tuple[Watch, ...]
    config_recipients: tuple[Recipient, ...]
    chat_watches: Mapping[int, Sequence[Watch]] = field(default_factory=dict)
    config_exclusions: tuple[Watch, ...] = ()
    chat_exclusions: Mapping[int, Sequence[Watch]] = field(default_factory=dict)

    def owned(self) -> list[Watch]:
        """Every watch and exclusion with its owner (None: the config's), for one Matcher:
        one pass over an article finds both.

        A chat's stored query that today's parser refuses (accepted by an older alertbot)
        is left out with a warning: it must not keep the other watches from running.
        """
        out = [replace(w, owner=None) for w in (*self.config_watches, *self.config_exclusions)]
        for chat_id, watches in self.chat_watches.items():
            out.extend(replace(w, owner=chat_id) for w in watches if _parses(chat_id, w))
        for chat_id, exclusions in self.chat_exclusions.items():
            out.extend(
                replace(w, owner=chat_id, excludes=True) for w in exclusions if _parses(chat_id, w)
            )
        return out

    @cached_property
    def _watches(self) -> dict[tuple[int | None, str], Watch]:
        """Each watch by (owner, name): names are unique per owner."""
        by_key: dict[tuple[int | None, str], Watch] = {
            (None, w.name): w for w in self.config_watches
        }
        for chat_id, watches in self.chat_watches.items():
            by_key.update(((chat_id, w.name), w) for w in watches)
        return by_key

    def recipients(self, matches: Iterable[WatchMatch], source: str | None = None) -> Routed:
        """Who an article from `source` alerts, given what matched it.

        A watch limited to sources counts only for an article of one of them (any case). A
        chat's exclusion that matched silences every alert to that chat, in every topic; a
        config exclusion silences the config's watches for the config's recipients. A
        watch's topic goes with its Telegram recipients.
        """
        matches = list(matches)
        config_excluded = any(m.excludes and m.owner is None for m in matches)
        excluded_chats = {str(m.owner) for m in matches if m.excludes and m.owner is not None}
        names: list[str] = []
        kept: list[WatchMatch] = []
        by_address: dict[tuple[str, str, int | None], list[str]] = {}
        excluded = False
        for m in matches:
            if m.excludes:
                continue
            watch = self._watches.get((m.owner, m.watch))
            if watch is not None and not counts_for(watch, source):
                continue
            topic = watch.topic if watch is not None else None
            name = m.watch
            names.append(name)
            kept.append(m)
            targets = (
                self.config_recipients
                if m.owner is None
                else (Recipient("telegram", str(m.owner)),)
            )
            for r in targets:
                if (m.owner is None and config_excluded) or (
                    r.channel == "telegram" and r.address in excluded_chats
                ):
                    excluded = True
                    continue
                where = topic if r.channel == "telegram" else None
                by_address.setdefault((r.channel, r.address, where), []).append(name)
        recipients = [
            Recipient(channel, address, tuple(dict.fromkeys(watch_names)), topic)
            for (channel, address, topic), watch_names in by_address.items()
        ]
        return Routed(list(dict.fromkeys(names)), kept, recipients, excluded)


def counts_for(watch: Watch, source: str | None) -> bool:
    """Whether an article of `source` counts for `watch`: any does unless the watch is
    limited to sources, then one of theirs (any case)."""
    if not watch.sources:
        return True
    key = (source or "").casefold()
    return any(key == s.casefold() for s in watch.sources)


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
    related: int = 0  # started a story related to a recent one (a follow-up)
    too_old: int = 0  # matched, but older than MAX_AGE: recorded without alerts
    excluded: int = 0  # matched, but an exclusion silenced some or all of its recipients
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
    terms: ArticleTerms  # what story clustering reads
    published: datetime  # as the stories file it: the outlet's time, or first seen
    names: list[str]  # the watches it matched
    snippet: str
    recipients: list[Recipient]
    excluded: bool = False  # an exclusion silenced some of its recipients


class Pipeline:
    """Matches articles and records them with their alerts; holds the story clustering.

    Two halves, for two threads: `prepare` is CPU work (fingerprints, matching, the terms
    clustering reads) and touches no database, so it runs on the pipeline's worker;
    `record` is the store's work (seen check, story, outbox rows in one transaction), so it
    runs on the store's thread (`alertbot.store.runner`), which also owns the clustering.

    Stories (`alertbot.stories.cluster`): an article that is the same event as a recent
    story joins it (the story gains an outlet; sent alerts are edited), one that follows a
    recent story up starts a story related to it (alerted as a reply to the earlier alert),
    anything else is new. Only an article that matched a watch starts a story; one that
    matched nothing still joins the story it belongs to, and teaches the clustering its
    words either way.
    """

    def __init__(
        self,
        lemmatizer: Lemmatizer,
        watchlists: Watchlists,
        *,
        clusterer: Clusterer[StoryId] | None = None,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        self._lemmatizer = lemmatizer
        self._clusterer: Clusterer[StoryId] = clusterer if clusterer is not None else Clusterer()
        self._max_age = max_age
        self._synced = 0  # the last stored item the clustering knows (`catch_up`)
        self.set_watchlists(watchlists)

    @property
    def clusterer(self) -> Clusterer[StoryId]:
        """The story clustering (for the store's thread, and for benchmarks)."""
        return self._clusterer

    def set_watchlists(self, watchlists: Watchlists) -> None:
        """Compile a new set of watches (a chat added or removed one)."""
        self.watchlists = watchlists
        self._matcher = Matcher(watchlists.owned(), self._lemmatizer)

    def load_index(self, store: Store, now: datetime) -> int:
        """Rebuild the story clustering from the store: the texts of the last days (kept
        `TEXT_KEPT`, at most `REBUILD_TEXTS`) give back the document frequencies and the
        outlets' furniture, and those filed under a story within the window its centroid.
        Returns the stories.

        Texts are read by letters alone: a centroid's name terms were stored with the item
        when it was recorded. Only an item recorded before names were stored, filed in the
        window, is read again with the morphology (the names weigh in its centroid)."""
        self._synced = store.last_item_id()
        window_start = now - 2 * WINDOW
        for row in store.recent_texts(now - TEXT_KEPT, REBUILD_TEXTS, upto=self._synced):
            self._learn_stored(row, window_start)
        return len(self._clusterer)

    def _learn_stored(self, row: dict[str, Any], window_start: datetime) -> None:
        """Teach the clustering an item read from the store (`recent_texts`)."""
        filed = row["story_id"] is not None and row["at"] >= window_start
        names: frozenset[str] | None = row["names"]
        if filed and names is None:
            _, words = self._matcher.read(row["title"], row["text"])
            terms = terms_of(words)
        else:
            words = article_words(row["title"], row["text"])
            terms = replace(terms_of(words), names=names or frozenset())
        fp = _stored_fingerprint(row["fingerprint"]) or fingerprint_of(words)
        article = ClusterArticle(row["source"], row["at"], terms, fp)
        if filed:
            story = StoryId(row["story_id"])
            self._clusterer.add(story, article, self._clusterer.decide(article))
        else:
            self._clusterer.learn(article)

    def catch_up(self, store: Store, now: datetime) -> int:
        """Teach the clustering the items other workers recorded since this one last
        looked (several workers on one store); how many there were. Called under the
        recording lock, so that nothing is filed against a clustering that misses them."""
        rows = store.items_after(self._synced)
        window_start = now - 2 * WINDOW
        for row in rows:
            self._learn_stored(row, window_start)
            self._synced = max(self._synced, row["id"])
        return len(rows)

    def forget_before(self, cutoff: datetime) -> None:
        """Drop stories older than `cutoff` (they can no longer be joined)."""
        self._clusterer.forget_before(cutoff)

    def process(self, store: Store, articles: Iterable[Article], now: datetime) -> ProcessCounts:
        """`prepare`, then `record`, on this thread: for tests and one-off use."""
        return self.record(store, self.prepare(articles, now), now)

    def prepare(self, articles: Iterable[Article], now: datetime) -> list[Prepared]:
        """Match, fingerprint and read each article for its story; no database."""
        return [self._prepare(article, now) for article in articles]

    def record(self, store: Store, prepared: Sequence[Prepared], now: datetime) -> ProcessCounts:
        """Record each article that is new, queueing alerts for the watches it matched.

        The whole batch is one transaction (one disk sync for a poll, not one per article);
        each article is still seen-with-its-outbox-rows atomically.
        """
        counts = ProcessCounts(articles=len(prepared))
        if prepared:
            with store.batch():
                # Several workers: one records at a time, knowing what the others filed
                # (a story another worker started a moment ago is joined, not repeated).
                store.lock_recording()
                self.catch_up(store, now)
                for item in prepared:
                    self._record(store, item, now, counts)
        return counts

    def _prepare(self, article: Article, now: datetime) -> Prepared:
        # One pass over the text: the matcher's word cache also gives every word's
        # normal form and whether it is a name, which the fingerprint and the story read.
        found, words = self._matcher.read(article.title, article.text)
        routed = self.watchlists.recipients(found, article.source)
        # The quote shows what the watches matched, not what an exclusion did, nor a watch
        # limited to other sources.
        matches = routed.matches
        published = article.published
        if published is None or published > now + FUTURE_SLACK:
            published = now
        snippet = snippet_for(article.title, article.text, matches).to_json() if matches else ""
        return Prepared(
            article, fingerprint_of(words), terms_of(words), published, routed.names, snippet,
            routed.recipients, routed.excluded,
        )  # fmt: skip

    def _record(self, store: Store, item: Prepared, now: datetime, counts: ProcessCounts) -> None:
        recipients = item.recipients
        too_old = bool(item.names) and now - item.published > self._max_age
        if too_old:
            recipients = []
        # Decided here, not in prepare: an earlier article of the same batch may have
        # started the story.
        article = ClusterArticle(item.article.source, item.published, item.terms, item.fp)
        decision = self._clusterer.decide(article)
        joined = decision.story if decision.relation is Relation.JOINED else None
        related = decision.story if decision.relation is Relation.RELATED else None
        new = NewItem(
            article=item.article,
            content_hash=item.fp.content_hash.hex(),
            fingerprint=item.fp.to_bytes(),
            story_id=joined,
            watches=tuple(item.names),
            snippet=item.snippet,
            recipients=tuple(recipients),
            related_to=related,
            names=sorted(item.terms.names),
        )
        outcome = store.record_item(new, now)
        if outcome.seen_item_id is not None:
            self._synced = max(self._synced, outcome.seen_item_id)
        if outcome.already_seen:
            counts.seen += 1
            return
        if item.names:
            counts.matched += 1
            counts.too_old += too_old
            counts.excluded += item.excluded and not too_old
        if outcome.story_id is None:
            self._clusterer.learn(article, decision.counts)
        else:
            self._clusterer.add(outcome.story_id, article, decision)
            if not outcome.new_story:
                counts.joined += 1
                counts.grown.add(outcome.story_id)
            elif related is not None:
                counts.related += 1
            else:
                counts.new_stories += 1
        counts.queued += len(outcome.outbox_ids)


def _stored_fingerprint(data: bytes | None) -> Fingerprint | None:
    if data is None:
        return None
    try:
        return Fingerprint.from_bytes(data)
    except ValueError:
        return None
