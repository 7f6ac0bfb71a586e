"""A stand-in for the Telegram Bot API, speaking real HTTP on loopback, for tests.

    with BotApi() as api:
        app = Application.builder().token(TOKEN).base_url(api.url).build()
        api.send_text(5, "/start")                      # queued for getUpdates
        api.press_button(5, message_id, "more")         # a callback_query update
        api.fail_next("sendMessage", 429, parameters={"retry_after": 3})
        api.fail_next("sendMessage", 403, chat_id=7)    # "Forbidden: bot was blocked by the user"
        topic = api.create_topic(-100, "Sports")       # a forum topic: its message_thread_id
        api.send_text(-100, "/watch ...", thread_id=topic)  # a message in that topic
        api.delay_next("sendMessage", 2.0)              # acted on, then answered 2 s late
        api.wait_for(lambda a: a.sent(chat_id=5))       # from a thread; `await api.until(...)`
        api.sent(5)[-1].text, api.edits(), api.commands("ar"), api.calls
        api.delivered(update_id)                        # when getUpdates first handed it out
        api.polls()                                     # getUpdates requests arrived so far

PTB builds `base_url + token + "/" + method` and POSTs form-encoded parameters (multipart when a
file is attached), every value a string, objects as JSON; JSON bodies and query strings are
read too. Messages come back as Telegram sends them: HTML parsed to plain text and entities with
UTF-16 offsets, text trimmed, 4096 UTF-16 units at most, the errors Telegram gives for bad HTML,
empty text, and edits that change nothing or come too late (48 h; see `age_messages`).
Forum topics: a message sent with a `message_thread_id` must name a topic of a forum chat
(`create_topic`), else Telegram's "message thread not found"; it lands in that topic.

One deliberate strictness: Telegram keeps a bare `&` that does not start an entity; this
stand-in rejects it (`strict_ampersand=False` to accept it), since it means a missing escape.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from testsupport.httpserver import ServedInThread

TOKEN = "1000:TEST-token_abcdefghijklmnopqrstuvwxyz"
BOT_ID = 1000
CREATOR_ID = 111
MAX_TEXT = 4096  # UTF-16 code units, after entity parsing
EDIT_WINDOW = 48 * 3600

_STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Parameters whose values stay strings even when they look like JSON ("123", "true").
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "language_code",
        "business_connection_id",
        "secret_token",
        "emoji",
        "title",
        "description",
    }
)

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class ApiError(Exception):
    """An error answer: HTTP status, Telegram's description and optional parameters."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass(frozen=True)
class Call:
    """One request: the method as requested, its parameters (decoded), when, the status sent."""

    method: str
    params: dict[str, Any]
    time: float  # time.monotonic() when it arrived
    status: int
    description: str | None = None  # an error's description, as Telegram words it


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent: `text` as Telegram shows it, `html` the text parameter as sent."""

    chat_id: int | str
    message_id: int
    text: str
    html: str
    entities: list[dict[str, Any]]
    params: dict[str, Any]
    time: float

    @property
    def reply_to(self) -> int | None:
        """The message id it was sent as a reply to (`reply_parameters`), if any."""
        reply = self.params.get("reply_parameters")
        return int(reply["message_id"]) if isinstance(reply, dict) else None

    @property
    def silent(self) -> bool:
        """True when it was sent without a notification sound (`disable_notification`)."""
        return self.params.get("disable_notification") in (True, "true", "True")

    @property
    def topic(self) -> int | None:
        """The forum topic it was sent to (`message_thread_id`), if any."""
        thread = self.params.get("message_thread_id")
        return int(thread) if thread is not None else None


@dataclass(frozen=True)
class Edit:
    """An accepted editMessageText, with the text as Telegram shows it and the raw parameter."""

    chat_id: int | str
    message_id: int
    text: str
    html: str
    entities: list[dict[str, Any]]
    params: dict[str, Any]
    time: float


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    parameters: dict[str, Any] | None
    chat_id: int | str | None
    times: int


@dataclass
class _Delay:
    method: str
    seconds: float
    chat_id: int | str | None
    times: int


@dataclass
class _Stored:
    """A message as the server holds it: its JSON and the unix date it can be edited from."""

    message: dict[str, Any]
    reply_markup: dict[str, Any] | None = None
    from_bot: bool = True


@dataclass
class _Chat:
    type: str
    creator: int = CREATOR_ID
    administrators: list[int] = field(default_factory=list)
    title: str | None = None
    topics: dict[int, str] = field(default_factory=dict)  # a forum's: thread id -> name

    @property
    def is_forum(self) -> bool:
        return bool(self.topics)


# --------------------------------------------------------------------------------------------
# Telegram's HTML: the tags it knows, parsed the way TDLib parses them.


def _take(queue: list[Any], method: str, chat_id: Any) -> Any:
    """The first queued failure or delay for this call, used up once (under the lock)."""
    found = next(
        (q for q in queue if q.method == method and (q.chat_id is None or q.chat_id == chat_id)),
        None,
    )
    if found is not None:
        found.times -= 1
        if found.times <= 0:
            queue.remove(found)
    return found


def utf16_len(text: str) -> int:
    """The length of `text` in UTF-16 code units, the unit of Telegram's offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SUPPORTED_TAGS = frozenset({*_SIMPLE_TAGS, "a", "span", "blockquote", "tg-emoji"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACE = " \t\n\r\f\v"


