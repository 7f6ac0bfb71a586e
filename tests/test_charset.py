"""Decoding fetched bodies: real Arabic news text in the encodings Arabic sites really use."""

from __future__ import annotations

import feedparser
import pytest
from lxml import etree

from alertbot.sources.charset import decode, utf8_xml, xml_declaration_removed
from testsupport.shared import corpus


def _articles(count: int) -> list[tuple[str, str]]:
    """(title, text) of the first corpus articles that windows-1256 can encode."""
    found = []
    for row in corpus():
        try:
            (row["title"] + row["text"]).encode("cp1256")
        except UnicodeEncodeError:
            continue
        found.append((row["title"], row["text"]))
        if len(found) == count:
            return found
    raise AssertionError(f"the corpus has fewer than {count} windows-1256 articles")


@pytest.fixture(scope="module")
def article() -> tuple[str, str]:
    return _articles(1)[0]


def _page(article: tuple[str, str], head: str = "") -> str:
    title, text = article
    paragraphs = "".join(f"<p>{p}</p>\n" for p in text.splitlines())
    return (
        f"<!DOCTYPE html>\n<html lang='ar' dir='rtl'><head>{head}<title>{title}</title></head>"
        f"<body><h1>{title}</h1>\n{paragraphs}</body></html>\n"
    )


def _feed(article: tuple[str, str], encoding: str) -> str:
    title, text = article
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n<rss version="2.0"><channel>'
        f"<title>أخبار</title><item><title>{title}</title>"
        f"<description>{text.splitlines()[0]}</description></item></channel></rss>\n"
    )


def test_cp1256_without_any_charset(article):
    page = _page(article)
    assert decode(page.encode("cp1256"), "text/html") == (page, "cp1256")


@pytest.mark.parametrize("label", ["iso-8859-1", "ISO-8859-1", "latin1", "windows-1252"])
def test_cp1256_with_a_wrong_latin_header(article, label):
    page = _page(article)
    assert decode(page.encode("cp1256"), f"text/html; charset={label}") == (page, "cp1256")


def test_cp1256_with_a_correct_header(article):
    page = _page(article)
    assert decode(page.encode("cp1256"), 'text/html; charset="windows-1256"') == (page, "cp1256")


def test_cp1256_with_a_meta_charset(article):
    page = _page(article, '<meta charset="windows-1256">')
    assert decode(page.encode("cp1256"), "text/html") == (page, "cp1256")


def test_cp1256_with_a_meta_http_equiv(article):
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
    page = _page(article, head)
    assert decode(page.encode("cp1256"), None) == (page, "cp1256")


def test_cp1256_with_an_xml_declaration(article):
    feed = _feed(article, "windows-1256")
    assert decode(feed.encode("cp1256"), "application/rss+xml") == (feed, "cp1256")


def test_cp1256_under_a_utf8_header_and_meta(article):
    page = _page(article, '<meta charset="utf-8">')
    assert decode(page.encode("cp1256"), "text/html; charset=utf-8") == (page, "cp1256")


def test_iso_8859_6_without_any_charset():
    title, text = next(a for a in _articles(50) if _encodes(a, "iso8859-6"))
    page = _page((title, text))
    assert decode(page.encode("iso8859-6"), None) == (page, "iso8859-6")


def test_utf8_with_a_bom(article):
    page = _page(article)
    assert decode(b"\xef\xbb\xbf" + page.encode("utf-8"), "text/html; charset=cp1256") == (
        page,
        "utf-8",
    )


def test_utf16_with_a_bom(article):
    page = _page(article)
    assert decode(page.encode("utf-16"), None)[0] == page


def test_utf8_with_a_wrong_cp1256_header(article):
    page = _page(article)
    assert decode(page.encode("utf-8"), "text/html; charset=windows-1256") == (page, "utf-8")


def test_utf8_without_any_charset(article):
    page = _page(article)
    assert decode(page.encode("utf-8"), None) == (page, "utf-8")


def test_every_corpus_article_round_trips_from_cp1256():
    for title, text in _articles(200):
        page = _page((title, text))
        body = page.encode("cp1256")
        assert decode(body, None)[0] == page
        assert decode(body, "text/html; charset=iso-8859-1")[0] == page


def test_a_latin1_page_with_its_header_stays_latin1():
    page = "<p>Le président égyptien a reçu à l'Élysée le directeur du renseignement.</p>"
    assert decode(page.encode("latin-1"), "text/html; charset=iso-8859-1") == (page, "iso8859-1")


def test_a_german_latin1_page_is_not_taken_for_arabic():
    page = "<p>Der Präsident Ägyptens empfing den Direktor. Größere Fortschritte müssen folgen.</p>"
    assert decode(page.encode("latin-1"), "text/html; charset=iso-8859-1")[0] == page


def test_undeclared_cyrillic_is_not_taken_for_arabic():
    page = (
        "<p>Директор Службы внешней разведки России Сергей Нарышкин встретился с президентом "
        "Египта в Каире. Стороны обсудили ситуацию в секторе Газа и строительство АЭС.</p>"
    )
    assert decode(page.encode("cp1251"), None) == (page, "cp1251")


def test_a_utf16_meta_label_on_ascii_compatible_bytes_is_ignored(article):
    page = _page(article, '<meta charset="utf-16">')
    assert decode(page.encode("utf-8"), None) == (page, "utf-8")


def test_ascii_with_a_declared_charset_keeps_the_declaration():
    assert decode(b"<p>hello</p>", "text/html; charset=windows-1256") == ("<p>hello</p>", "cp1256")


def test_an_unknown_label_is_skipped(article):
    page = _page(article)
    assert decode(page.encode("utf-8"), "text/html; charset=x-no-such") == (page, "utf-8")


def test_an_empty_body():
    assert decode(b"", None) == ("", "utf-8")


def test_xml_for_lxml_has_no_declaration(article):
    feed, _ = decode(_feed(article, "windows-1256").encode("cp1256"), None)
    root = etree.fromstring(xml_declaration_removed(feed))
    assert root.findtext("channel/item/title") == article[0]


def test_xml_for_feedparser_is_utf8_and_says_so(article):
    feed, _ = decode(_feed(article, "windows-1256").encode("cp1256"), None)
    data = utf8_xml(feed)
    assert data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    parsed = feedparser.parse(data)
    assert not parsed.bozo
    assert parsed.entries[0].title == article[0]


def test_utf8_xml_without_a_declaration():
    assert utf8_xml("\ufeff<rss>خبر</rss>") == "<rss>خبر</rss>".encode()


def _encodes(article: tuple[str, str], encoding: str) -> bool:
    try:
        (article[0] + article[1]).encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
