"""Article links found on HTML pages: a real CNN Arabic page and an Arabic section front."""

from __future__ import annotations

from pathlib import Path

import pytest

from alertbot.sources.errors import SourceParseError
from alertbot.sources.pages import links_on_page
from testsupport.sourcefixtures import BASE_URL, listing_page, news_items

CNN_PAGE = Path(__file__).resolve().parent.parent.parent / "shared/fixtures/html/cnnarabic-1.html"
CNN_URL = "http://arabic.cnn.com/2013/middle_east/8/3/syria.clashes/index.html"
SECTION_URL = f"{BASE_URL}/politics/"


@pytest.fixture(scope="module")
def items():
    return news_items(7)


def test_cnn_arabic_article_page_related_links():
    html = CNN_PAGE.read_text(encoding="utf-8")
    entries = links_on_page(html, CNN_URL)

    site = "http://arabic.cnn.com"
    assert [(e.url, e.title) for e in entries] == [
        # links inside the story text (relative, resolved against the page)
        (
            f"{site}/2013/middle_east/8/2/jordan.syria.borders.drugs.and.weapons/index.html",
            "مستودعات للذخيرة",
        ),
        (f"{site}/2013/syria.2011/8/1/assad.army-day/index.html", "أسلحة مضادة للدروع وصواريخ"),
        (f"{site}/2013/world/7/22/EU.ist.hezbollah.wing.terror.list/index.html", "الطائفة الشيعية"),
        # the "most read" box
        (
            f"{site}/2014/middle_east/1/9/sa.Sexual.harassment/index.html",
            "القبض على شاب تحرش بطفلة في السعودية",
        ),
        (
            f"{site}/2014/middle_east/1/9/saudi.waleed/index.html",
            "الأمير الوليد يلغي إيقاف مقدم برامج بعد مقابلة جرئية",
        ),
        (
            f"{site}/2014/world/1/9/us-immigration-suitcase/index.html",
            "تحاول الدخول لأمريكا داخل حقيبة سفر",
        ),
        (
            f"{site}/2014/world/1/9/jihad-jane-ally-sentenced/index.html",
            'أمريكا: السجن 8 سنوات لشريكة "جهاد جين"',
        ),
        (
            f"{site}/2014/middle_east/1/8/Libya.x.officials.trial/",
            "ليبيا: تأجيل محاكمة شخصيات بنظام القذافي لفبراير",
        ),
    ]


def test_section_front_gives_its_stories_in_page_order(items):
    others = news_items(3, offset=40)
    entries = links_on_page(listing_page(items, most_read=others), SECTION_URL)

    assert [e.url for e in entries] == [item.url for item in items]
    assert [e.title for e in entries] == [item.plain_title for item in items]
    assert [e.published for e in entries] == [item.published for item in items]
    assert entries[0].summary == items[0].teaser()


def test_section_front_leaves_out_chrome(items):
    entries = links_on_page(listing_page(items, most_read=news_items(3, offset=40)), SECTION_URL)
    urls = {e.url for e in entries}
    for fragment in ("/tag/", "/author/", "page", "/about-us", "/login", "/rss.xml", "/uploads/"):
        assert not any(fragment in url for url in urls), fragment
    assert not any("facebook" in url or "twitter" in url for url in urls)


def test_links_are_resolved_and_deduplicated():
    html = """<html><head><base href="https://www.news.example/ar/"></head><body><main>
    <ul class="list">
      <li><a href="politics/2018/03/01/story-100"><img src="x.jpg" alt=""></a>
          <h3><a href="politics/2018/03/01/story-100?utm_source=home#top">عنوان الخبر الأول</a></h3>
          <a href="politics/2018/03/01/story-100">المزيد</a></li>
      <li><a href="https://news.example/ar/news/details/1165736">خبر ثان عن غزة</a></li>
      <li><a href="//cdn.news.example/ar/news/1165737">خبر على نطاق آخر</a></li>
      <li><a href="https://other.example/2018/03/01/some-other-story">خبر من موقع آخر</a></li>
      <li><a href="/ar/politics/">سياسة</a> <a href="/ar/">الرئيسية</a></li>
      <li><a href="/ar/news.php?id=4411">خبر بمعرّف في الاستعلام</a></li>
      <li><a href="/ar/news?page=2">الصفحة التالية</a></li>
      <li><a href="/ar/files/report-on-the-truce.pdf">تقرير الهدنة</a></li>
      <li><a href="javascript:void(0)">اشترك</a> <a href="mailto:x@news.example">راسلنا</a></li>
    </ul></main></body></html>"""
    entries = links_on_page(html, "https://news.example/ar/politics/")

    assert [(e.url, e.title) for e in entries] == [
        ("https://www.news.example/ar/politics/2018/03/01/story-100", "عنوان الخبر الأول"),
        ("https://news.example/ar/news/details/1165736", "خبر ثان عن غزة"),
        ("https://www.news.example/ar/news.php?id=4411", "خبر بمعرّف في الاستعلام"),
    ]


def test_headers_inside_article_cards_count_but_page_chrome_does_not():
    html = """<html><body>
    <header><a href="/news/2018/03/01/header-promo-story">ترويج في الترويسة</a></header>
    <div id="main-menu"><a href="/news/2018/03/01/menu-featured-story">قصة في القائمة</a></div>
    <div role="navigation"><a href="/news/1234567">رابط تنقل</a></div>
    <aside><a href="/news/2018/03/01/most-read-story">الأكثر قراءة</a></aside>
    <section>
      <article><header><h2><a href="/news/2018/03/01/card-story-one">قصة البطاقة الأولى</a></h2>
      </header><footer><a href="/news/2018/03/01/card-story-two">قصة البطاقة الثانية</a>
      </footer></article>
    </section>
    <footer><a href="/news/2018/03/01/footer-story">قصة في التذييل</a></footer>
    </body></html>"""
    entries = links_on_page(html, "https://news.example/news/")
    assert [e.title for e in entries] == ["قصة البطاقة الأولى", "قصة البطاقة الثانية"]


def test_short_labels_are_not_titles():
    html = '<html><body><p><a href="/world/2018/03/01/a-long-story-slug">›</a></p></body></html>'
    [entry] = links_on_page(html, "https://news.example/world/")
    assert entry.title is None


def test_xhtml_page_with_an_encoding_declaration():
    html = (
        '<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        '<body><a href="/news/2018/03/01/the-story-slug">خبر صفحة XHTML</a></body></html>'
    )
    [entry] = links_on_page(html, "https://news.example/news/")
    assert entry.title == "خبر صفحة XHTML"


@pytest.mark.parametrize("html", ["", "   \n", "<!-- nothing -->"])
def test_empty_page(html):
    with pytest.raises(SourceParseError):
        links_on_page(html, SECTION_URL)


def test_page_without_article_links_is_empty():
    html = f'<html><body><a href="{BASE_URL}/">الرئيسية</a></body></html>'
    assert links_on_page(html, SECTION_URL) == []
