"""Loading the TOML config and watchlists; every error names its key path."""

from pathlib import Path

import pytest

from alertbot.config import (
    config_path,
    load_config,
    load_watchlist,
    parse_duration,
    validate_config,
)
from alertbot.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "config" / "alertbot.toml"

WATCH = '[[watch]]\nname = "Gaza"\nquery = "غزة"\n'


@pytest.fixture
def write(tmp_path):
    """Write a TOML file into tmp_path and return its path."""

    def write(text: str, name: str = "alertbot.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def config_error(path: Path, environ: dict[str, str] | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=environ or {})
    return info.value


# --- the default config ------------------------------------------------------------------


def test_default_config_loads():
    config = load_config(DEFAULT, environ={})
    assert [w.name for w in config.watches] == [
        "Naryshkin",
        "El-Dabaa nuclear plant",
        "Gaza ceasefire",
    ]
    assert [s.name for s in config.sources] == [
        "BBC Arabic",
        "France 24 Arabic",
        "RT Arabic",
        "DW Arabic",
    ]
    assert all(s.url.startswith("https://") and s.type == "feed" for s in config.sources)
    assert config.timezone.key == "Africa/Cairo"
    assert config.retention == 30 * 86400
    assert config.polling.interval == 300
    assert config.polling.timeout == 20
    assert config.polling.concurrency == 8
    assert config.email is None


def test_default_config_without_token_has_no_telegram():
    assert load_config(DEFAULT, environ={}).telegram is None
    assert load_config(DEFAULT, environ={"TELEGRAM_BOT_TOKEN": "  "}).telegram is None


def test_default_config_with_token_has_telegram():
    config = load_config(DEFAULT, environ={"TELEGRAM_BOT_TOKEN": "123:secret"})
    assert config.telegram is not None
    assert config.telegram.token == "123:secret"
    assert config.telegram.api_url == "https://api.telegram.org/bot"
    assert "123:secret" not in repr(config)


def test_missing_optional_sections_take_defaults(write):
    config = load_config(write(WATCH), environ={})
    assert config.timezone.key == "UTC"
    assert config.telegram is None and config.email is None
    assert config.sources == ()
    assert config.polling.interval == 300


# --- ${VAR} ------------------------------------------------------------------------------


def test_variables_expand_from_the_environ_argument(write):
    path = write(
        '[telegram]\ntoken = "${TOK}"\nadmins = [42]\n'
        '[email]\nsmtp_host = "${SMTP_HOST}"\nsender = "a <a@example.org>"\n'
        'password = "${SMTP_PASSWORD}"\nrecap_to = ["${DESK}"]\n'
    )
    config = load_config(
        path,
        environ={
            "TOK": "t0k",
            "SMTP_HOST": "smtp.example.org",
            "SMTP_PASSWORD": "pw",
            "DESK": "desk@example.org",
        },
    )
    assert config.telegram.token == "t0k"
    assert config.telegram.admins == (42,)
    assert config.email.smtp_host == "smtp.example.org"
    assert config.email.password == "pw"
    assert config.email.recap_to == ("desk@example.org",)
    assert "pw" not in repr(config.email) and "t0k" not in repr(config)


def test_unset_variable_in_the_token_means_no_telegram(write):
    path = write('[telegram]\ntoken = "${NOT_SET_ANYWHERE}"\n')
    assert load_config(path, environ={}).telegram is None
    assert validate_config(path, environ={}) == []


def test_unset_variable_is_an_error_naming_the_key_and_the_variable(write):
    """Issue 11: an unset SMTP_PASSWORD was silently an empty password, and an unset
    `database = "${DB}"` gave "cannot open the database: ." with no key."""
    path = write(
        'database = "${DB}"\n'
        '[email]\nsmtp_host = "smtp.example.org"\nsender = "a@example.org"\n'
        'password = "${SMTP_PASSWORD}"\nrecap_to = ["${DESK}", "${TEAM}@${DOMAIN}"]\n'
    )
    err = config_error(path)
    assert str(err) == f"{path}: database: ${{DB}} is not set"
    errors = validate_config(path, environ={"DOMAIN": "example.org"})
    assert [str(e).removeprefix(f"{path}: ") for e in errors] == [
        "database: ${DB} is not set",
        "email.password: ${SMTP_PASSWORD} is not set",
        "email.recap_to[0]: ${DESK} is not set",
        "email.recap_to[1]: ${TEAM} is not set",
    ]


def test_variable_set_to_empty_is_set(write):
    path = write(
        '[email]\nsmtp_host = "smtp.example.org"\nsender = "a@example.org"\n'
        'password = "${SMTP_PASSWORD}"\n'
    )
    assert load_config(path, environ={"SMTP_PASSWORD": ""}).email.password == ""
    err = config_error(write('database = "${DB}"\n'), {"DB": ""})
    assert (err.key, err.detail) == ("database", "must not be empty")


def test_telegram_api_url_must_be_http_with_a_host(write):
    """Issue 11: `api_url = "file:///etc/passwd"` was accepted."""
    for url in ("file:///etc/passwd", "http://", "ftp://api.example.org/bot", "", "https://:1/"):
        path = write(f'[telegram]\ntoken = "1:x"\napi_url = "{url}"\n')
        err = config_error(path)
        assert (err.key, err.detail) == (
            "telegram.api_url",
            f"expected an http:// or https:// URL, got {url!r}",
        )
        # Checked whether or not a token is set: the key is wrong either way.
        [problem] = validate_config(write(f'[telegram]\napi_url = "{url}"\n'), environ={})
        assert problem.key == "telegram.api_url"
    config = load_config(write('[telegram]\ntoken = "1:x"\napi_url = "http://127.0.0.1:81/bot"\n'))
    assert config.telegram.api_url == "http://127.0.0.1:81/bot"


def test_variable_expanding_to_empty_in_a_required_key_is_an_error(write):
    path = write('[email]\nsmtp_host = "${HOST}"\nsender = "a@example.org"\n')
    err = config_error(path, {"HOST": ""})
    assert err.key == "email.smtp_host"
    assert "must not be empty" in str(err)


# --- errors name the key path ------------------------------------------------------------


def test_unknown_top_level_key(write):
    path = write('timezone = "UTC"\nwatches = []\n')
    err = config_error(path)
    assert err.key == "watches"
    assert str(err) == f"{path}: watches: unknown key"


def test_unknown_key_in_polling(write):
    err = config_error(write('[polling]\ninterval = "5m"\nintervall = "2m"\n'))
    assert err.key == "polling.intervall"
    assert "polling.intervall: unknown key" in str(err)


def test_wrong_type(write):
    err = config_error(write('[polling]\nconcurrency = "8"\n'))
    assert err.key == "polling.concurrency"
    assert "polling.concurrency: expected an integer, got a string" in str(err)


def test_boolean_is_not_an_integer(write):
    err = config_error(write("[polling]\nmax_bytes = true\n"))
    assert "polling.max_bytes: expected an integer, got a boolean" in str(err)


def test_section_that_is_not_a_table(write):
    err = config_error(write("polling = 5\n"))
    assert "polling: expected a table, got an integer" in str(err)


def test_bad_duration_in_a_source(write):
    path = write(
        '[[source]]\nname = "A"\nurl = "https://a.example.org/rss"\n'
        '[[source]]\nname = "B"\nurl = "https://b.example.org/rss"\ninterval = "5x"\n'
    )
    err = config_error(path)
    assert err.key == "source[1].interval"
    path = write('[[source]]\nname = "A"\nurl = "https://a.example.org/rss"\ninterval = "5x"\n')
    err = config_error(path)
    assert err.key == "source[0].interval"
    assert "source[0].interval" in str(err) and "bad duration '5x'" in str(err)


@pytest.mark.parametrize("value", ['"0m"', '"5"', '"m"', '"1.5h"', '"-5m"', "300"])
def test_bad_polling_durations(write, value):
    err = config_error(write(f"[polling]\ninterval = {value}\n"))
    assert err.key == "polling.interval"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("2h30m", 9000), ("٥m", 300)],
)
def test_durations_share_the_bots_grammar(text, seconds):
    assert parse_duration(text, "x") == seconds


