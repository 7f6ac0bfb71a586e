"""Source documents built from real Arabic news text, for unit, integration and bench use.

No real RSS, Atom or sitemap file from an Arabic outlet could be found (see
`../shared/corpus/SOURCES.md`), so these builders render real corpus items
(`../shared/corpus/arabic-news.jsonl`: title and body as the outlets wrote them) in the
shapes such sites publish: RSS 2.0 with teaser descriptions, Atom and JSON Feed with full
text, a sitemap index and a Google News sitemap, a section front, a t.me/s channel page,
and an article page with the usual header, navigation, share buttons and footer around
the story.

Everything is parameterised by the items, the site's base URL and the output encoding, so
the same builders serve a loopback HTTP server in integration tests and a benchmark.

    items = news_items(5, base_url="https://news.example")
    body = rss(items, base_url="https://news.example", encoding="windows-1256")
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from urllib.parse import quote, urlsplit

from testsupport import shared

BASE_URL = "https://news.example"
SITE_NAME = "أخبار اليوم"
# Newest item first, one hour apart, like a busy outlet's feed.
START = datetime(2018, 3, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(hours=1)

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class NewsItem:
    """A corpus article placed on a fixture site: its URL there and its publication time."""

    id: str
    title: str
    text: str  # paragraphs separated by "\n", as in the corpus
    url: str
    published: datetime
    outlet: str

    @property
    def plain_title(self) -> str:
        """The title as a parser should give it back: on one line, whitespace collapsed."""
        return " ".join(self.title.split())

    @property
    def plain_text(self) -> str:
        """The text as a parser should give it back: whitespace collapsed inside lines."""
        lines = (" ".join(line.split()) for line in self.text.split("\n"))
        return "\n".join(line for line in lines if line)

    @property
    def paragraphs(self) -> list[str]:
        """The body's paragraphs."""
        return [line for line in self.text.split("\n") if line.strip()]

    @property
    def path(self) -> str:
        """The URL's path (with its query), for servers that route by path."""
        parts = urlsplit(self.url)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path

    def teaser(self, chars: int = 160) -> str:
        """The start of the first paragraph, cut at a word, ending with "…"."""
        first = self.paragraphs[0]
        if len(first) <= chars:
            return f"{first} …"
        return first[:chars].rsplit(" ", 1)[0] + " …"


def corpus() -> tuple[dict[str, str], ...]:
    """Every corpus row (id, title, text, url, date, outlet, ...), in file order."""
    return shared.corpus()


def corpus_rows(
    *, ids: Iterable[str] | None = None, min_chars: int = 0, min_paragraphs: int = 1
) -> list[dict[str, str]]:
    """Corpus rows by id (in the order given), or all rows long enough, in file order."""
    rows = corpus()
    if ids is not None:
        by_id = {row["id"]: row for row in rows}
        return [by_id[item_id] for item_id in ids]
    return [
        row
        for row in rows
        if len(row["text"]) >= min_chars and row["text"].count("\n") + 1 >= min_paragraphs
    ]


def news_items(
    count: int = 10,
    *,
    base_url: str = BASE_URL,
    section: str = "politics",
    ids: Iterable[str] | None = None,
    min_chars: int = 600,
    min_paragraphs: int = 3,
    start: datetime = START,
    step: timedelta = STEP,
    arabic_slugs: bool = True,
    offset: int = 0,
) -> list[NewsItem]:
    """`count` corpus articles (or those `ids`) placed on a site, newest first.

    URLs look like `{base_url}/{section}/2018/03/01/{arabic-slug}-{n}` (percent-encoded,
    as Arabic outlets publish them) or `.../story-{n}` with `arabic_slugs=False`.
    """
    rows = corpus_rows(ids=ids, min_chars=min_chars, min_paragraphs=min_paragraphs)
    if ids is None:
        rows = rows[offset : offset + count]
    items = []
    for index, row in enumerate(rows):
        published = start - index * step
        number = int(re.sub(r"\D", "", row["id"]) or index)
        slug = "-".join(_WORD.findall(row["title"])[:6]) if arabic_slugs else "story"
        path = f"/{section}/{published:%Y/%m/%d}/{quote(slug)}-{number}"
        items.append(
            NewsItem(
                id=row["id"],
                title=row["title"].strip(),
                text=row["text"].strip(),
                url=base_url.rstrip("/") + path,
                published=published,
                outlet=row["outlet"],
            )
        )
    return items


