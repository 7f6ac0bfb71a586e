"""The database schema, its versioned migrations, and the connection settings.

Migrations are sqlite-utils `Migrations`, applied in order at start, each in its own
transaction together with the record of it having been applied. Each one also sets
`PRAGMA user_version` to its number, so a database written by a newer alertbot (a higher
`user_version`, or a migration name this code does not know) is refused with a clear
message instead of being half-understood.

Connection settings, and why:

- `journal_mode=WAL`: readers (`alertbot status`, a second process) never block the
  writer, and a commit is one append to the log.
- `synchronous=FULL`: in WAL mode, NORMAL is safe from corruption but a commit that
  returned may still be lost on power loss, because the log is not synced at each commit.
  The commits that matter here are "item seen + its outbox rows" and "this row was sent";
  losing the second re-sends a message, losing the first could drop one if the feed moved
  on. FULL syncs the log at every commit; alertbot writes a few rows a minute, so the
  cost is nothing.
- `busy_timeout=5000`: a second process (the CLI while the worker runs) waits up to 5 s
  for the write lock instead of failing at once. Writes begin with `BEGIN IMMEDIATE` (see
  `Store._write`), so the wait happens at the start, where the timeout applies.
- `foreign_keys=ON`: outbox rows and story outlets cannot point at a story that is gone.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

BUSY_TIMEOUT_MS = 5000

migrations = Migrations("alertbot")

_V1 = """
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_success TEXT,
    last_attempt TEXT,
    last_error_kind TEXT,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    next_poll TEXT
);

CREATE TABLE stories (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    first_source TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    published TEXT,
    updated TEXT NOT NULL,
    watches TEXT NOT NULL DEFAULT '[]',   -- JSON list of watch names, in order
    snippet TEXT NOT NULL DEFAULT ''      -- the sentence that matched first
);
CREATE INDEX stories_updated ON stories(updated);

-- Every outlet that carried a story, the first one included.
CREATE TABLE story_sources (
    story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (story_id, url)
);

CREATE TABLE seen_items (
    id INTEGER PRIMARY KEY,
    canonical_url TEXT NOT NULL,
    url TEXT NOT NULL,
    guid TEXT,
    content_hash TEXT NOT NULL,
    fingerprint BLOB,
    source TEXT NOT NULL,
    story_id INTEGER REFERENCES stories(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    published TEXT,
    first_seen TEXT NOT NULL
);
CREATE INDEX seen_items_canonical_url ON seen_items(canonical_url);
CREATE INDEX seen_items_guid ON seen_items(guid) WHERE guid IS NOT NULL;
CREATE INDEX seen_items_content_hash ON seen_items(content_hash);
CREATE INDEX seen_items_first_seen ON seen_items(first_seen);
CREATE INDEX seen_items_story ON seen_items(story_id);

CREATE TABLE chats (
    chat_id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    title TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);

-- chat_id NULL: a watch from the config file's [[watch]] entries.
CREATE TABLE watches (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER,                      -- no foreign key: a watch may come before its chat row
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,               -- name.casefold(): names are unique per owner
    query TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE UNIQUE INDEX watches_owner_name ON watches(ifnull(chat_id, 0), name_key);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    story_id INTEGER NOT NULL REFERENCES stories(id),
    seen_item_id INTEGER REFERENCES seen_items(id) ON DELETE SET NULL,
    channel TEXT NOT NULL CHECK (channel IN ('telegram', 'email', 'console')),
    recipient TEXT NOT NULL CHECK (recipient <> ''),
    watches TEXT NOT NULL DEFAULT '[]',   -- JSON list: the watches this recipient follows
    snippet TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    last_error TEXT,
    created TEXT NOT NULL,
    finished TEXT,                        -- when it was sent or marked failed
    message_ref TEXT,
    UNIQUE (story_id, recipient, channel)
);
CREATE INDEX outbox_due ON outbox(state, next_attempt);
CREATE INDEX outbox_finished ON outbox(finished);

CREATE TABLE delivery_log (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL,           -- no foreign key: the log outlives pruned rows
    story_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('sent', 'retry', 'failed')),
    at TEXT NOT NULL,
    message_ref TEXT,
    error TEXT
);
CREATE INDEX delivery_log_at ON delivery_log(at);