def test_bad_source_type_and_url(write):
    err = config_error(write('[[source]]\nname = "A"\nurl = "https://a.org"\ntype = "rss"\n'))
    assert err.key == "source[0].type"
    err = config_error(write('[[source]]\nname = "A"\nurl = "ftp://a.org"\n'))
    assert err.key == "source[0].url"
    err = config_error(write('[[source]]\nname = "A"\nurl = "https://"\n'))
    assert err.key == "source[0].url"


def test_bad_query_names_the_watch_and_the_column(write):
    path = write(WATCH + '[[watch]]\nname = "Dabaa"\nquery = "الضبعة AND"\n')
    err = config_error(path)
    assert err.key == "watch[1].query"
    assert str(err) == f"{path}: watch[1].query: nothing after AND at column 11"


def test_a_query_nested_hundreds_deep_is_an_error_naming_the_key_not_a_crash(write):
    query = "(" * 500 + "غزة" + ")" * 500
    err = config_error(write(WATCH + f'[[watch]]\nname = "Deep"\nquery = "{query}"\n'))
    assert err.key == "watch[1].query"
    assert err.detail == "too deeply nested: at most 20 levels of parentheses at column 21"


def test_a_lower_case_operator_in_a_config_query_names_the_key(write):
    err = config_error(write('[[watch]]\nname = "Gaza"\nquery = "غزة or Gaza"\n'))
    assert err.key == "watch[0].query"
    assert "operators are upper-case: 'or' must be OR" in err.detail


