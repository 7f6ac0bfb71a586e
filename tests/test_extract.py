"""trafilatura on article pages: corpus articles in news-site chrome, and a real CNN page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from alertbot.sources.extract import MIN_TEXT_CHARS, extract
from testsupport.sourcefixtures import article_page, corpus_rows, encode, news_items

CNN_PAGE = Path(__file__).resolve().parent.parent.parent / "shared/fixtures/html/cnnarabic-1.html"
CNN_URL = "http://arabic.cnn.com/2013/middle_east/8/3/syria.clashes/index.html"

# trafilatura drops bidi marks and zero-width characters, which the corpus text keeps.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _visible(text: str) -> str:
    lines = (" ".join(_INVISIBLE.sub("", line).split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _one_per_outlet() -> list[str]:
    """A long, multi-paragraph article from each outlet in the corpus."""
    by_outlet: dict[tuple[str, str], list[str]] = {}
    for row in corpus_rows(min_chars=600, min_paragraphs=3):
        by_outlet.setdefault((row["outlet"], row["source_repo"]), []).append(row["id"])
    return [ids[len(ids) // 2] for ids in by_outlet.values()]


@pytest.mark.parametrize("item_id", _one_per_outlet())
def test_article_page_gives_back_the_story(item_id):
    [item, *related] = news_items(ids=[item_id, "ant-1", "ant-2"])
    extracted = extract(article_page(item, related=related), item.url)

    assert extracted is not None
    assert _visible(extracted.text) == _visible(item.text)
    assert extracted.title == item.plain_title
    assert extracted.published == item.published
    assert extracted.language == "ar"


def test_boilerplate_is_left_out():
    [item, *related] = news_items(3)
    extracted = extract(article_page(item, related=related), item.url)
    for chrome in ("اقرأ أيضا", "الأكثر قراءة", "جميع الحقوق محفوظة", "سياسة الخصوصية"):
        assert chrome not in extracted.text
    for other in related:
        assert other.title not in extracted.text


def test_many_corpus_articles():
    items = news_items(60, min_chars=400, min_paragraphs=2, offset=300)
    exact = sum(
        1
        for item in items
        if (found := extract(article_page(item), item.url)) is not None
        and _visible(found.text) == _visible(item.text)
    )
    assert exact == len(items)


def test_windows_1256_page_as_bytes():
    [item] = news_items(1, offset=10)
    body = encode(article_page(item, encoding="windows-1256"), "windows-1256")
    extracted = extract(body, item.url)
    assert _visible(extracted.text) == _visible(item.text)


def test_real_cnn_arabic_page():
    html = CNN_PAGE.read_text(encoding="utf-8")
    extracted = extract(html, CNN_URL)

    assert extracted.title == "معارضون يسيطرون على مخازن للصواريخ بريف دمشق"
    assert extracted.language == "ar"
    paragraphs = extracted.text.split("\n")
    assert paragraphs[0].startswith("دمشق، سوريا (CNN) -- أكدت جهات سورية معارضة")
    assert "سيطروا على ثلاثة مستودعات للذخيرة بالقرب من بلدة قلدون" in extracted.text
    assert "حكومة تدير المناطق التي يقطنها الأكراد في سوريا بشكل مستقل" in extracted.text
    for chrome in ("الشرق الأوسط", "اقتصاد وأعمال", "Turner Broadcasting", "جهاد جين"):
        assert chrome not in extracted.text
    # The page dates itself only in Arabic prose ("الأربعاء، 28 آب/اغسطس 2013"); htmldate's
    # extensive search would guess 2013-01-01 from loose text, so no date is better.
    assert extracted.published is None


def test_the_page_date_must_not_be_after_now():
    [item] = news_items(1)
    html = article_page(item)
    assert extract(html, item.url, now=datetime(2018, 3, 2, tzinfo=UTC)).published is not None
    assert extract(html, item.url, now=datetime(2018, 2, 1, tzinfo=UTC)).published is None


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   ",
        "<html><body><p>خبر قصير</p></body></html>",
        "<html><body><nav><a href='/'>الرئيسية</a></nav></body></html>",
        "\x00\x01\x02 not html at all",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        "<html><body><p>" + "ا" * (MIN_TEXT_CHARS - 1) + "</p></body></html>",
    ],
)
def test_junk_gives_none(html):
    assert extract(html, "https://news.example/junk") is None