def encode(document: str, encoding: str = "utf-8") -> bytes:
    """The document in `encoding`, characters it lacks written as character references."""
    return document.encode(encoding, errors="xmlcharrefreplace")


def _x(text: str) -> str:
    return escape(text, quote=True)


def _html_paragraphs(text: str) -> str:
    return "".join(f"<p>{_x(line)}</p>" for line in text.split("\n") if line.strip())


# -- feeds --------------------------------------------------------------------------------


def rss(
    items: Sequence[NewsItem],
    *,
    base_url: str = BASE_URL,
    encoding: str = "utf-8",
    teaser_chars: int = 160,
    full_text: bool = False,
    relative_links: bool = False,
    guids: bool = True,
    dates: bool = True,
    title: str = SITE_NAME,
) -> bytes:
    """An RSS 2.0 feed: teaser descriptions linking to the article pages.

    `full_text` adds `content:encoded` with the whole article; `relative_links` writes
    item links as paths (which broken feeds do); the XML declaration names `encoding`.
    """
    out = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:atom="http://www.w3.org/2005/Atom">',
        "<channel>",
        f"<title>{_x(title)}</title>",
        f"<link>{_x(base_url)}/</link>",
        "<description>آخر الأخبار</description>",
        "<language>ar</language>",
        f'<atom:link href="{_x(base_url)}/rss.xml" rel="self" type="application/rss+xml"/>',
    ]
    if items and dates:
        out.append(f"<lastBuildDate>{format_datetime(items[0].published)}</lastBuildDate>")
    for item in items:
        link = item.path if relative_links else item.url
        teaser = f'<p>{_x(item.teaser(teaser_chars))}</p><a href="{_x(link)}">اقرأ المزيد</a>'
        out += ["<item>", f"<title>{_x(item.title)}</title>", f"<link>{_x(link)}</link>"]
        out.append(f"<description>{_x(teaser)}</description>")
        if full_text:
            out.append(f"<content:encoded>{_x(_html_paragraphs(item.text))}</content:encoded>")
        if guids:
            out.append(f'<guid isPermaLink="false">{_x(item.id)}</guid>')
        if dates:
            out.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        out.append("</item>")
    out += ["</channel>", "</rss>"]
    return encode("\n".join(out), encoding)


def broken_rss(items: Sequence[NewsItem], *, base_url: str = BASE_URL) -> bytes:
    """A full-text RSS feed of the first four `items`, broken the ways feeds break: the
    second item has text but no link (its guid is not a URL either), the third has
    neither, the first is listed again, and the document stops half-way into the fourth."""
    body = rss([*items[:3], items[0], items[3]], base_url=base_url, full_text=True).decode()
    head, *parts = body.split("<item>")
    for i in (1, 2):
        before, _, after = parts[i].partition("<link>")
        parts[i] = before + after.partition("</link>")[2]
    before, _, after = parts[2].partition("<description>")
    parts[2] = before + after.partition("</content:encoded>")[2]
    whole = "<item>".join([head, *parts])
    last = whole.rindex("<item>")
    return whole[: last + (len(whole) - last) // 2].encode()


def atom(
    items: Sequence[NewsItem],
    *,
    base_url: str = BASE_URL,
    encoding: str = "utf-8",
    full_text: bool = True,
    title: str = SITE_NAME,
) -> bytes:
    """An Atom 1.0 feed with the whole article as HTML content and the teaser as summary."""
    updated = items[0].published if items else START
    out = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ar">',
        f"<title>{_x(title)}</title>",
        f"<id>{_x(base_url)}/</id>",
        f'<link rel="self" href="{_x(base_url)}/atom.xml"/>',
        f'<link rel="alternate" href="{_x(base_url)}/"/>',
        f"<updated>{updated.isoformat()}</updated>",
    ]
    for item in items:
        out += [
            "<entry>",
            f'<title type="text">{_x(item.title)}</title>',
            f'<link rel="alternate" type="text/html" href="{_x(item.url)}"/>',
            f"<id>tag:{_x(base_url.split('://')[-1])},2018:{_x(item.id)}</id>",
            f"<published>{item.published.isoformat()}</published>",
            f"<updated>{item.published.isoformat()}</updated>",
            f"<author><name>{_x(item.outlet)}</name></author>",
            f'<summary type="text">{_x(item.teaser())}</summary>',
        ]
        if full_text:
            out.append(f'<content type="html">{_x(_html_paragraphs(item.text))}</content>')
        out.append("</entry>")
    out.append("</feed>")
    return encode("\n".join(out), encoding)


