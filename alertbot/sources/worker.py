"""What a pool worker (`poll.cpu_pool`) runs: its start-up step (it exits with its parent)
and `call`, which runs a parser named by its module path.

A worker imports this module for its initializer, so it imports nothing beyond the
standard library: what else a worker loads is what it is handed to run. Work is handed over
by name ("alertbot.sources.extract:extract"), not as a function object, so the process
that hands it over never imports the parsers (trafilatura, lxml, feedparser, justext,
htmldate: about 9 MB of the main process, beside what it imports anyway).
"""

from __future__ import annotations

import importlib
import os
import select
import threading
import time


def call(target: str, *args: object, **kwargs: object) -> object:
    """Run `target` ("package.module:function"), importing its module here on first use."""
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)(*args, **kwargs)


def exit_with_parent(parent: int) -> None:
    """In a pool worker: exit as soon as process `parent` ends, from a watching thread.

    Not prctl(PR_SET_PDEATHSIG): its "parent" is the thread that started the worker, and
    the pool starts workers from whichever thread submits work (the event loop, the
    pipeline's worker), so a worker would die with that thread. A pidfd (Linux 5.3) wakes
    the watcher the moment the parent ends; elsewhere it looks every second. The check of
    `os.getppid()` after opening it covers a parent that ended before this ran.
    """
    try:
        pidfd: int | None = os.pidfd_open(parent)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # not Linux, or a kernel without pidfds
        pidfd = None
    if os.getppid() != parent:
        os._exit(1)
    watch = threading.Thread(
        target=_wait_for_parent, args=(parent, pidfd), name="alertbot-parent-watch", daemon=True
    )
    watch.start()


def _wait_for_parent(parent: int, pidfd: int | None) -> None:
    if pidfd is not None:
        select.select([pidfd], [], [])  # readable once the process has ended
    else:
        while os.getppid() == parent:
            time.sleep(1.0)
    os._exit(1)
