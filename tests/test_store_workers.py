"""Several workers on one database: source leases, outbox claims, the watchlist version,
and the workers' table; on both engines, and on PostgreSQL with claims made at once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from alertbot.store import NewItem, Recipient, Store
from testsupport.storefixtures import NOW, article

pytestmark = pytest.mark.both_engines

A, B = "host:1:a", "host:2:b"
MINUTE = timedelta(minutes=1)
DESK = Recipient("telegram", "-1001234567890")
READER = Recipient("telegram", "42")


def queue(store: Store, url: str, recipients=(DESK,)) -> list[int]:
    outcome = store.record_item(
        NewItem(article(url), url, None, None, ["Naryshkin"], "", list(recipients)), NOW
    )
    return list(outcome.outbox_ids)


def test_a_source_is_leased_to_one_worker_until_its_lease_expires(store):
    assert store.claim_source("ahram", A, NOW, NOW + MINUTE)
    assert not store.claim_source("ahram", B, NOW, NOW + MINUTE)
    assert store.claim_source("ahram", A, NOW + MINUTE / 2, NOW + 2 * MINUTE)  # renewed
    assert not store.claim_source("ahram", B, NOW + MINUTE, NOW + 3 * MINUTE)
    # A dies: at the expiry of its lease, B takes the source.
    later = NOW + 2 * MINUTE + timedelta(seconds=1)
    assert store.claim_source("ahram", B, later, later + MINUTE)
    assert not store.claim_source("ahram", A, later, later + MINUTE)


def test_a_dead_workers_lease_and_claims_are_free_once_it_is_not_heard_from(store):
    """kill -9: no `leave`; its heartbeat stops, and after `alive_since` its lease and its
    outbox claims go to another worker before they would expire."""
    [row_id] = queue(store, "https://ahram.example/1")
    store.beat(A, "host", 1, NOW, [], NOW)
    store.beat(B, "host", 2, NOW, [], NOW)
    assert store.claim_source("ahram", A, NOW, NOW + 10 * MINUTE)
    assert [r.id for r in store.claim_due(A, NOW, NOW + 10 * MINUTE)] == [row_id]
    later = NOW + MINUTE
    store.beat(B, "host", 2, NOW, [], later)  # B lives on; A is silent
    alive = later - timedelta(seconds=20)
    assert not store.claim_source("ahram", B, later, later + MINUTE)  # without liveness
    assert store.claim_source("ahram", B, later, later + MINUTE, alive_since=alive)
    assert store.claim_due(B, later, later + MINUTE) == []
    assert [r.id for r in store.claim_due(B, later, later + MINUTE, alive_since=alive)] == [row_id]
    assert store.renew_claim(row_id, B, later, later + MINUTE, alive)
    assert not store.renew_claim(row_id, A, later, later + MINUTE, alive)  # B's now


def test_a_worker_that_stops_frees_its_leases_and_claims_at_once(store):
    [row_id] = queue(store, "https://ahram.example/1")
    store.beat(A, "host", 1, NOW, ["bot"], NOW)
    assert store.claim_source("ahram", A, NOW, NOW + MINUTE)
    assert [r.id for r in store.claim_due(A, NOW, NOW + MINUTE)] == [row_id]
    store.leave(A)
    assert store.claim_source("ahram", B, NOW, NOW + MINUTE)
    assert [r.id for r in store.claim_due(B, NOW, NOW + MINUTE)] == [row_id]
    assert store.live_workers(NOW - MINUTE) == []


def test_free_sources_spread_over_the_workers_by_fair_share(store):
    patience = timedelta(seconds=30)
    for name in ("a", "b"):
        assert store.claim_source(name, A, NOW, NOW + MINUTE, fair_share=2, patience=patience)
    # A holds its share: it leaves the third source to another worker for a while...
    assert not store.claim_source("c", A, NOW, NOW + MINUTE, fair_share=2, patience=patience)
    assert store.claim_source("d", B, NOW, NOW + MINUTE, fair_share=2, patience=patience)
    # ...and takes it when nobody else has, once it has been free for the patience.
    later = NOW + patience + timedelta(seconds=1)
    assert store.claim_source("c", A, later, later + MINUTE, fair_share=2, patience=patience)


def test_live_workers_say_what_each_holds(store):
    store.beat(A, "alpha", 11, NOW, ["bot"], NOW)
    store.beat(B, "beta", 22, NOW, [], NOW - 2 * MINUTE)  # not heard from since
    store.claim_source("ahram", A, NOW, NOW + MINUTE)
    [worker] = store.live_workers(NOW - MINUTE)
    assert (worker["id"], worker["host"], worker["pid"]) == (A, "alpha", 11)
    assert worker["roles"] == ["bot"] and worker["sources"] == ["ahram"]
    store.beat(A, "alpha", 11, NOW, [], NOW + MINUTE)  # the bot moved elsewhere
    assert store.live_workers(NOW)[0]["roles"] == []


def test_an_outbox_row_is_claimed_by_one_worker_and_a_dead_workers_claim_expires(store):
    first = queue(store, "https://ahram.example/1", (DESK,))
    second = queue(store, "https://ahram.example/2", (READER,))
    mine = store.claim_due(A, NOW, NOW + MINUTE, limit=1)
    assert [r.id for r in mine] == first
    theirs = store.claim_due(B, NOW, NOW + MINUTE)
    assert [r.id for r in theirs] == second  # A's row is not B's to send
    # A dies before sending: its claim expires and B sends the row.
    later = NOW + MINUTE + timedelta(seconds=1)
    assert [r.id for r in store.claim_due(B, later, later + MINUTE)] == first + second


def test_a_chat_is_served_by_one_worker_at_a_time_and_paced_across_workers(store):
    """Regression (bench/scale_bench.py): two workers sent a group 25 messages in a
    minute, each within its own 20-a-minute window."""
    one = queue(store, "https://ahram.example/1", (DESK,))
    two = queue(store, "https://ahram.example/2", (DESK,))
    assert [r.id for r in store.claim_due(A, NOW, NOW + MINUTE, limit=1)] == one
    # B may not take the chat's second row while A holds its first.
    assert store.claim_due(B, NOW, NOW + MINUTE) == []
    assert store.mark_sent(one[0], NOW)
    # Nor while A's pacing window for that group lasts (20 a minute): A keeps the chat.
    assert store.claim_due(B, NOW + timedelta(seconds=30), NOW + MINUTE) == []
    assert [r.id for r in store.claim_due(A, NOW, NOW + MINUTE)] == two
    store.release_claims(A)
    later = NOW + timedelta(seconds=61)
    assert [r.id for r in store.claim_due(B, later, later + MINUTE)] == two
    # A person's chat: a second (one message a second).
    [three] = queue(store, "https://ahram.example/3", (READER,))
    [four] = queue(store, "https://ahram.example/4", (READER,))
    assert [r.id for r in store.claim_due(A, NOW, NOW + MINUTE, limit=1)] == [three]
    store.mark_sent(three, NOW)
    store.release_claims(A)
    assert four not in [r.id for r in store.claim_due(B, NOW + timedelta(milliseconds=500),
                                                       NOW + MINUTE)]  # fmt: skip
    soon = NOW + timedelta(seconds=2)
    assert four in [r.id for r in store.claim_due(B, soon, soon + MINUTE)]


def test_a_sent_row_is_not_claimed_again(store):
    [row_id] = queue(store, "https://ahram.example/1")
    store.claim_due(A, NOW, NOW + MINUTE)
    store.mark_sent(row_id, NOW, "tg:1")
    later = NOW + 2 * MINUTE
    assert store.claim_due(B, later, later + MINUTE) == []


def test_a_retried_row_is_free_for_any_worker_at_its_next_attempt(store):
    [row_id] = queue(store, "https://ahram.example/1")
    store.claim_due(A, NOW, NOW + 10 * MINUTE)
    store.mark_retry(row_id, "timeout", NOW, NOW + timedelta(seconds=30))
    later = NOW + timedelta(seconds=31)
    assert [r.id for r in store.claim_due(B, later, later + MINUTE)] == [row_id]


def test_each_change_of_a_chats_watches_moves_the_watchlist_version(store):
    start = store.version()
    store.add_watch(42, "Naryshkin", "ناريشكين", NOW)
    store.add_exclusion(42, "sport", "كرة", NOW)
    store.remove_watch(42, "Naryshkin")
    store.remove_exclusion(42, "sport")
    assert store.version() == start + 4
    store.chat_watches(42)  # reading changes nothing
    assert store.version() == start + 4


def test_claims_made_at_the_same_moment_never_both_win(database):
    """Two workers, each with its own connection, claim the same sources and rows at once:
    each source goes to one of them, each row to at most one."""
    stores = [Store.open(database) for _ in range(2)]
    try:
        rows = [queue(stores[0], f"https://ahram.example/{n}", (Recipient("telegram", str(n)),))
                for n in range(40)]  # fmt: skip
        won: dict[str, list] = {A: [], B: []}
        rows_won: dict[str, list] = {A: [], B: []}
        start = threading.Barrier(2)

        def work(store: Store, worker: str) -> None:
            start.wait()
            for n in range(40):
                if store.claim_source(f"s{n}", worker, NOW, NOW + MINUTE):
                    won[worker].append(n)
                for row in store.claim_due(worker, NOW, NOW + MINUTE, 3):
                    rows_won[worker].append(row.id)
                    assert store.mark_sent(row.id, NOW)  # sent once: never by both

        threads = [
            threading.Thread(target=work, args=(s, w)) for s, w in zip(stores, (A, B), strict=True)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(won[A] + won[B]) == list(range(40))
        assert not set(rows_won[A]) & set(rows_won[B])
        assert sorted(rows_won[A] + rows_won[B]) == sorted(r for [r] in rows)
    finally:
        for s in stores:
            s.close()
