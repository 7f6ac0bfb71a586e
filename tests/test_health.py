"""Source health: exponential backoff, capped; Retry-After honoured; success resets."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alertbot.sources.health import MAX_BACKOFF, SourceHealth, after_failure, after_success
from alertbot.sources.model import FetchError, FetchErrorKind
from alertbot.status import describe_health

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(minutes=5)
TIMEOUT = FetchError(FetchErrorKind.TIMEOUT, "no answer within 20 s")


def fail(times: int, error: FetchError = TIMEOUT) -> SourceHealth:
    health = SourceHealth()
    for _ in range(times):
        health = after_failure(health, error, NOW, INTERVAL)
    return health


def test_backoff_doubles_per_consecutive_failure():
    assert [fail(n).next_poll - NOW for n in (1, 2, 3, 4)] == [
        INTERVAL,
        INTERVAL * 2,
        INTERVAL * 4,
        INTERVAL * 8,
    ]


def test_backoff_is_capped_in_hours_so_a_source_is_never_parked_forever():
    health = fail(40)
    assert health.next_poll - NOW == MAX_BACKOFF
    assert health.consecutive_failures == 40


def test_retry_after_is_honoured_when_later_than_the_backoff():
    limited = FetchError(FetchErrorKind.HTTP_STATUS, "HTTP 429", status=429, retry_after=3600)
    assert fail(1, limited).next_poll - NOW == timedelta(hours=1)


def test_a_short_retry_after_does_not_shorten_the_interval():
    limited = FetchError(FetchErrorKind.HTTP_STATUS, "HTTP 503", status=503, retry_after=1)
    assert fail(1, limited).next_poll - NOW == INTERVAL


def test_success_resets_failures_and_records_the_time():
    health = after_success(fail(3), NOW, INTERVAL)
    assert health.healthy and health.last_success == NOW and health.next_poll == NOW + INTERVAL
    assert health.last_error is None


def test_describe_names_the_error_kind_and_next_try_in_local_time():
    text = describe_health(fail(2), ZoneInfo("Africa/Cairo"), zone=True)
    assert "timeout" in text and "×2" in text and "next try" in text
    local = (fail(2).next_poll).astimezone(ZoneInfo("Africa/Cairo"))
    assert f"{local:%Y-%m-%d %H:%M} (Africa/Cairo)" in text
