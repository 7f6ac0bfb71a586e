"""The bot's processes import what they use, and none of the heavy packages never used.

camel-tools declares pandas, scipy, scikit-learn, torch and transformers for parts alertbot
does not use; pyproject.toml keeps them out of the install. This pins why that matters and
that it holds: a dependency that brings one back (sqlite-utils imports pandas whenever it is
installed, datasketch imported scipy) shows up here as a module the bot's process loaded.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

from alertbot.sources.extract import extract
from testsupport import sourcefixtures as fx

ROOT = Path(__file__).resolve().parent.parent

UNUSED = ("pandas", "scipy", "sklearn", "datasketch", "torch", "transformers", "kenlm")
# What only the extraction workers run: the main process hands them work by name.
# (charset-normalizer is not among them: camel-tools' database module imports requests.)
PARSERS = ("trafilatura", "feedparser", "lxml", "justext", "htmldate")

# What `alertbot run` loads before its first poll: the app, the analyzer over the database
# (as cli.open_lemmatizer opens it), one analysed word, one fingerprint.
_RUN = """
import json, sys
import alertbot.app
from alertbot.cli import open_lemmatizer
from alertbot.stories.fingerprint import fingerprint
open_lemmatizer().analyze("وناريشكين")
fingerprint("السيسي يستقبل ناريشكين", "استقبل الرئيس السيسي سيرجي ناريشكين")
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


def test_the_bot_process_imports_no_unused_heavy_package() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _RUN], check=True, capture_output=True, text=True, cwd=ROOT
    ).stdout
    loaded = set(json.loads(out))
    assert {"alertbot", "camel_tools", "sqlite_utils", "telegram", "numpy"} <= loaded
    assert loaded.isdisjoint(UNUSED), sorted(loaded & set(UNUSED))
    assert loaded.isdisjoint(PARSERS), sorted(loaded & set(PARSERS))


def test_every_parser_the_poller_hands_over_by_name_exists() -> None:
    from alertbot.sources import poll

    targets = [v for k, v in vars(poll).items() if k.isupper() and ":" in str(v)]
    assert len(targets) == 5
    for target in targets:
        module, _, name = target.partition(":")
        assert callable(getattr(importlib.import_module(module), name)), target


def _loaded() -> set[str]:
    """In a pool worker: the modules it has imported."""
    return set(sys.modules)


def test_a_pool_worker_imports_the_parsers_it_runs_and_not_the_fetch_layer() -> None:
    """Each worker is a whole interpreter of its own: what it imports, it holds alone (the
    poller's fetch layer and config would be 7 MB a worker, numpy 20 MB)."""
    # Imported here: the worker imports this module to run `_loaded`.
    from alertbot.sources.poll import cpu_pool

    item = fx.news_items(1)[0]
    with cpu_pool(1) as pool:
        assert pool.submit(extract, fx.article_page(item), item.url).result() is not None
        loaded = pool.submit(_loaded).result()
    assert {"trafilatura", "lxml", "alertbot.sources.extract"} <= loaded
    unused = {"httpx", "alertbot.sources.fetch", "alertbot.sources.poll", "alertbot.config"}
    unused |= {"numpy", "camel_tools", "sqlite_utils"}
    assert loaded.isdisjoint(unused), sorted(loaded & unused)