def json_feed(
    items: Sequence[NewsItem],
    *,
    base_url: str = BASE_URL,
    full_text: bool = True,
    html_content: bool = True,
    title: str = SITE_NAME,
) -> bytes:
    """A JSON Feed 1.1 document (UTF-8, as the spec requires)."""
    feed_items = []
    for item in items:
        entry: dict[str, object] = {
            "id": item.id,
            "url": item.url,
            "title": item.title,
            "summary": item.teaser(),
            "date_published": item.published.isoformat(),
            "authors": [{"name": item.outlet}],
            "language": "ar",
        }
        if full_text and html_content:
            entry["content_html"] = _html_paragraphs(item.text)
        elif full_text:
            entry["content_text"] = item.text
        else:
            entry["content_text"] = item.teaser()
        feed_items.append(entry)
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": title,
        "home_page_url": f"{base_url}/",
        "feed_url": f"{base_url}/feed.json",
        "language": "ar",
        "items": feed_items,
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


# -- sitemaps -----------------------------------------------------------------------------


def news_sitemap(
    items: Sequence[NewsItem], *, publication: str = SITE_NAME, encoding: str = "utf-8"
) -> bytes:
    """A Google News sitemap: `<url>` with `<lastmod>` and `<news:news>` per item."""
    out = [
        f'<?xml version="1.0" encoding="{encoding}"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
        ' xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'
        ' xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">',
    ]
    for item in items:
        out += [
            "<url>",
            f"<loc>{_x(item.url)}</loc>",
            f"<lastmod>{(item.published + timedelta(minutes=20)).isoformat()}</lastmod>",
            "<news:news>",
            "<news:publication>",
            f"<news:name>{_x(publication)}</news:name>",
            "<news:language>ar</news:language>",
            "</news:publication>",
            f"<news:publication_date>{item.published.isoformat()}</news:publication_date>",
            f"<news:title>{_x(item.title)}</news:title>",
            "</news:news>",
            f"<image:image><image:loc>{_x(item.url)}.jpg</image:loc></image:image>",
            "</url>",
        ]
    out.append("</urlset>")
    return encode("\n".join(out), encoding)


