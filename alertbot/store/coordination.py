"""What several workers on one database share: who is alive, who polls which source,
who sends which outbox row, and the version of the watchlists.

On SQLite one process holds the database (the run lock), so every claim here is its own;
the same SQL runs there, and the claims simply always succeed. On PostgreSQL the claims are
rows locked with `FOR UPDATE SKIP LOCKED`: two workers claiming at once never wait for
each other, and never both win.

    beat / leave / live_workers             the `workers` table (alertbot status)
    claim_source                            source leases: one poller per source
    claim_due / release_claims              outbox claims: one sender per row, per chat
    bump / version (StoreBase)              the watchlist version
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from alertbot.store.base import StoreBase
from alertbot.store.model import CHANNELS, OutboxRow, outbox_row_from, parse_ts, ts

LOCAL = "local"  # the one worker of an SQLite store


class CoordinationMixin(StoreBase):
    """Workers, leases, claims and versions."""

    @property
    def _skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED" if self.db.kind == "postgresql" else ""

    # -- workers -----------------------------------------------------------------------

    def beat(
        self, worker: str, host: str, pid: int, started: datetime, roles: Sequence[str],
        now: datetime,
    ) -> None:  # fmt: skip
        """Say that `worker` is alive and holds `roles`."""
        with self._write() as db:
            db.execute(
                "INSERT INTO workers (id, host, pid, started, heartbeat, roles)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
                " SET heartbeat = excluded.heartbeat, roles = excluded.roles",
                (worker, host, pid, ts(started), ts(now), json.dumps(sorted(roles))),
            )

    def leave(self, worker: str) -> None:
        """A worker stops: its row goes, and its leases and claims are free at once."""
        with self._write() as db:
            db.execute("DELETE FROM workers WHERE id = ?", (worker,))
            db.execute("DELETE FROM source_leases WHERE worker = ?", (worker,))
            self._release_claims(worker)

    def live_workers(self, since: datetime) -> list[dict[str, Any]]:
        """The workers heard from since `since`, oldest first: id, host, pid, started,
        heartbeat, roles (a list), sources (the names of the sources it leases, casefolded)."""
        rows = self._rows(
            "SELECT id, host, pid, started, heartbeat, roles FROM workers WHERE heartbeat >= ?"
            " ORDER BY started, id",
            (ts(since),),
        )
        leases = self._rows(
            "SELECT worker, name_key FROM source_leases WHERE expires >= ? ORDER BY name_key",
            (ts(since),),
        )
        for r in rows:
            r["started"] = parse_ts(r["started"])
            r["heartbeat"] = parse_ts(r["heartbeat"])
            r["roles"] = json.loads(r["roles"])
            r["sources"] = [lease["name_key"] for lease in leases if lease["worker"] == r["id"]]
        return rows

    def live_worker_count(self, since: datetime) -> int:
        """How many workers were heard from since `since`."""
        return int(self._value("SELECT count(*) FROM workers WHERE heartbeat >= ?", (ts(since),)))

    # -- source leases -----------------------------------------------------------------

    def claim_source(
        self,
        name_key: str,
        worker: str,
        now: datetime,
        until: datetime,
        *,
        fair_share: int | None = None,
        patience: timedelta = timedelta(0),
        alive_since: datetime | None = None,
    ) -> bool:
        """Lease a source to `worker` until `until`, or renew its lease; False if another
        worker holds it (or is claiming it at this moment). With `alive_since`, a holder
        not heard from since then (`beat`) is dead: its lease is free before it expires.

        With `fair_share`, a worker that already holds that many leases takes a free one
        only after it has been free for `patience`: the sources spread over the workers
        instead of going to whichever started first, and a source nobody else takes is
        still polled."""
        with self._write() as db:
            db.execute(
                "INSERT INTO source_leases (name_key, worker, expires) VALUES (?, '', ?)"
                " ON CONFLICT (name_key) DO NOTHING",
                (name_key, ts(now)),
            )
            row = db.execute(
                f"SELECT worker, expires FROM source_leases WHERE name_key = ?{self._skip_locked}",
                (name_key,),
            ).fetchone()
            if row is None:  # another worker is claiming it right now
                return False
            holder, expires = row
            if holder != worker:
                if expires >= ts(now) and holder and self._alive(holder, alive_since):
                    return False
                if fair_share is not None and expires > ts(now - patience):
                    held = db.execute(
                        "SELECT count(*) FROM source_leases WHERE worker = ? AND expires >= ?",
                        (worker, ts(now)),
                    ).fetchone()[0]
                    if held >= fair_share:
                        return False
            db.execute(
                "UPDATE source_leases SET worker = ?, expires = ? WHERE name_key = ?",
                (worker, ts(until), name_key),
            )
            return True

    def _alive(self, worker: str, since: datetime | None) -> bool:
        """Whether `worker` was heard from since `since` (always, without `since`)."""
        if since is None:
            return True
        return bool(
            self._value(
                "SELECT 1 FROM workers WHERE id = ? AND heartbeat >= ?", (worker, ts(since))
            )
        )

    # -- outbox claims -----------------------------------------------------------------

    def claim_due(
        self,
        worker: str,
        now: datetime,
        until: datetime,
        limit: int = 100,
        channels: Sequence[str] | None = None,
        pace: timedelta = timedelta(seconds=1),
        group_pace: timedelta = timedelta(seconds=60),
        alive_since: datetime | None = None,
    ) -> list[OutboxRow]:
        """Claim for `worker`, until `until`, the pending rows due at `now` (oldest first,
        of `channels` when given) that no other worker holds; `due`, for several workers.

        A recipient is served by one worker at a time: a row is left out while another
        worker holds a row of the same recipient, or sent it one less than `pace` ago
        (`group_pace` for a group or channel, whose ids are negative). Each worker paces
        the chats it sends to (`alertbot.notify.pacing`: one message a second to a person,
        20 a minute to a group); a chat stays with the worker that sends to it for as long
        as those windows last, so their limits hold across workers too: two workers never
        send one chat two messages in the same second, nor a group 21 in a minute. With
        `alive_since`, the claims of a worker not heard from since then are void (it died
        mid-send)."""
        wanted = list(CHANNELS if channels is None else channels)
        marks = ", ".join("?" * len(wanted))
        held, held_params = _held_claim("outbox", now, alive_since)
        held_other, other_params = _held_claim("other", now, alive_since)
        with self._write() as db:
            rows = db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ("
                " SELECT id FROM outbox WHERE state = 'pending' AND next_attempt <= ?"
                f" AND channel IN ({marks}) AND (claimed_by = ? OR NOT ({held}))"
                " AND NOT EXISTS (SELECT 1 FROM outbox AS other"
                "  WHERE other.channel = outbox.channel AND other.recipient = outbox.recipient"
                f"  AND other.claimed_by <> ? AND ((other.state = 'pending' AND {held_other})"
                "  OR (other.state = 'sent' AND other.finished >="
                "  CASE WHEN other.recipient LIKE '-%' THEN ? ELSE ? END)))"
                f" ORDER BY next_attempt, id LIMIT ?{self._skip_locked}) RETURNING *",
                (
                    worker, ts(until), ts(now), *wanted, worker, *held_params, worker,
                    *other_params, ts(now - group_pace), ts(now - pace), limit,
                ),
            )  # fmt: skip
            keys = [d[0] for d in rows.description]
            claimed = [dict(zip(keys, row, strict=True)) for row in rows.fetchall()]
        claimed.sort(key=lambda r: (r["next_attempt"], r["id"]))
        return [outbox_row_from(r) for r in claimed]

    def renew_claim(
        self,
        row_id: int,
        worker: str,
        now: datetime,
        until: datetime,
        alive_since: datetime | None = None,
    ) -> bool:
        """Keep claiming a pending row for `worker` until `until` (right before sending
        it); False if it is no longer pending, or another worker claimed it since
        `worker`'s claim ran out."""
        held, params = _held_claim("outbox", now, alive_since)
        with self._write() as db:
            return bool(
                db.execute(
                    "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?"
                    f" AND state = 'pending' AND (claimed_by = ? OR NOT ({held}))",
                    (worker, ts(until), row_id, worker, *params),
                ).rowcount
            )

    def release_claims(self, worker: str) -> None:
        """Give up `worker`'s claims on rows not yet sent (a worker stopping)."""
        with self._write():
            self._release_claims(worker)

    def _release_claims(self, worker: str) -> None:
        self.db.execute(
            "UPDATE outbox SET claimed_until = NULL WHERE claimed_by = ? AND state = 'pending'",
            (worker,),
        )


def _held_claim(
    table: str, now: datetime, alive_since: datetime | None
) -> tuple[str, tuple[str, ...]]:
    """SQL true when `table`'s row is claimed by a worker that may still send it: the
    claim has not run out and (with `alive_since`) its worker was heard from since then;
    and its parameters."""
    condition = f"coalesce({table}.claimed_until, '') >= ?"
    if alive_since is None:
        return condition, (ts(now),)
    alive = f"{table}.claimed_by IN (SELECT id FROM workers WHERE heartbeat >= ?)"
    return f"{condition} AND {alive}", (ts(now), ts(alive_since))