CREATE TABLE recaps (
    date_key TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL,
    recipients TEXT NOT NULL DEFAULT '[]' -- JSON list
);
"""


_V2 = """
-- Telegram: a chat blocked or kicked the bot (active = 0), was allowed by an admin,
-- paused its alerts, or muted them until a time (matches then go to the recap only).
ALTER TABLE chats ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE chats ADD COLUMN allowed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN muted_until TEXT;

-- A sent alert whose story the reader muted is no longer edited with new outlets;
-- `outlets_shown` is how many outlets the sent message names.
ALTER TABLE outbox ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN outlets_shown INTEGER NOT NULL DEFAULT 1;
CREATE INDEX outbox_story ON outbox(story_id, channel, state);

-- The article text, kept for a week so that a new /watch can be tried on recent news.
ALTER TABLE seen_items ADD COLUMN text TEXT;

-- Sources added from Telegram by an admin (config sources live in the config file).
CREATE TABLE runtime_sources (
    name TEXT PRIMARY KEY,
    name_key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    type TEXT NOT NULL,
    added_by INTEGER,
    added_at TEXT NOT NULL
);
"""


_V3 = """
-- A chat's recap by email: the address, and until it is verified the hash of the code
-- mailed to it (so only someone who reads that mailbox can subscribe it).
CREATE TABLE chat_emails (
    chat_id INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    code_hash TEXT,
    code_expires TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    verified INTEGER NOT NULL DEFAULT 0,
    updated TEXT NOT NULL
);
"""


_V4 = """
-- 1 when `published` is a day whose time the source did not give (stored as 00:00 UTC of
-- that day): shown as the date alone. Earlier versions stored such dates the same way,
-- so an existing value of exactly midnight UTC is taken as one.
ALTER TABLE seen_items ADD COLUMN published_date_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN published_date_only INTEGER NOT NULL DEFAULT 0;
UPDATE seen_items SET published_date_only = 1 WHERE published LIKE '%T00:00:00.000000+00:00';
UPDATE stories SET published_date_only = 1 WHERE published LIKE '%T00:00:00.000000+00:00'
"""


_V5 = """
-- What a source's last poll left out: entries skipped, per reason (alertbot.sources.model
-- SkipReason), and new entries waiting beyond the per-poll cap; and whether the admins
-- were told it is failing (told once, and of its recovery once, even across restarts).
ALTER TABLE sources ADD COLUMN skipped_no_link INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN skipped_bad_link INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN skipped_duplicate INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN skipped_no_text INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN skipped_cut INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sources ADD COLUMN admins_told INTEGER NOT NULL DEFAULT 0;
"""


_V6 = """
-- Story clustering's outcomes: a story that follows up an earlier one (related), and how
-- each seen item was filed: 'new' (it started a story), 'joined', 'related', or NULL
-- (filed under none: it matched no watch and joined no story).
ALTER TABLE stories ADD COLUMN related_to INTEGER;
ALTER TABLE seen_items ADD COLUMN relation TEXT
"""


_V7 = """
-- The story clustering's names of each item (its terms the morphology reads as a proper
-- noun or does not know; space-separated; NULL for items recorded before): a start rebuilds
-- the clustering from the stored texts without analysing their words again.
ALTER TABLE seen_items ADD COLUMN names TEXT
"""


_V8 = """
-- A watch limited to some sources (a JSON list of source names; NULL: every source), and
-- the forum topic (message thread id) its alerts go to (NULL: the chat itself).
ALTER TABLE watches ADD COLUMN sources TEXT;
ALTER TABLE watches ADD COLUMN topic INTEGER;

