"""What the tests and the benchmarks share: loopback servers, fixtures, the shared data.

    shared.py          ../shared beside the repository (corpus, seed articles), or a how-to
    httpserver.py      a loopback HTTP server for sources (routes, gzip, hangs, a request log)
    botapi.py          a Bot API stand-in python-telegram-bot talks to over real HTTP
    smtpserver.py      aiosmtpd on a free loopback port
    sourcefixtures.py  corpus articles rendered as feeds, sitemaps, pages and t.me/s pages
    storefixtures.py   articles for the store
    clocks.py          an injectable clock

Importable without path edits: the editable install puts the repository's root on the path.
Not part of the installed package (`alertbot` is the only wheel package).
"""