def sitemap_index(children: Sequence[tuple[str, datetime | None]]) -> bytes:
    """A sitemap index pointing at `(url, lastmod)` child sitemaps, in the order given."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for url, lastmod in children:
        out.append("<sitemap>")
        out.append(f"<loc>{_x(url)}</loc>")
        if lastmod is not None:
            out.append(f"<lastmod>{lastmod.isoformat()}</lastmod>")
        out.append("</sitemap>")
    out.append("</sitemapindex>")
    return encode("\n".join(out))


# -- HTML pages ---------------------------------------------------------------------------

_SECTIONS = (
    ("politics", "سياسة"),
    ("economy", "اقتصاد"),
    ("world", "العالم"),
    ("sport", "رياضة"),
    ("culture", "ثقافة وفن"),
)


def _site_header(base_url: str) -> str:
    links = "".join(
        f'<li><a href="{base_url}/{slug}/">{_x(name)}</a></li>' for slug, name in _SECTIONS
    )
    return (
        '<header class="site-header">'
        f'<a class="logo" href="{base_url}/"><img src="{base_url}/static/logo.png"'
        f' alt="{_x(SITE_NAME)}"></a>'
        f'<form class="search" action="{base_url}/search"><input name="q"></form>'
        f'<a href="{base_url}/login">تسجيل الدخول</a>'
        "</header>"
        f'<nav class="main-nav" aria-label="الأقسام"><ul>{links}'
        f'<li><a href="{base_url}/video/">فيديو</a></li></ul></nav>'
    )


def _site_footer(base_url: str) -> str:
    return (
        '<footer class="site-footer"><ul>'
        f'<li><a href="{base_url}/about-us">من نحن</a></li>'
        f'<li><a href="{base_url}/contact-us">اتصل بنا</a></li>'
        f'<li><a href="{base_url}/privacy-policy">سياسة الخصوصية</a></li>'
        f'<li><a href="{base_url}/rss.xml">RSS</a></li>'
        "</ul>"
        '<div class="social"><a href="https://www.facebook.com/newsexample">فيسبوك</a>'
        ' <a href="https://twitter.com/newsexample">تويتر</a></div>'
        f"<p>© 2018 {_x(SITE_NAME)}. جميع الحقوق محفوظة.</p>"
        "</footer>"
    )


def _page(title: str, head_extra: str, body: str, encoding: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="ar" dir="rtl"><head>'
        f'<meta charset="{encoding}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_x(title)}</title>{head_extra}"
        '<link rel="stylesheet" href="/static/site.css">'
        "<script>window.dataLayer = window.dataLayer || [];</script>"
        f"</head><body>{body}"
        '<script src="/static/site.js"></script></body></html>\n'
    )


def listing_page(
    items: Sequence[NewsItem],
    *,
    base_url: str = BASE_URL,
    section: str = "politics",
    section_title: str = "سياسة",
    encoding: str = "utf-8",
    most_read: Sequence[NewsItem] = (),
) -> str:
    """A section front: chrome, then one card per item (image, headline, teaser, time).

    Besides the items' own links it carries everything a link finder must leave out:
    section navigation, tag and author links in the cards, "read more" links, a
    "most read" aside (linking `most_read` items), pagination, footer and social links.
    """
    cards = []
    for index, item in enumerate(items):
        tag_slug = quote(_WORD.findall(item.title)[0])
        heading = "h2" if index == 0 else "h3"
        cards.append(
            f'<article class="card{" card--lead" if index == 0 else ""}">'
            f'<a class="card__image" href="{_x(item.url)}">'
            f'<img src="{base_url}/uploads/{item.id}.jpg" alt=""></a>'
            f'<div class="card__body"><{heading} class="card__title">'
            f'<a href="{_x(item.url)}">{_x(item.title)}</a></{heading}>'
            f'<p class="card__teaser">{_x(item.teaser())}</p>'
            f'<div class="card__meta"><time datetime="{item.published.isoformat()}">'
            f"{item.published:%d/%m/%Y %H:%M}</time>"
            f' <a class="card__tag" href="{base_url}/tag/{tag_slug}">#{_x(tag_slug)}</a>'
            f' <a class="card__author" href="{base_url}/author/{item.outlet.split()[0].lower()}">'
            f"{_x(item.outlet)}</a></div>"
            f'<a class="card__more" href="{_x(item.url)}">اقرأ المزيد</a>'
            "</div></article>"
        )
    read = "".join(f'<li><a href="{_x(i.url)}">{_x(i.title)}</a></li>' for i in most_read)
    body = (
        _site_header(base_url)
        + f'<main id="main"><h1 class="section-title">{_x(section_title)}</h1>'
        + f'<section class="cards">{"".join(cards)}</section>'
        + '<nav class="pagination" aria-label="الصفحات">'
        + f'<a href="{base_url}/{section}/?page=2">2</a>'
        + f'<a href="{base_url}/{section}/page/3">3</a>'
        + f'<a href="{base_url}/{section}/?page=2">التالي</a></nav></main>'
        + f'<aside class="most-read"><h2>الأكثر قراءة</h2><ol>{read}</ol></aside>'
        + _site_footer(base_url)
    )
    head = f'<link rel="canonical" href="{base_url}/{section}/">'
    return _page(f"{section_title} | {SITE_NAME}", head, body, encoding)


def article_page(
    item: NewsItem,
    *,
    base_url: str = BASE_URL,
    encoding: str = "utf-8",
    related: Sequence[NewsItem] = (),
) -> str:
    """An article page: chrome, breadcrumbs, the story, share buttons, related links."""
    published = item.published.isoformat()
    head = (
        f'<link rel="canonical" href="{_x(item.url)}">'
        f'<meta property="og:title" content="{_x(item.title)}">'
        '<meta property="og:type" content="article">'
        f'<meta property="og:site_name" content="{_x(SITE_NAME)}">'
        f'<meta property="article:published_time" content="{published}">'
        f'<meta name="description" content="{_x(item.teaser())}">'
    )
    related_links = "".join(
        f'<li><a href="{_x(other.url)}">{_x(other.title)}</a></li>' for other in related
    )
    body = (
        _site_header(base_url)
        + '<main id="main"><nav class="breadcrumbs">'
        + f'<a href="{base_url}/">الرئيسية</a> › <a href="{base_url}/politics/">سياسة</a></nav>'
        + '<article class="article">'
        + f'<h1 class="article__title">{_x(item.title)}</h1>'
        + f'<div class="article__meta"><span class="author">{_x(item.outlet)}</span> '
        + f'<time datetime="{published}">{item.published:%d/%m/%Y}</time></div>'
        + '<div class="share"><a href="https://www.facebook.com/sharer.php">شارك</a>'
        + ' <a href="https://twitter.com/intent/tweet">غرّد</a></div>'
        + f'<div class="article__body">{_html_paragraphs(item.text)}</div>'
        + "</article>"
        + (
            f'<section class="related"><h2>اقرأ أيضا</h2><ul>{related_links}</ul></section>'
            if related
            else ""
        )
        + "</main>"
        + '<aside class="most-read"><h2>الأكثر قراءة</h2><ol>'
        + "<li>الأخبار الأكثر قراءة تظهر هنا</li></ol></aside>"
        + _site_footer(base_url)
    )
    return _page(f"{item.title} | {SITE_NAME}", head, body, encoding)


# -- Telegram -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChannelPost:
    """A post on the fixture channel page, and what a parser should read from it."""

    number: int
    item: NewsItem
    text: str  # the post's plain text, lines separated by "\n"
    outbound_url: str | None
    reply_to: int | None = None


def channel_posts(
    items: Sequence[NewsItem], *, first_number: int = 5000, paragraphs: int = 1
) -> list[ChannelPost]:
    """One post per item, oldest item first (as t.me/s lists them): headline, lead, link.

    Every third post carries its link only as a link preview; the second post replies to
    the first, so the page also holds a quote that is not the post's text.
    """
    posts = []
    for index, item in enumerate(reversed(items)):
        lead = [" ".join(paragraph.split()) for paragraph in item.paragraphs[:paragraphs]]
        lines = [f"🔴 {item.plain_title}", *lead, "#عاجل"]
        via_preview = index % 3 == 2
        if not via_preview:
            lines.append(f"التفاصيل: {item.url}")
        posts.append(
            ChannelPost(
                number=first_number + index,
                item=item,
                text="\n".join(lines),
                outbound_url=item.url,
                reply_to=first_number if index == 1 else None,
            )
        )
    return posts


def telegram_channel_page(
    posts: Sequence[ChannelPost], *, channel: str = "news_example", title: str = SITE_NAME
) -> str:
    """The t.me/s/<channel> web preview page in Telegram's real markup."""
    by_number = {post.number: post for post in posts}
    rendered = [_telegram_post(post, channel, title, by_number) for post in posts]
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{_x(title)} – Telegram</title>"
        f'<meta property="og:title" content="{_x(title)}">'
        '<link href="//telegram.org/css/widget-frame.css?71" rel="stylesheet">'
        '</head><body class="widget_frame_base tgme_webpreview emoji_image">'
        '<header class="tgme_header search_collapsed"><div class="tgme_header_info">'
        f'<a class="tgme_header_link" href="https://t.me/{channel}">'
        f'<div class="tgme_header_title">{_x(title)}</div></a></div></header>'
        '<main class="tgme_main"><section class="tgme_channel_history js-message_history">'
        f"{''.join(rendered)}</section></main>"
        '<script src="//telegram.org/js/widget-frame.js?63"></script></body></html>\n'
    )