def test_duplicate_watch_names(write):
    err = config_error(write(WATCH + '[[watch]]\nname = "gaza"\nquery = "Gaza"\n'))
    assert err.key == "watch[1].name"
    assert "duplicate watch name" in str(err) and "watch[0]" in str(err)


def test_duplicate_source_names(write):
    source = '[[source]]\nname = "A"\nurl = "https://a.org"\n'
    err = config_error(write(source + source))
    assert err.key == "source[1].name"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.toml"
    err = config_error(path)
    assert str(err) == f"{path}: file not found"


def test_invalid_toml(write):
    path = write('timezone = "UTC\n')
    err = config_error(path)
    assert str(err).startswith(f"{path}: not valid TOML")
    assert "line 1" in str(err)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", ""])
def test_bad_timezone(write, zone):
    err = config_error(write(f'timezone = "{zone}"\n'))
    assert err.key == "timezone"
    assert "unknown time zone" in str(err)


def test_bad_email_security(write):
    path = write('[email]\nsmtp_host = "h"\nsender = "s@example.org"\nsecurity = "tls"\n')
    err = config_error(path)
    assert err.key == "email.security"
    assert "must be one of starttls, ssl, none, not 'tls'" in str(err)


def test_bad_email_recap_time(write):
    path = write('[email]\nsmtp_host = "h"\nsender = "s@example.org"\nrecap_at = "8am"\n')
    assert config_error(path).key == "email.recap_at"


def test_email_port_defaults_follow_security(write):
    path = write('[email]\nsmtp_host = "h"\nsender = "s@example.org"\nsecurity = "ssl"\n')
    assert load_config(path, environ={}).email.smtp_port == 465


def test_bad_chat_id(write):
    err = config_error(write('[telegram]\ntoken = "t"\nadmins = ["me"]\n'))
    assert err.key == "telegram.admins[0]"


# --- watchlists --------------------------------------------------------------------------


def test_watchlist_loads(write):
    watches = load_watchlist(write(WATCH, "watches.toml"), environ={})
    assert [(w.name, w.query) for w in watches] == [("Gaza", "غزة")]


def test_watchlist_rejects_other_top_level_keys(write):
    path = write('timezone = "UTC"\n' + WATCH, "watches.toml")
    with pytest.raises(ConfigError) as info:
        load_watchlist(path, environ={})
    assert info.value.key == "timezone"
    assert "unknown key" in str(info.value)


@pytest.mark.parametrize("text", ["", "watch = []\n", "# nothing yet\n"])
def test_watchlist_rejects_an_empty_list(write, text):
    path = write(text, "watches.toml")
    with pytest.raises(ConfigError) as info:
        load_watchlist(path, environ={})
    assert str(info.value) == f"{path}: no [[watch]] entries"


def test_watchlist_bad_query_names_the_key(write):
    path = write('[[watch]]\nname = "x"\nquery = "(غزة"\n', "watches.toml")
    with pytest.raises(ConfigError) as info:
        load_watchlist(path, environ={})
    assert info.value.key == "watch[0].query"
    assert str(info.value).endswith("unclosed ( at column 1")


def test_watch_entry_with_unknown_key(write):
    path = write('[[watch]]\nname = "x"\nquery = "غزة"\nchat = 5\n', "watches.toml")
    with pytest.raises(ConfigError) as info:
        load_watchlist(path, environ={})
    assert info.value.key == "watch[0].chat"


# --- which file --------------------------------------------------------------------------


def test_config_path_option_then_environment_then_default():
    assert config_path("x.toml", environ={"ALERTBOT_CONFIG": "y.toml"}) == Path("x.toml")
    assert config_path(None, environ={"ALERTBOT_CONFIG": "y.toml"}) == Path("y.toml")
    assert config_path(None, environ={}) == Path("config/alertbot.toml")


# --- validate_config: every problem at once ----------------------------------------------


def test_validate_config_reports_every_problem_in_file_order(write):
    path = write(
        'timezone = "UTC"\n'
        "colour = 1\n"
        '[polling]\ninterval = "5x"\nintervall = "2m"\n'
        '[telegram]\ntoken = "t"\nadmins = ["me", 5, "you"]\n'
        '[[source]]\nname = "A"\nurl = "https://a.example.org/rss"\n'
        '[[source]]\nname = "B"\nurl = "https://b.example.org/rss"\nfull_text = "yes"\n'
        '[[watch]]\nname = "Dabaa"\nquery = "الضبعة AND"\n'
    )
    errors = validate_config(path, environ={})
    assert [e.key for e in errors] == [
        "polling.interval",
        "polling.intervall",
        "telegram.admins[0]",
        "telegram.admins[2]",
        "source[1].full_text",
        "watch[0].query",
        "colour",
    ]
    assert all(isinstance(e, ConfigError) and str(e).startswith(f"{path}: ") for e in errors)
    assert "bad duration '5x'" in str(errors[0])
    assert str(errors[4]).endswith("source[1].full_text: expected a boolean, got a string")
    assert str(errors[5]).endswith("watch[0].query: nothing after AND at column 11")