-- A chat's exclusions (/exclude): an article one of them matches alerts nobody in the chat.
CREATE TABLE exclusions (
    id INTEGER PRIMARY KEY,
    chat_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,               -- name.casefold(): names are unique per chat
    query TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE UNIQUE INDEX exclusions_chat_name ON exclusions(chat_id, name_key);

-- The outbox gains the forum topic an alert goes to (0: none; Telegram's thread ids are
-- positive), and a recipient is one row per story in each of its topics. A table's UNIQUE
-- constraint cannot be changed in place, so the table is rebuilt; 0 rather than NULL
-- because NULLs are all distinct to a UNIQUE constraint.
CREATE TABLE outbox_v8 (
    id INTEGER PRIMARY KEY,
    story_id INTEGER NOT NULL REFERENCES stories(id),
    seen_item_id INTEGER REFERENCES seen_items(id) ON DELETE SET NULL,
    channel TEXT NOT NULL CHECK (channel IN ('telegram', 'email', 'console')),
    recipient TEXT NOT NULL CHECK (recipient <> ''),
    topic INTEGER NOT NULL DEFAULT 0 CHECK (topic >= 0),
    watches TEXT NOT NULL DEFAULT '[]',
    snippet TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt TEXT NOT NULL,
    last_error TEXT,
    created TEXT NOT NULL,
    finished TEXT,
    message_ref TEXT,
    muted INTEGER NOT NULL DEFAULT 0,
    outlets_shown INTEGER NOT NULL DEFAULT 1,
    UNIQUE (story_id, recipient, channel, topic)
);
INSERT INTO outbox_v8 (id, story_id, seen_item_id, channel, recipient, watches, snippet,
    state, attempts, next_attempt, last_error, created, finished, message_ref, muted,
    outlets_shown)
SELECT id, story_id, seen_item_id, channel, recipient, watches, snippet, state, attempts,
    next_attempt, last_error, created, finished, message_ref, muted, outlets_shown
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_v8 RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(state, next_attempt);
CREATE INDEX outbox_finished ON outbox(finished);
CREATE INDEX outbox_story ON outbox(story_id, channel, state)
"""


_V9 = """
-- Several workers on one database (PostgreSQL; on SQLite one process holds everything).
-- The live workers: each writes its row every few seconds and removes it when it stops;
-- `roles` is a JSON list of what it holds (bot, ...).
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started TEXT NOT NULL,
    heartbeat TEXT NOT NULL,
    roles TEXT NOT NULL DEFAULT '[]'
);

-- Which worker polls a source, until when: claimed for one poll interval and renewed by
-- each poll; a dead worker's leases expire and another worker takes them.
CREATE TABLE source_leases (
    name_key TEXT PRIMARY KEY,            -- the source's name, casefolded
    worker TEXT NOT NULL,
    expires TEXT NOT NULL
);
CREATE INDEX source_leases_worker ON source_leases(worker);

-- An outbox row being sent is claimed by one worker until a time; a dead worker's claims
-- expire and its rows are sent by another.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
CREATE INDEX outbox_recipient ON outbox(channel, recipient, state);

-- Counters every worker watches: 'watchlist' goes up with each change of a chat's
-- watches or exclusions, 'sources' with each source added or removed from Telegram, so
-- that the workers that did not make the change take it up.
CREATE TABLE versions (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO versions (name, value) VALUES ('watchlist', 0);
INSERT INTO versions (name, value) VALUES ('sources', 0)
"""


# Each migration's name and script, in order: the same versions on both engines. SQLite
# runs a script as written; PostgreSQL runs it translated (`postgres_statements`).
SCRIPTS: list[tuple[str, str]] = [
    ("0001_initial", _V1),
    ("0002_telegram", _V2),
    ("0003_chat_emails", _V3),
    ("0004_published_date_only", _V4),
    ("0005_source_counts", _V5),
    ("0006_story_relations", _V6),
    ("0007_item_names", _V7),
    ("0008_controls", _V8),
    ("0009_workers", _V9),
]
SCHEMA_VERSION = len(SCRIPTS)


def _register(name: str, script: str, version: int) -> None:
    @migrations(name=name)
    def migrate(db: Database) -> None:
        _run_script(db, script, version)


for _number, (_name, _script) in enumerate(SCRIPTS, 1):
    _register(_name, _script, _number)


def _run_script(db: Database, script: str, version: int) -> None:
    """Run a migration's statements and record its number in `user_version`."""
    for statement in _statements(script):
        db.execute(statement)
    db.execute(f"PRAGMA user_version = {version}")


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (the script has no ';' inside literals)."""
    lines = [line.split("--", 1)[0] for line in script.splitlines()]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def known_migrations() -> list[str]:
    """The names of the migrations this code knows, in order."""
    return [name for name, _ in SCRIPTS]


def connect(path: str) -> sqlite3.Connection:
    """A connection for the store's thread (opened on another: `check_same_thread` off)."""
    return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)


def connect_read_only(path: str) -> sqlite3.Connection:
    """A read-only connection to an existing database, for the store runner's reader."""
    uri = f"{Path(path).absolute().as_uri()}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    return conn


def apply_pragmas(db: Database) -> None:
    """Set the durability and concurrency settings described in the module docstring."""
    if not db.memory:
        db.enable_wal()
    db.execute("PRAGMA synchronous = FULL")
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