def _telegram_text_html(text: str) -> str:
    out = []
    for line in text.split("\n"):
        html_line = _x(line)
        html_line = re.sub(
            r"(https?://\S+)",
            lambda m: f'<a href="{m[1]}" target="_blank" rel="noopener">{m[1]}</a>',
            html_line,
        )
        html_line = html_line.replace("#عاجل", '<a href="?q=%23%D8%B9%D8%A7%D8%AC%D9%84">#عاجل</a>')
        html_line = html_line.replace(
            "🔴",
            '<i class="emoji" style="background-image:url(\'//telegram.org/img/emoji/40/'
            "F09F94B4.png')\"><b>🔴</b></i>",
        )
        out.append(html_line)
    return "<br/>".join(out)


def _telegram_post(
    post: ChannelPost, channel: str, title: str, by_number: dict[int, ChannelPost]
) -> str:
    stamp = post.item.published.isoformat()
    reply = ""
    if post.reply_to is not None and post.reply_to in by_number:
        quoted = by_number[post.reply_to]
        reply = (
            f'<a class="tgme_widget_message_reply" href="https://t.me/{channel}/{quoted.number}">'
            f'<div class="tgme_widget_message_author accent_color"><span class="'
            f'tgme_widget_message_author_name">{_x(title)}</span></div>'
            f'<div class="tgme_widget_message_text js-message_reply_text" dir="auto">'
            f"{_x(quoted.text.split(chr(10))[0])}</div></a>"
        )
    preview = ""
    if post.outbound_url and post.outbound_url not in post.text:
        preview = (
            f'<a class="tgme_widget_message_link_preview" href="{_x(post.outbound_url)}">'
            f'<div class="link_preview_site_name accent_color" dir="auto">{_x(SITE_NAME)}</div>'
            f'<div class="link_preview_title" dir="auto">{_x(post.item.title)}</div>'
            f'<div class="link_preview_description" dir="auto">{_x(post.item.teaser())}</div>'
            "</a>"
        )
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message"'
        f' data-post="{channel}/{post.number}" data-view="eyJjIjotMTAwMTIzNH0">'
        '<div class="tgme_widget_message_user">'
        f'<a href="https://t.me/{channel}"><i class="tgme_widget_message_user_photo"></i></a>'
        "</div>"
        '<div class="tgme_widget_message_bubble">'
        '<div class="tgme_widget_message_author accent_color">'
        f'<a class="tgme_widget_message_owner_name" href="https://t.me/{channel}">'
        f'<span dir="auto">{_x(title)}</span></a></div>'
        f"{reply}"
        f'<div class="tgme_widget_message_text js-message_text" dir="auto">'
        f"{_telegram_text_html(post.text)}</div>"
        f"{preview}"
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        '<span class="tgme_widget_message_views">12.4K</span>'
        '<span class="tgme_widget_message_meta">'
        f'<a class="tgme_widget_message_date" href="https://t.me/{channel}/{post.number}">'
        f'<time datetime="{stamp}" class="time">{post.item.published:%H:%M}</time></a>'
        "</span></div></div></div></div></div>"
    )