def test_validate_config_first_problem_is_what_load_config_raises(write):
    path = write('[[source]]\nname = "A"\nurl = "ftp://a.org"\ntype = "rss"\nx = 1\n')
    errors = validate_config(path, environ={})
    assert [e.key for e in errors] == ["source[0].type", "source[0].url", "source[0].x"]
    assert str(config_error(path)) == str(errors[0])


def test_validate_config_reports_a_problem_once(write):
    # A missing or mistyped key is not also "empty", "not a URL" or a bad duration.
    path = write(
        "[[source]]\nname = 5\ninterval = 60\n"
        '[[source]]\nname = "B"\nurl = "https://b.org"\n'
        '[[watch]]\nname = "x"\n'
        '[email]\nsmtp_host = ""\nsender = "s@example.org"\nsmtp_port = 0\nsecurity = "tls"\n'
    )
    errors = validate_config(path, environ={})
    assert sorted((e.key, e.detail) for e in errors) == sorted(
        [
            ("email.security", "must be one of starttls, ssl, none, not 'tls'"),
            ("email.smtp_host", "must not be empty"),
            ("email.smtp_port", "must be a positive integer, got 0"),
            ("source[0].name", "expected a string, got an integer"),
            ("source[0].url", "is required"),
            ("source[0].interval", "expected a string, got an integer"),
            ("watch[0].query", "is required"),
        ]
    )


def test_validate_config_duplicates_and_non_tables(write):
    path = write(
        'timezone = "Mars/Olympus_Mons"\npolling = 5\nsource = [1]\n'
        + WATCH
        + '[[watch]]\nname = "gaza"\nquery = "غزة"\n'
    )
    errors = validate_config(path, environ={})
    assert [e.key for e in errors] == ["timezone", "polling", "source[0]", "watch[1].name"]


def test_validate_config_of_a_good_file_is_empty():
    assert validate_config(DEFAULT, environ={"TELEGRAM_BOT_TOKEN": "1:x"}) == []


def test_validate_config_missing_file_and_invalid_toml(tmp_path, write):
    missing = tmp_path / "nope.toml"
    [err] = validate_config(missing, environ={})
    assert str(err) == f"{missing}: file not found"
    [err] = validate_config(write('timezone = "UTC\n'), environ={})
    assert "not valid TOML" in str(err)


def test_nothing_to_poll(write):
    """Issue 11: with no [[source]] and none added from Telegram, `alertbot run` refuses;
    a bot with admins may start without any (they add them with /addsource)."""
    from alertbot.config import nothing_to_poll

    bare = load_config(write(WATCH), environ={})
    assert nothing_to_poll(bare, 0, once=False).detail.startswith("nothing to poll: ")
    assert nothing_to_poll(bare, 1, once=False) is None
    bot = load_config(write('[telegram]\ntoken = "1:x"\nadmins = [5]\n'), environ={})
    assert nothing_to_poll(bot, 0, once=False) is None
    assert nothing_to_poll(bot, 0, once=True) is not None
    default = load_config(DEFAULT, environ={})
    assert nothing_to_poll(default, 0, once=True) is None


def test_a_database_url_of_another_engine_is_refused_with_the_key_not_taken_for_a_file(write):
    """A URL was silently a relative path: a file named "mysql:" would appear."""
    for value in ("mysql://alertbot@db.example/alertbot", "sqlite:///state/a.db"):
        err = config_error(write(f'database = "{value}"\n'))
        assert err.key == "database"
        assert "URLs are not supported" in err.detail and "postgresql://" in err.detail
    path = write('database = "state/with:colon.db"\n')
    assert load_config(path).database.name == "with:colon.db"
    assert not load_config(path).shared_store


def test_a_postgresql_url_is_the_store_with_its_password_from_the_environment(write):
    path = write('database = "postgresql://alertbot:${PGPASS}@db.example:5433/alerts"\n')
    config = load_config(path, environ={"PGPASS": "s3cret"})
    assert config.store_target == "postgresql://alertbot:s3cret@db.example:5433/alerts"
    assert config.shared_store and config.state_dir.name == "state"
    assert "s3cret" not in config.database_label
    assert config.database_label == "postgresql://alertbot:***@db.example:5433/alerts"
    err = config_error(path, environ={})
    assert err.key == "database" and "${PGPASS}" in err.detail