class HtmlError(ValueError):
    """Why Telegram would refuse the text; str() is the part after "can't parse entities: "."""


def _decode_entity(text: str, i: int) -> tuple[str, int] | None:
    """The character an HTML entity at text[i] ('&') stands for, and the index after it."""
    end = text.find(";", i + 1, i + 12)
    if end < 0:
        return None
    body = text[i + 1 : end]
    if body in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[body], end + 1
    m = re.fullmatch(r"#(?:([0-9]{1,7})|[xX]([0-9a-fA-F]{1,6}))", body)
    if not m:
        return None
    code = int(m[1]) if m[1] else int(m[2], 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), end + 1


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities (UTF-16 offsets) from Telegram HTML; raises HtmlError."""

    def offset(i: int) -> int:
        return len(text[:i].encode("utf-8"))

    out: list[str] = []
    pos = 0  # UTF-16 length of the output so far
    stack: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is None:
                if strict_ampersand:
                    raise HtmlError(
                        f'Character "&" at byte offset {offset(i)} does not start an entity '
                        "(the stand-in is strict: escape it as &amp;)"
                    )
                decoded = ("&", i + 1)
            ch, i = decoded
            out.append(ch)
            pos += utf16_len(ch)
            continue
        if c != "<":
            out.append(c)
            pos += utf16_len(c)
            i += 1
            continue
        begin = i
        i += 1
        if i < n and text[i] == "/":
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {offset(begin)}")
            i += 1
            start = i
            while i < n and text[i] not in _SPACE and text[i] != ">":
                i += 1
            end_name = text[start:i].lower()
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n or text[i] != ">":
                raise HtmlError(f"Unclosed end tag at byte offset {offset(begin)}")
            i += 1
            top = stack.pop()
            if end_name and end_name != top["tag"]:
                raise HtmlError(
                    f"Unmatched end tag at byte offset {offset(begin)}, expected "
                    f'"</{top["tag"]}>", found "</{end_name}>"'
                )
            _close(top, pos, stack, entities)
            continue
        start = i
        while i < n and text[i] not in _SPACE and text[i] != ">":
            i += 1
        if i >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {offset(begin)}")
        tag = text[start:i].lower()
        if tag not in _SUPPORTED_TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                raise HtmlError(f"Unclosed start tag at byte offset {offset(begin)}")
            if text[i] == ">":
                i += 1
                break
            name_start = i
            while i < n and text[i] not in _SPACE and text[i] not in "=>":
                i += 1
            name = text[name_start:i].lower()
            if not name:
                raise HtmlError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {offset(begin)}'
                )
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n or text[i] != "=":
                if tag == "blockquote" and name == "expandable":
                    attrs[name] = ""
                    continue
                raise HtmlError(
                    f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                    f"at byte offset {offset(begin)}"
                )
            i += 1
            while i < n and text[i] in _SPACE:
                i += 1
            if i >= n:
                raise HtmlError(f"Unclosed start tag at byte offset {offset(begin)}")
            if text[i] in "'\"":
                quote = text[i]
                i += 1
                value: list[str] = []
                while i < n and text[i] != quote:
                    decoded = _decode_entity(text, i) if text[i] == "&" else None
                    if decoded is not None:
                        value.append(decoded[0])
                        i = decoded[1]
                    else:
                        value.append(text[i])
                        i += 1
                if i >= n:
                    raise HtmlError(f"Unclosed start tag at byte offset {offset(begin)}")
                i += 1
                attrs[name] = "".join(value)
            else:
                token_start = i
                while i < n and (text[i].isalnum() or text[i] in ".-"):
                    i += 1
                if i < n and text[i] not in _SPACE and text[i] != ">":
                    raise HtmlError(
                        f"Unexpected end of name token at byte offset {offset(token_start)}"
                    )
                attrs[name] = text[token_start:i].lower()
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset(begin)}'
            )
        if tag == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise HtmlError(
                "Custom emoji entity must contain a valid custom emoji identifier "
                f"at byte offset {offset(begin)}"
            )
        stack.append({"tag": tag, "attrs": attrs, "offset": pos, "out_index": len(out)})
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    plain = "".join(out)
    _fill_link_texts(entities, plain)
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, entities


def _close(
    top: dict[str, Any], pos: int, stack: list[dict[str, Any]], entities: list[dict[str, Any]]
) -> None:
    tag, attrs, start = top["tag"], top["attrs"], top["offset"]
    length = pos - start
    if tag == "code" and stack and stack[-1]["tag"] == "pre":
        language = attrs.get("class", "")
        if language.startswith("language-") and len(language) > len("language-"):
            stack[-1]["language"] = language[len("language-") :]
            return
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": start, "length": length}
    if tag in _SIMPLE_TAGS:
        entity["type"] = _SIMPLE_TAGS[tag]
        if tag == "pre" and top.get("language"):
            entity["language"] = top["language"]
    elif tag == "span":
        entity["type"] = "spoiler"
    elif tag == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in attrs else "blockquote"
    elif tag == "tg-emoji":
        entity["type"] = "custom_emoji"
        entity["custom_emoji_id"] = attrs["emoji-id"]
    else:  # a
        href = attrs.get("href", "")
        m = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if m:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(m[1]), "is_bot": False, "first_name": ""}
        else:
            entity["type"] = "text_link"
            entity["url"] = href  # empty: filled with the link's own text below
    entities.append(entity)


def _fill_link_texts(entities: list[dict[str, Any]], plain: str) -> None:
    units = plain.encode("utf-16-le")
    for e in entities:
        if e["type"] == "text_link" and not e["url"]:
            start, end = e["offset"] * 2, (e["offset"] + e["length"]) * 2
            e["url"] = units[start:end].decode("utf-16-le")


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading and trailing whitespace and moves entities with the text."""
    stripped = text.strip(_SPACE)
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(_SPACE))])
    size = utf16_len(stripped)
    kept = []
    for e in entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, size)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept


