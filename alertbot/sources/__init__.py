"""Sources: fetching feeds, pages, sitemaps and Telegram channels, and making articles.

fetch.py (Fetcher), charset.py, safety.py     the HTTP edge: budgets, limits, decoding
feeds.py, sitemaps.py, pages.py, telegram.py  entries from each kind of source
extract.py, article.py, urls.py               trafilatura, the Article, canonical URLs
health.py                                     backoff after failures (pure)
poll.py (Poller)                              one poll: fetch, entries, articles
worker.py                                     a pool worker's start: exit with the parent
"""
