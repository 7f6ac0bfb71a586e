"""Seen items, stories and their outlets, and the transaction that turns an item into alerts.

An item is not new if its canonical URL, its feed guid or its content hash has been seen,
from any source; an article edited in place keeps its URL, so it never alerts twice.
`record_item` marks the item seen, files it under its story and writes the outbox rows in
one transaction: after a crash either all of it happened or none of it did, so the item is
processed again and nothing is dropped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from alertbot.sources.model import Article
from alertbot.store.base import StoreBase
from alertbot.store.model import (
    ItemOutcome,
    NewItem,
    Outlet,
    PruneCounts,
    Recipient,
    Story,
    parse_ts,
    story_from_row,
    ts,
    ts_or_none,
)
from alertbot.stories import StoryId

# Article texts are kept this long, for trying a new watch on recent news.
TEXT_KEPT = timedelta(days=7)
TEXTS_READ = 200  # rows a rebuild reads at a time (`recent_texts`)
RECORDING = 0x616C_6572_7400_0002  # the advisory lock of recording articles (PostgreSQL)


class ItemsMixin(StoreBase):
    """Seen items and stories."""

    def is_seen(
        self, canonical_url: str, guid: str | None, content_hash: str, source: str | None = None
    ) -> bool:
        """True when the URL, the guid or the content hash was seen, from any source.

        A guid that is not unique on its face (a bare number such as "123", which two
        outlets' feeds can both use) counts only for the source that gave it: across
        sources it would hide real news.
        """
        with self._lock:
            return self._is_seen(canonical_url, guid, content_hash, source)

    def is_seen_entry(self, canonical_url: str, guid: str | None, source: str) -> bool:
        """True when a feed entry's URL or guid was seen: its page need not be fetched."""
        with self._lock:
            return self._is_seen(canonical_url, guid, None, source)

    def _is_seen(
        self, canonical_url: str, guid: str | None, content_hash: str | None, source: str | None
    ) -> bool:
        return bool(
            self._value(
                "SELECT EXISTS(SELECT 1 FROM seen_items WHERE canonical_url = ?)"
                " OR EXISTS(SELECT 1 FROM seen_items WHERE guid = ? AND (? OR source = ?))"
                " OR EXISTS(SELECT 1 FROM seen_items WHERE content_hash = ?)",
                (canonical_url, guid, globally_unique(guid), source, content_hash),
            )
        )

    def record_item(self, item: NewItem, now: datetime) -> ItemOutcome:
        """Mark an item seen, file it under a story, and queue its alerts, in one transaction.

        With no watches and no story the item is only marked seen. Each recipient gets at
        most one outbox row per story: a second outlet joining a story is recorded on the
        story, and only recipients that had no row for it get one. An item already seen
        (another process got there first) changes nothing.
        """
        article, watches, snippet = item.article, item.watches, item.snippet
        with self._write() as db:
            if self._is_seen(
                article.canonical_url, article.guid, item.content_hash, article.source
            ):
                return ItemOutcome(already_seen=True)
            new_story = False
            story_id = item.story_id
            relation: str | None = None
            if story_id is not None and self._value(
                "SELECT 1 FROM stories WHERE id = ?", (story_id,)
            ):
                self._join_story(story_id, article, watches, now)
                relation = "joined"
            elif story_id is not None or watches:
                # A story the clustering remembers but pruning removed starts afresh.
                related_to = item.related_to
                if related_to is not None and not self._value(
                    "SELECT 1 FROM stories WHERE id = ?", (related_to,)
                ):
                    related_to = None
                story_id = self._new_story(article, watches, snippet, now, related_to)
                new_story = True
                relation = "related" if related_to is not None else "new"
            seen_id = _row_id(
                db.execute(
                    "INSERT INTO seen_items (canonical_url, url, guid, content_hash, fingerprint,"
                    " source, story_id, title, published, first_seen, text, published_date_only,"
                    " relation, names) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " RETURNING id",
                    (
                        article.canonical_url,
                        article.url,
                        article.guid,
                        item.content_hash,
                        item.fingerprint,
                        article.source,
                        story_id,
                        article.title,
                        ts_or_none(article.published),
                        ts(now),
                        article.text,
                        _date_only(article),
                        relation,
                        None if item.names is None else " ".join(item.names),
                    ),
                )
            )
            outbox_ids: list[int] = []
            if story_id is not None:
                for recipient in item.recipients:
                    row_id = self._queue(story_id, seen_id, recipient, watches, snippet, now)
                    if row_id is not None:
                        outbox_ids.append(row_id)
            return ItemOutcome(
                already_seen=False,
                seen_item_id=seen_id,
                story_id=story_id,
                new_story=new_story,
                outbox_ids=tuple(outbox_ids),
            )

    def _new_story(
        self,
        article: Article,
        watches: Sequence[str],
        snippet: str,
        now: datetime,
        related_to: StoryId | None = None,
    ) -> StoryId:
        cursor = self.db.execute(
            "INSERT INTO stories (title, url, first_source, first_seen, published, updated,"
            " watches, snippet, published_date_only, related_to)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                article.title,
                article.url,
                article.source,
                ts(now),
                ts_or_none(article.published),
                ts(now),
                json.dumps(list(dict.fromkeys(watches)), ensure_ascii=False),
                snippet,
                _date_only(article),
                related_to,
            ),
        )
        story_id = StoryId(_row_id(cursor))
        self._add_outlet(story_id, article, now)
        return story_id

    def _join_story(
        self, story_id: StoryId, article: Article, watches: Sequence[str], now: datetime
    ) -> None:
        known = json.loads(self._value("SELECT watches FROM stories WHERE id = ?", (story_id,)))
        merged = list(dict.fromkeys([*known, *watches]))
        self.db.execute(
            "UPDATE stories SET updated = ?, watches = ? WHERE id = ?",
            (ts(now), json.dumps(merged, ensure_ascii=False), story_id),
        )
        self._add_outlet(story_id, article, now)

    def _add_outlet(self, story_id: StoryId, article: Article, now: datetime) -> None:
        self.db.execute(
            "INSERT INTO story_sources (story_id, source, url, title, seen_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (story_id, url) DO NOTHING",
            (story_id, article.source, article.url, article.title, ts(now)),
        )

    def _queue(
        self,
        story_id: StoryId,
        seen_id: int,
        recipient: Recipient,
        watches: Sequence[str],
        snippet: str,
        now: datetime,
    ) -> int | None:
        """Insert one outbox row unless the recipient (in that topic) already has one for
        the story."""
        names = list(recipient.watches) if recipient.watches else list(dict.fromkeys(watches))
        # ON CONFLICT names the one constraint to skip; OR IGNORE would also skip a CHECK
        # failure (a bad channel) and drop the alert silently.
        cursor = self.db.execute(
            "INSERT INTO outbox (story_id, seen_item_id, channel, recipient, topic, watches,"
            " snippet, next_attempt, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (story_id, recipient, channel, topic) DO NOTHING RETURNING id",
            (
                story_id,
                seen_id,
                recipient.channel,
                recipient.address,
                recipient.topic or 0,
                json.dumps(names, ensure_ascii=False),
                snippet,
                ts(now),
                ts(now),
            ),
        )
        row = cursor.fetchone()
        return None if row is None else int(row[0])

    def story(self, story_id: StoryId) -> Story | None:
        """A story with all its outlets, or None."""
        rows = self._rows("SELECT * FROM stories WHERE id = ?", (story_id,))
        if not rows:
            return None
        outlets = self._rows(
            "SELECT * FROM story_sources WHERE story_id = ? ORDER BY seen_at, rowid", (story_id,)
        )
        return story_from_row(rows[0], outlets)

    def item_outlet(self, seen_item_id: int) -> Outlet | None:
        """A seen item as an outlet of its story: source, URL, title, published (or first
        seen) time, and whether that is a date only."""
        rows = self._rows(
            "SELECT source, url, title, coalesce(published, first_seen) AS at,"
            " published IS NOT NULL AND published_date_only = 1 AS date_only FROM seen_items"
            " WHERE id = ?",
            (seen_item_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return Outlet(r["source"], r["url"], r["title"], parse_ts(r["at"]), bool(r["date_only"]))

    def recent_items(self, since: datetime, limit: int = 5000) -> list[dict[str, Any]]:
        """Items first seen since `since` that still have their text, newest first: title,
        text, url, source, published (or first seen), whether that is a date only, and the
        story it was filed under (None for none)."""
        rows = self._rows(
            "SELECT title, text, url, source, story_id, coalesce(published, first_seen) AS at,"
            " published IS NOT NULL AND published_date_only = 1 AS date_only"
            " FROM seen_items WHERE first_seen >= ? AND text IS NOT NULL"
            " ORDER BY first_seen DESC, id DESC LIMIT ?",
            (ts(since), limit),
        )
        for r in rows:
            r["at"] = parse_ts(r["at"])
            r["date_only"] = bool(r["date_only"])
        return rows

    def recent_story_fingerprints(self, since: datetime) -> list[tuple[StoryId, bytes, datetime]]:
        """(story id, fingerprint, published or first seen) of items filed under a story since
        `since`, oldest first, to rebuild the clustering index at start."""
        rows = self._rows(
            "SELECT story_id, fingerprint, coalesce(published, first_seen) AS at"
            " FROM seen_items WHERE story_id IS NOT NULL AND fingerprint IS NOT NULL"
            " AND first_seen >= ? ORDER BY first_seen, id",
            (ts(since),),
        )
        return [(r["story_id"], r["fingerprint"], parse_ts(r["at"])) for r in rows]

    def recent_texts(
        self, since: datetime, limit: int, upto: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """The newest `limit` items first seen since `since` that still have their text,
        oldest first: source, title, text, at (published, else first seen), story_id,
        fingerprint, names (a frozenset, None when not recorded); to rebuild the story
        clustering (document frequencies, furniture, centroids) at start.

        Read `TEXTS_READ` rows at a time: a few thousand texts held at once would stay in
        the process's heap long after the rebuild. With `upto`, only items of that id or
        lower (the items after it are read with `items_after`)."""
        ids = [
            r["id"]
            for r in self._rows(
                "SELECT id FROM seen_items WHERE first_seen >= ? AND text IS NOT NULL"
                " AND id <= ? ORDER BY first_seen DESC, id DESC LIMIT ?",
                (ts(since), upto if upto is not None else 2**62, limit),
            )
        ]
        ids.reverse()
        for i in range(0, len(ids), TEXTS_READ):
            chunk = ids[i : i + TEXTS_READ]
            rows = self._rows(
                "SELECT id, source, title, text, coalesce(published, first_seen) AS at,"
                " story_id, fingerprint, names FROM seen_items"
                f" WHERE id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            order = {row_id: n for n, row_id in enumerate(chunk)}
            rows.sort(key=lambda r: order[r["id"]])
            for r in rows:
                r["at"] = parse_ts(r["at"])
                if r["names"] is not None:
                    r["names"] = frozenset(r["names"].split())
                yield r

    def last_item_id(self) -> int:
        """The id of the item recorded last (0: none yet)."""
        return int(self._value("SELECT coalesce(max(id), 0) FROM seen_items"))

    def items_after(self, after: int) -> list[dict[str, Any]]:
        """The items recorded after id `after` (by other workers), oldest first, as
        `recent_texts` gives them (with their id): to bring a worker's story clustering up
        to date before it files new articles."""
        rows = self._rows(
            "SELECT id, source, title, coalesce(text, '') AS text,"
            " coalesce(published, first_seen) AS at, story_id, fingerprint, names"
            " FROM seen_items WHERE id > ? ORDER BY id",
            (after,),
        )
        for r in rows:
            r["at"] = parse_ts(r["at"])
            if r["names"] is not None:
                r["names"] = frozenset(r["names"].split())
        return rows

    def lock_recording(self) -> None:
        """In a write transaction: wait until no other worker is recording, and keep them
        waiting until it ends (PostgreSQL's transaction advisory lock; on SQLite the write
        transaction itself excludes every other writer)."""
        if self.db.kind == "postgresql":
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (RECORDING,))

    def clustering_today(self, since: datetime) -> dict[str, int]:
        """How many items first seen since `since` started a story, joined one or related
        to one ("new", "joined", "related"), and how many were filed under none ("none")."""
        rows = self._rows(
            "SELECT coalesce(relation, 'none') AS relation, count(*) AS n FROM seen_items"
            " WHERE first_seen >= ? GROUP BY 1",
            (ts(since),),
        )
        return {r["relation"]: r["n"] for r in rows}

    def stories_since(self, since: datetime) -> int:
        """How many stories changed since `since` (those that can still be joined)."""
        return int(self._value("SELECT count(*) FROM stories WHERE updated >= ?", (ts(since),)))

    def sent_message_ref(
        self, story_id: StoryId, channel: str, recipient: str, topic: int | None = None
    ) -> str | None:
        """The message reference of the alert a recipient (in a topic: there) was sent about
        a story, if any."""
        value = self._value(
            "SELECT message_ref FROM outbox WHERE story_id = ? AND channel = ? AND recipient = ?"
            " AND topic = ? AND state = 'sent' AND message_ref IS NOT NULL ORDER BY id LIMIT 1",
            (story_id, channel, recipient, topic or 0),
        )
        return str(value) if value is not None else None

    def prune(self, now: datetime, retention: timedelta) -> PruneCounts:
        """Remove what is older than `retention`, keeping everything a pending row needs.

        Sent and failed outbox rows go `retention` after they finished; seen items
        `retention` after first seen unless a pending row points at them or at their story;
        stories once nothing points at them and they have not changed for `retention`;
        the delivery log after `retention`. Article texts go after `TEXT_KEPT` (they
        serve /watch's backtest). Recap history is kept (one row a day).
        """
        cutoff = ts(now - retention)
        with self._write() as db:
            outbox = db.execute(
                "DELETE FROM outbox WHERE state IN ('sent', 'failed') AND finished < ?",
                (cutoff,),
            ).rowcount
            seen = db.execute(
                "DELETE FROM seen_items WHERE first_seen < ?"
                " AND id NOT IN (SELECT seen_item_id FROM outbox"
                "   WHERE state = 'pending' AND seen_item_id IS NOT NULL)"
                " AND (story_id IS NULL OR story_id NOT IN"
                "   (SELECT story_id FROM outbox WHERE state = 'pending'))",
                (cutoff,),
            ).rowcount
            stories = db.execute(
                "DELETE FROM stories WHERE updated < ?"
                " AND id NOT IN (SELECT story_id FROM outbox)"
                " AND id NOT IN (SELECT story_id FROM seen_items WHERE story_id IS NOT NULL)",
                (cutoff,),
            ).rowcount
            log = db.execute("DELETE FROM delivery_log WHERE at < ?", (cutoff,)).rowcount
            db.execute(
                "UPDATE seen_items SET text = NULL WHERE text IS NOT NULL AND first_seen < ?",
                (ts(now - TEXT_KEPT),),
            )
        return PruneCounts(seen_items=seen, outbox=outbox, stories=stories, delivery_log=log)


def _date_only(article: Article) -> int:
    """1 when the article's `published` is a day without a time of day."""
    return int(article.published is not None and article.published_date_only)


def _row_id(cursor: Any) -> int:
    """The id an `INSERT ... RETURNING id` wrote."""
    row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def globally_unique(guid: str | None) -> bool:
    """True for a guid unique across outlets: a URL, a URN or tag URI, or a long random id."""
    if not guid:
        return False
    return "://" in guid or guid.startswith(("urn:", "tag:")) or len(guid) >= 20