_COMMAND = re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities for `/cmd` and `/cmd@botname` words, with UTF-16 offsets."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m[0])}
        for m in _COMMAND.finditer(text)
    ]


# --------------------------------------------------------------------------------------------


class BotApi(ServedInThread):
    """A Bot API server on `host`, port 0, for one bot token; a context manager."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        username: str = "alertbot_test_bot",
        bot_id: int = BOT_ID,
        first_name: str = "Alert Bot",
        strict_ampersand: bool = True,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        # What the recorded times of calls and messages are read from: a test that paces
        # on an injected clock hands the same clock here.
        self.clock = clock
        self.username = username
        self.bot_id = bot_id
        self.first_name = first_name
        self.strict_ampersand = strict_ampersand
        self.host = host
        self.calls: list[Call] = []
        self._cond = threading.Condition(threading.RLock())
        self._closing = threading.Event()
        self._updates: list[dict[str, Any]] = []
        self._delivered: dict[int, float] = {}  # update_id -> when getUpdates first returned it
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._next_message_id: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], _Stored] = {}
        self._sent: list[SentMessage] = []
        self._edits: list[Edit] = []
        self._answers: list[dict[str, Any]] = []
        self._queries: set[str] = set()
        self._next_query = 1
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._chats: dict[int | str, _Chat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._failures: list[_Failure] = []
        self._delays: list[_Delay] = []
        self._connections: set[socket.socket] = set()
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        self.port: int = self._server.server_address[1]
        self._thread: threading.Thread | None = None

    # ---- life cycle

    def close(self) -> None:
        """Wake long polls and delayed answers, stop serving, close every connection."""
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        super().close()

    @property
    def url(self) -> str:
        """The base_url for PTB: it appends the token and "/method"."""
        return f"http://{self.host}:{self.port}/bot"

    # ---- test controls

    def fail_next(
        self,
        method: str,
        status: int = 429,
        description: str | None = None,
        *,
        parameters: dict[str, Any] | None = None,
        chat_id: int | str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` calls of `method` (to `chat_id`, if given) with an error.

        The default description follows the status: 429 "Too Many Requests: retry after N"
        (N from parameters["retry_after"], default 3, which is also added to parameters),
        403 "Forbidden: bot was blocked by the user", 400 "Bad Request", 500 "Internal Server
        Error". For a migrated group pass status=400, parameters={"migrate_to_chat_id": id};
        its description defaults to "Bad Request: group chat was upgraded to a supergroup chat".
        Failures are consumed in the order they were queued; the call has no other effect.
        """
        parameters = dict(parameters) if parameters else None
        if status == 429:
            parameters = parameters or {}
            parameters.setdefault("retry_after", 3)
            description = description or (
                f"Too Many Requests: retry after {parameters['retry_after']}"
            )
        elif parameters and "migrate_to_chat_id" in parameters:
            description = description or (
                "Bad Request: group chat was upgraded to a supergroup chat"
            )
        description = description or _STATUS_TEXT.get(status, f"Error {status}")
        with self._cond:
            self._failures.append(
                _Failure(_canonical(method), status, description, parameters, chat_id, times)
            )

    def delay_next(
        self, method: str, seconds: float, *, chat_id: int | str | None = None, times: int = 1
    ) -> None:
        """Act on the next `times` calls of `method` at once but answer `seconds` late.

        The message is sent (recorded) when the request arrives, so a client that times out
        meanwhile has delivered it; closing the server drops the delayed answers.
        """
        with self._cond:
            self._delays.append(_Delay(_canonical(method), seconds, chat_id, times))

    def set_admins(
        self, chat_id: int, *, creator: int = CREATOR_ID, administrators: Sequence[int] = ()
    ) -> None:
        """Who getChatMember/getChatAdministrators report as creator and administrators."""
        with self._cond:
            chat = self._chat(chat_id)
            chat.creator = creator
            chat.administrators = list(administrators)

    def age_messages(
        self,
        seconds: float = EDIT_WINDOW + 3600,
        *,
        chat_id: int | str | None = None,
        message_id: int | None = None,
    ) -> None:
        """Make stored messages `seconds` older (default 49 h: past the 48 h edit window)."""
        with self._cond:
            for (cid, mid), stored in self._messages.items():
                if chat_id is not None and cid != chat_id:
                    continue
                if message_id is not None and mid != message_id:
                    continue
                stored.message["date"] -= int(seconds)

    def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str | None = None,
        username: str | None = "tester",
        first_name: str = "Test",
        language_code: str | None = "ar",
        thread_id: int | None = None,
    ) -> int:
        """Queue an Update with a text Message from a user; returns its update_id.

        `user_id` defaults to the chat id in a private chat, else to the creator (111).
        `chat_type` defaults to "private" for a positive id, else "supergroup". Leading and
        inner `/command` and `/command@bot` words get bot_command entities. `thread_id`: a
        forum topic of the chat (`create_topic`) the message is written in.
        """
        with self._cond:
            if chat_type is None:
                chat_type = self._chat(chat_id).type
            else:
                self._chats.setdefault(chat_id, _Chat(chat_type)).type = chat_type
            if user_id is None:
                user_id = chat_id if chat_type == "private" else CREATOR_ID
            user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
            if username:
                user["username"] = username
            if language_code:
                user["language_code"] = language_code
            self._users[user_id] = user
            message: dict[str, Any] = {
                "message_id": self._new_message_id(chat_id),
                "from": user,
                "chat": self._chat_json(chat_id),
                "date": int(time.time()),
                "text": text,
            }
            entities = command_entities(text)
            if entities:
                message["entities"] = entities
            if thread_id is not None:
                if thread_id not in self._chat(chat_id).topics:
                    raise KeyError(f"no topic {thread_id} in chat {chat_id}: create_topic first")
                message["message_thread_id"] = thread_id
                message["is_topic_message"] = True
            self._messages[(chat_id, message["message_id"])] = _Stored(message, from_bot=False)
            return self._queue_update({"message": message})

    def create_topic(self, chat_id: int, name: str) -> int:
        """Make the chat a forum supergroup (if it is not) with a new topic; its thread id
        (as in Telegram, the id of the message that created it)."""
        with self._cond:
            chat = self._chat(chat_id)
            chat.type = "supergroup"
            thread_id = self._new_message_id(chat_id)
            chat.topics[thread_id] = name
            return thread_id

    def press_button(
        self, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
    ) -> int:
        """Queue a callback_query Update for a button on a stored message; returns update_id."""
        with self._cond:
            stored = self._messages.get((chat_id, message_id))
            if stored is None:
                raise KeyError(f"no message {message_id} in chat {chat_id}")
            if user_id is None:
                user_id = chat_id if self._chat(chat_id).type == "private" else CREATOR_ID
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": "Test",
                "username": "tester",
            }
            query_id = f"{chat_id & 0xFFFFFFFF}{self._next_query:08d}"
            self._next_query += 1
            self._queries.add(query_id)
            return self._queue_update(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": user,
                        "message": json.loads(json.dumps(stored.message)),
                        "chat_instance": str(abs(hash((chat_id, self.bot_id)))),
                        "data": data,
                    }
                }
            )

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue any update body (without update_id), e.g. {"my_chat_member": {...}}."""
        with self._cond:
            return self._queue_update(dict(update))

    # ---- what happened

    def sent(self, chat_id: int | str | None = None) -> list[SentMessage]:
        """Messages the bot sent (sendMessage accepted), oldest first, optionally for one chat."""
        with self._cond:
            return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    def edits(self, chat_id: int | str | None = None, message_id: int | None = None) -> list[Edit]:
        """Accepted editMessageText calls, oldest first."""
        with self._cond:
            return [
                e
                for e in self._edits
                if (chat_id is None or e.chat_id == chat_id)
                and (message_id is None or e.message_id == message_id)
            ]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any]:
        """A stored message's current JSON (as sent, edited, or queued as an update)."""
        with self._cond:
            return json.loads(json.dumps(self._messages[(chat_id, message_id)].message))

    def answers(self) -> list[dict[str, Any]]:
        """The params of accepted answerCallbackQuery calls."""
        with self._cond:
            return list(self._answers)

    def commands(
        self, language_code: str | None = None, scope: dict[str, Any] | None = None
    ) -> list[dict[str, str]]:
        """The command list set for a language ("" / None: default) and scope (default)."""
        with self._cond:
            return list(self._commands.get((_scope_key(scope), language_code or ""), []))

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls of one method."""
        with self._cond:
            return [c for c in self.calls if c.method == _canonical(method)]

    def polls(self) -> int:
        """getUpdates requests that have arrived (`calls` records a long poll only when it
        is answered)."""
        with self._cond:
            return self._poll_generation

    def delivered(self, update_id: int) -> float | None:
        """When (on `clock`) getUpdates first handed update `update_id` out; None if not yet:
        where a reply's latency starts, as the bot sees it."""
        with self._cond:
            return self._delivered.get(update_id)

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        with self._cond:
            return list(self._updates)

    def wait_for(self, predicate: Callable[[BotApi], Any], timeout: float = 5.0) -> Any:
        """Block until predicate(api) is truthy (re-checked on every call); returns its value.

        Raises AssertionError with the calls seen on timeout. From async code, where blocking
        would stall the client under test, use `await api.until(...)`.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate(self)
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"condition not met within {timeout} s; calls:\n{self.summary()}"
                    )
                self._cond.wait(left)

    async def until(self, predicate: Callable[[BotApi], Any], timeout: float = 5.0) -> Any:
        """`wait_for` from a worker thread, so the event loop keeps running meanwhile."""
        return await asyncio.to_thread(self.wait_for, predicate, timeout)

    def summary(self) -> str:
        """One line per recorded call: time, status, method and the interesting params."""
        with self._cond:
            calls = list(self.calls)
        if not calls:
            return "  (no calls)"
        t0 = calls[0].time
        lines = []
        for c in calls:
            shown = {k: v for k, v in c.params.items() if k in ("chat_id", "text", "offset")}
            lines.append(f"  +{c.time - t0:.3f}s {c.status} {c.method} {shown}"[:200])
        return "\n".join(lines)

    # ---- request handling (server threads)

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._cond:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _handle(self, path: str, params: dict[str, Any], arrived: float) -> tuple[int, dict] | None:
        """The status and JSON body for one request, or None to drop the connection."""
        m = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]*)", path)
        method = _canonical(m[2]) if m else path
        handler = getattr(self, f"_api_{method.lower()}", None)
        delay = 0.0
        if m is None or m[1] != self.token:
            status, body = _error(401, "Unauthorized")
        elif handler is None:
            status, body = _error(404, "Not Found")
        else:
            failure, delay = self._take_injected(method, params)
            if failure is not None:
                status, body = _error(failure.status, failure.description, failure.parameters)
            else:
                try:
                    status, body = 200, {"ok": True, "result": handler(params)}
                except ApiError as exc:
                    status, body = _error(exc.status, exc.description, exc.parameters)
        with self._cond:
            self.calls.append(Call(method, params, arrived, status, body.get("description")))
            self._cond.notify_all()
        if delay and self._closing.wait(delay):
            return None
        return status, body

    def _take_injected(self, method: str, params: dict[str, Any]) -> tuple[_Failure | None, float]:
        chat_id = params.get("chat_id")
        with self._cond:
            failure = _take(self._failures, method, chat_id)
            delay = _take(self._delays, method, chat_id)
        return failure, delay.seconds if delay else 0.0

    # ---- state helpers (under the lock)

    def _chat(self, chat_id: int | str) -> _Chat:
        if chat_id not in self._chats:
            kind = "private" if isinstance(chat_id, int) and chat_id > 0 else "supergroup"
            self._chats[chat_id] = _Chat(kind)
        return self._chats[chat_id]

    def _chat_json(self, chat_id: int | str) -> dict[str, Any]:
        chat = self._chat(chat_id)
        out: dict[str, Any] = {"id": chat_id, "type": chat.type}
        if chat.type == "private":
            user = self._users.get(chat_id) if isinstance(chat_id, int) else None
            out["first_name"] = (user or {}).get("first_name", "Test")
            if user and user.get("username"):
                out["username"] = user["username"]
        else:
            out["title"] = chat.title or f"Test {chat.type} {chat_id}"
            if chat.is_forum:
                out["is_forum"] = True
        return out

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _user_json(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self._bot_user()
        return self._users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}

    def _new_message_id(self, chat_id: int | str) -> int:
        n = self._next_message_id.get(chat_id, 0) + 1
        self._next_message_id[chat_id] = n
        return n

    def _queue_update(self, body: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **body})
        self._cond.notify_all()
        return update_id

    def _formatted(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        """Plain text and entities for a text parameter, or the ApiError Telegram gives."""
        raw = params.get("text")
        if raw is None:
            raise ApiError(400, "Bad Request: message text is empty")
        raw = str(raw)
        mode = str(params.get("parse_mode") or "")
        if mode.lower() == "html":
            try:
                text, entities = parse_html(raw, strict_ampersand=self.strict_ampersand)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        elif mode:
            raise ApiError(400, f"Bad Request: the stand-in parses only HTML, not {mode!r}")
        else:
            text, entities = raw, list(params.get("entities") or [])
        text, entities = _trim(text, entities)
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities

    # ---- methods

    def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            with self._cond:
                self._updates.clear()
        return True

    def _api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]] | None:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if "allowed_updates" in params:
                allowed = params["allowed_updates"]
                self._allowed_updates = list(allowed) if allowed else None
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()
            while True:
                if offset < 0:
                    self._updates = self._updates[offset:]
                elif offset:
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._allowed_updates is not None:
                    allowed_set = set(self._allowed_updates)
                    self._updates = [
                        u for u in self._updates if set(u) - {"update_id"} <= allowed_set
                    ]
                if self._updates or self._closing.is_set():
                    handed = self._updates[:limit]
                    now = self.clock()
                    for u in handed:
                        self._delivered.setdefault(u["update_id"], now)
                    return [json.loads(json.dumps(u)) for u in handed]
                if generation != self._poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._cond.wait(left)

    def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        text, entities = self._formatted(params)
        markup = params.get("reply_markup")
        reply = params.get("reply_parameters")
        thread = params.get("message_thread_id")
        with self._cond:
            if thread is not None and int(thread) not in self._chat(chat_id).topics:
                raise ApiError(400, "Bad Request: message thread not found")
            replied = None
            if isinstance(reply, dict):
                replied = self._messages.get((chat_id, int(reply.get("message_id", 0))))
                if replied is None and not reply.get("allow_sending_without_reply"):
                    raise ApiError(400, "Bad Request: message to be replied not found")
            message: dict[str, Any] = {
                "message_id": self._new_message_id(chat_id),
                "from": self._bot_user(),
                "chat": self._chat_json(chat_id),
                "date": int(time.time()),
                "text": text,
            }
            if entities:
                message["entities"] = entities
            if isinstance(markup, dict) and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            if replied is not None:
                message["reply_to_message"] = replied.message
            if thread is not None:
                message["message_thread_id"] = int(thread)
                message["is_topic_message"] = True
            self._messages[(chat_id, message["message_id"])] = _Stored(message, markup)
            self._sent.append(
                SentMessage(
                    chat_id,
                    message["message_id"],
                    text,
                    str(params.get("text")),
                    entities,
                    params,
                    self.clock(),
                )
            )
            return json.loads(json.dumps(message))

    def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: the stand-in does not edit inline messages")
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        text, entities = self._formatted(params)
        markup = params.get("reply_markup")
        inline = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        with self._cond:
            stored = self._messages.get((chat_id, message_id))
            if stored is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            if not stored.from_bot:
                raise ApiError(400, "Bad Request: message can't be edited")
            message = stored.message
            if message["date"] < time.time() - EDIT_WINDOW:
                raise ApiError(400, "Bad Request: message can't be edited")
            if (
                message["text"] == text
                and message.get("entities", []) == entities
                and message.get("reply_markup") == inline
            ):
                raise ApiError(400, _NOT_MODIFIED)
            message["text"] = text
            message.pop("entities", None)
            if entities:
                message["entities"] = entities
            message.pop("reply_markup", None)
            if inline:
                message["reply_markup"] = inline
            message["edit_date"] = int(time.time())
            stored.reply_markup = markup
            self._edits.append(
                Edit(
                    chat_id,
                    message_id,
                    text,
                    str(params.get("text")),
                    entities,
                    params,
                    self.clock(),
                )
            )
            return json.loads(json.dumps(message))

    def _api_deletemessage(self, params: dict[str, Any]) -> bool:
        with self._cond:
            if self._messages.pop((params.get("chat_id"), params.get("message_id")), None):
                return True
        raise ApiError(400, "Bad Request: message to delete not found")

    def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        with self._cond:
            query_id = str(params.get("callback_query_id"))
            if query_id not in self._queries:
                raise ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or "
                    "query ID is invalid",
                )
            self._queries.discard(query_id)
            self._answers.append(params)
        return True

    def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands are invalid")
        cleaned = []
        for c in commands:
            name, text = str(c.get("command", "")), str(c.get("description", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(text) <= 256:
                raise ApiError(400, "Bad Request: command description is empty or too long")
            cleaned.append({"command": name, "description": text})
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        with self._cond:
            if cleaned:
                self._commands[key] = cleaned
            else:
                self._commands.pop(key, None)
        return True

    def _api_deletemycommands(self, params: dict[str, Any]) -> bool:
        key = (_scope_key(params.get("scope")), str(params.get("language_code") or ""))
        with self._cond:
            self._commands.pop(key, None)
        return True

    def _api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands(params.get("language_code"), params.get("scope"))

    def _member(self, chat_id: int | str, user_id: int) -> dict[str, Any]:
        chat = self._chat(chat_id)
        user = self._user_json(user_id)
        if chat.type == "private":
            return {"status": "member", "user": user}
        if user_id == chat.creator:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in chat.administrators:
            rights = dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                    "can_pin_messages",
                ),
                True,
            )
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_promote_members": False,
                **rights,
            }
        return {"status": "member", "user": user}

    def _api_getchatmember(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            return self._member(params.get("chat_id"), int(params.get("user_id") or 0))

    def _api_getchatadministrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat_id = params.get("chat_id")
        with self._cond:
            chat = self._chat(chat_id)
            if chat.type == "private":
                raise ApiError(400, "Bad Request: there are no administrators in the private chat")
            return [self._member(chat_id, u) for u in [chat.creator, *chat.administrators]]


_SPELLINGS = (
    "getMe",
    "deleteWebhook",
    "getUpdates",
    "sendMessage",
    "editMessageText",
    "deleteMessage",
    "answerCallbackQuery",
    "setMyCommands",
    "deleteMyCommands",
    "getMyCommands",
    "getChatMember",
    "getChatAdministrators",
)
_SPELLED = {name.lower(): name for name in _SPELLINGS}


def _canonical(method: str) -> str:
    """Telegram's method names are case-insensitive: record them as the Bot API spells them."""
    return _SPELLED.get(method.lower(), method)


def _scope_key(scope: Any) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _error(
    status: int, description: str, parameters: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


def _decode_params(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    """Parameters from a query string and a form, multipart or JSON body, values decoded."""
    raw: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json" and body:
        return {**raw, **json.loads(body)}
    if kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if name is None:
                continue
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                raw[name] = payload
            else:
                raw[name] = payload.decode("utf-8")
    elif body:
        raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key not in _STRING_PARAMS:
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        out[key] = value
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128
    owner: BotApi

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away (a PTB timeout) is not an error worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes; no 40 ms delayed ACK
    timeout = 10
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, False)

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length))

    def _serve(self, body: bytes) -> None:
        arrived = self.server.owner.clock()
        parts = urlsplit(self.path)
        try:
            params = _decode_params(self.headers.get("Content-Type", ""), body, parts.query)
        except ValueError:
            params = {}
        answer = self.server.owner._handle(parts.path, params, arrived)
        if answer is None:
            self.close_connection = True
            return
        status, payload = answer
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: tests read `BotApi.calls` instead."""
