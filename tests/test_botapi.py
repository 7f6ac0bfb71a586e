"""The Bot API stand-in, driven by python-telegram-bot itself over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from testsupport.botapi import TOKEN, BotApi, parse_html


@pytest.fixture
def api():
    with BotApi() as server:
        yield server


@pytest.fixture
async def bot(api):
    async with Bot(TOKEN, base_url=api.url) as client:
        yield client


async def test_get_me(bot, api):
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (1000, "alertbot_test_bot", True)
    assert [c.method for c in api.calls] == ["getMe", "getMe"]  # initialize, then ours
    assert all(c.status == 200 for c in api.calls)


async def test_wrong_token_is_invalid():
    with BotApi(token="1000:right") as server:
        with pytest.raises(InvalidToken):
            async with Bot("1000:wrong", base_url=server.url):
                pass
        assert server.calls[0].status == 401


async def test_unknown_method_is_404(bot, api):
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendHologram", api_kwargs={"chat_id": 5})
    assert api.calls[-1].status == 404


async def test_send_html_records_plain_text_and_entities(bot, api):
    html = (
        '<b>عاجل</b>: <i>وزير</i> &amp; <code>x&lt;y</code> <a href="https://e.com/?a=1&amp;b=2">'
        "الرابط</a> 😀<u>u</u>\n"
    )
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("more", callback_data="more:1")]])
    msg = await bot.send_message(
        5,
        html,
        parse_mode="HTML",
        reply_markup=markup,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        disable_notification=True,
    )
    assert msg.text == "عاجل: وزير & x<y الرابط 😀u"
    assert msg.message_id == 1 and msg.chat.type == "private" and msg.from_user.id == 1000
    kinds = [(e.type, e.offset, e.length) for e in msg.entities]
    assert kinds == [
        ("bold", 0, 4),
        ("italic", 6, 4),
        ("code", 13, 3),
        ("text_link", 17, 6),
        ("underline", 26, 1),  # the emoji is two UTF-16 units
    ]
    assert msg.entities[3].url == "https://e.com/?a=1&b=2"
    assert msg.reply_markup == markup
    [sent] = api.sent(5)
    assert (sent.text, sent.html, sent.message_id) == (msg.text, html, 1)
    assert sent.params["parse_mode"] == "HTML"
    assert sent.params["disable_notification"] is True
    assert sent.params["link_preview_options"] == {"is_disabled": True}
    assert sent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "more:1"
    second = await bot.send_message(-100123, "ok")
    assert (second.message_id, second.chat.type) == (1, "supergroup")
    assert (await bot.send_message(5, "again")).message_id == 2


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("hi <script>x</script>", 'Unsupported start tag "script" at byte offset 3'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("عاجل <p>", 'Unsupported start tag "p" at byte offset 9'),
        (
            "AT&T",
            'Character "&" at byte offset 2 does not start an entity '
            "(the stand-in is strict: escape it as &amp;)",
        ),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_bad_html_is_rejected(bot, api, html, error):
    with pytest.raises(BadRequest, match=r"(?i)parse entities") as info:
        await bot.send_message(5, html, parse_mode="HTML")
    # PTB drops "Bad Request: " and str.capitalize()s the rest, lower-casing it.
    assert error.lower() in str(info.value).lower()
    assert api.calls[-1].status == 400 and api.sent() == []
    assert api.calls[-1].description == f"Bad Request: can't parse entities: {error}"


def test_html_parser_details():
    text, entities = parse_html(
        '<pre><code class="language-python">a=1</code></pre><blockquote expandable>q</blockquote>'
        '<tg-spoiler>s</tg-spoiler><span class="tg-spoiler">t</span>&#1593;&#x639;&quot;'
        '<a href="tg://user?id=7">u</a><b></b>'
    )
    assert text == 'a=1qstعع"u'
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("pre", 0, 3),
        ("expandable_blockquote", 3, 1),
        ("spoiler", 4, 1),
        ("spoiler", 5, 1),
        ("text_mention", 9, 1),
    ]
    assert entities[0]["language"] == "python" and entities[4]["user"]["id"] == 7
    assert parse_html("AT&T", strict_ampersand=False) == ("AT&T", [])


async def test_length_limit_counts_utf16_after_parsing(bot, api):
    await bot.send_message(5, "<b>" + "ع" * 4096 + "</b>", parse_mode="HTML")  # tags don't count
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(5, "ع" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(5, "😀" * 2049)  # 4098 UTF-16 units
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(5, "<b> </b>\n", parse_mode="HTML")
    assert len(api.sent()) == 1


async def test_injected_retry_after(bot, api, monkeypatch):
    # Without PTB_TIMEDELTA, PTB 22 warns (PTBDeprecationWarning) on building any RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    api.fail_next("sendMessage", 429, parameters={"retry_after": 3})
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(5, "x")
    assert info.value.retry_after == dt.timedelta(seconds=3)
    assert api.calls[-1].status == 429 and api.sent() == []
    await bot.send_message(5, "x")  # only the next call failed
    assert len(api.sent()) == 1


async def test_injected_failures_per_chat(bot, api):
    api.fail_next("sendMessage", 403, chat_id=7, times=2)
    api.fail_next("sendMessage", 400, parameters={"migrate_to_chat_id": -100999}, chat_id=-5)
    api.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError):  # the 500 is for any chat, the others for theirs
        await bot.send_message(-100999, "x")
    await bot.send_message(-100999, "fine")
    for _ in range(2):
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(7, "x")
    await bot.send_message(7, "x")
    with pytest.raises(ChatMigrated) as info:
        await bot.send_message(-5, "x")
    assert info.value.new_chat_id == -100999
    assert [c.status for c in api.calls_to("sendMessage")] == [500, 200, 403, 403, 200, 400]


async def test_injected_failure_with_nothing_before_it(bot, api):
    api.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.send_message(-100999, "x")


async def test_delayed_answer_times_out_but_the_message_was_sent(bot, api):
    api.delay_next("sendMessage", 1.0)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(5, "late", read_timeout=0.2)
    assert time.monotonic() - started < 0.9
    assert [m.text for m in api.sent(5)] == ["late"]
    await bot.send_message(5, "next")  # not delayed


async def test_edit_message_text(bot, api):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    msg = await bot.send_message(5, "<b>old</b>", parse_mode="HTML", reply_markup=markup)
    edited = await bot.edit_message_text(
        "<i>new</i>", chat_id=5, message_id=msg.message_id, parse_mode="HTML", reply_markup=markup
    )
    assert edited.text == "new" and edited.edit_date is not None
    assert edited.entities[0].type == "italic"
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<i>new</i>",
            chat_id=5,
            message_id=msg.message_id,
            parse_mode="HTML",
            reply_markup=markup,
        )
    # Same text without the keyboard removes the keyboard: a modification.
    await bot.edit_message_text(
        "<i>new</i>", chat_id=5, message_id=msg.message_id, parse_mode="HTML"
    )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=5, message_id=99)
    api.age_messages(chat_id=5)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("newer", chat_id=5, message_id=msg.message_id)
    assert [(e.text, e.html) for e in api.edits(5)] == [
        ("new", "<i>new</i>"),
        ("new", "<i>new</i>"),
    ]
    assert "reply_markup" not in api.message(5, msg.message_id)


async def test_commands_per_language_and_scope(bot, api):
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("list", "List")])
    await bot.set_my_commands([BotCommand("start", "ابدأ")], language_code="ar")
    await bot.set_my_commands([BotCommand("help", "Help")], scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in await bot.get_my_commands()] == ["start", "list"]
    [ar] = await bot.get_my_commands(language_code="ar")
    assert (ar.command, ar.description) == ("start", "ابدأ")
    assert api.commands("ar") == [{"command": "start", "description": "ابدأ"}]
    assert api.commands(scope={"type": "all_private_chats"})[0]["command"] == "help"
    assert api.commands("en") == []
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])


async def test_chat_members(bot, api):
    api.set_admins(-100, administrators=[222])
    admins = await bot.get_chat_administrators(-100)
    assert [(a.user.id, a.status) for a in admins] == [(111, "creator"), (222, "administrator")]
    assert (await bot.get_chat_member(-100, 333)).status == "member"
    assert (await bot.get_chat_member(-200, 111)).status == "creator"  # the default creator


async def test_get_updates_long_polls(bot, api):
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, api.send_text, 5, "/start@alertbot_test_bot now")
    started = time.monotonic()
    [update] = await bot.get_updates(timeout=5)
    assert 0.15 < time.monotonic() - started < 1.5
    assert update.message.text == "/start@alertbot_test_bot now"
    [entity] = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 24)
    assert update.message.from_user.id == 5 and update.message.chat.type == "private"
    # Not confirmed yet: it comes again; confirmed by offset, it is gone.
    assert [u.update_id for u in await bot.get_updates()] == [update.update_id]
    started = time.monotonic()
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0.5) == ()
    assert 0.4 < time.monotonic() - started < 1.5
    assert api.pending_updates() == []


async def test_delivered_is_when_get_updates_first_handed_an_update_out(bot, api):
    ticks = iter(range(100, 200))
    api.clock = lambda: float(next(ticks))
    update_id = api.send_text(5, "/list")
    assert api.delivered(update_id) is None  # queued, not handed out yet
    [update] = await bot.get_updates()
    assert update.update_id == update_id
    first = api.delivered(update_id)
    assert first is not None
    await bot.get_updates()  # handed out again (not confirmed): the first time stands
    assert api.delivered(update_id) == first


async def test_get_updates_limit_and_allowed_updates(bot, api):
    for i in range(3):
        api.send_text(-100, f"msg {i}", chat_type="group")
    assert len(await bot.get_updates(limit=2)) == 2
    msg = await bot.send_message(
        -100,
        "pick",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]]),
    )
    api.press_button(-100, msg.message_id, "a", user_id=222)
    updates = await bot.get_updates(allowed_updates=["callback_query"], timeout=1)
    [press] = updates
    assert press.callback_query.data == "a" and press.callback_query.from_user.id == 222
    assert press.callback_query.message.message_id == msg.message_id
    assert await bot.answer_callback_query(press.callback_query.id, text="ok")
    assert api.answers()[0]["text"] == "ok"


async def test_close_wakes_a_long_poll():
    api = BotApi().start()
    async with Bot(TOKEN, base_url=api.url) as bot:
        task = asyncio.create_task(bot.get_updates(timeout=10, read_timeout=15))
        await api.until(lambda a: a.polls())  # the poll has arrived
        started = time.monotonic()
        await asyncio.to_thread(api.close)
        with contextlib.suppress(NetworkError):
            await task
        assert time.monotonic() - started < 1.0


def test_wait_for_reports_the_calls_on_timeout(api):
    with pytest.raises(AssertionError, match="no calls"):
        api.wait_for(lambda a: a.sent(), timeout=0.05)


async def test_application_polling_replies_to_start(api):
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text("hi")

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("done")
        await update.callback_query.edit_message_text("pressed")

    application = Application.builder().token(TOKEN).base_url(api.url).build()
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CallbackQueryHandler(pressed))
    async with application:
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            api.send_text(5, "/start")
            [reply] = await api.until(lambda a: a.sent(5))
            assert reply.text == "hi"
            api.send_text(-100, "/start@alertbot_test_bot", chat_type="supergroup")
            await api.until(lambda a: a.sent(-100))
            api.press_button(5, reply.message_id, "x")
            await api.until(lambda a: a.edits(5))
            assert api.answers()[0]["text"] == "done"
        finally:
            await application.updater.stop()
            await application.stop()
    assert api.calls_to("deleteWebhook")
