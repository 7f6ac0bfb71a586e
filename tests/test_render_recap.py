"""bench/render_recap.py: the sample recap's HTML, and the Chromium command it runs."""

from __future__ import annotations

import importlib.util
import stat
from pathlib import Path

import pytest

from testsupport.shared import shared_path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "bench" / "render_recap.py"
# CI has ../shared beside the clone; without it, say how to get it (never skip).
CORPUS = shared_path("corpus", "arabic-news.jsonl")


@pytest.fixture(scope="module")
def script():
    """The script as a module (importing alertbot takes seconds: once for all tests)."""
    spec = importlib.util.spec_from_file_location("render_recap", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_html_is_a_full_right_to_left_document(script):
    html = script.build_sample_html(CORPUS)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="ar" dir="rtl">' in html
    assert '<body dir="rtl"' in html and html.rstrip().endswith("</html>")
    assert "Recap 2025-03-01: 8 stories from" in html
    for watch in ("Gaza ceasefire", "El-Dabaa nuclear plant", "ناريشكين"):
        assert f"<bdi>{watch}</bdi>" in html or f'<bdi dir="rtl">{watch}</bdi>' in html
    assert html.count('<a href="http') == 9  # eight stories, one under two watches
    assert '<bdi style="white-space:nowrap">Sky News Arabia</bdi>' in html and "MH17" in html
    assert "<strong>" in html


def test_script_runs_the_browser_with_the_expected_command(script, tmp_path, capsys):
    """The whole script, in process, with a fake browser that writes the screenshot."""
    log = tmp_path / "argv.log"
    fake = tmp_path / "fake-chromium"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> "{log}"\n'
        'for a in "$@"; do case "$a" in --screenshot=*) printf png > "${a#--screenshot=}";; '
        "esac; done\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    out = tmp_path / "out"
    argv = ["--out-dir", str(out), "--chromium", str(fake), "--corpus", str(CORPUS)]
    assert script.main(argv) == 0
    page = out / "recap.html"
    assert capsys.readouterr().out.split() == [
        str(page),
        str(out / "recap-phone.png"),
        str(out / "recap-desktop.png"),
    ]
    assert 'dir="rtl"' in page.read_text(encoding="utf-8")
    phone, desktop = log.read_text().splitlines()
    flags = "--headless=new --no-sandbox --disable-gpu --hide-scrollbars"
    assert phone == (
        f"{flags} --window-size=390,1600 --screenshot={out / 'recap-phone.png'} "
        f"{page.resolve().as_uri()}"
    )
    assert desktop == (
        f"{flags} --window-size=1024,1400 --screenshot={out / 'recap-desktop.png'} "
        f"{page.resolve().as_uri()}"
    )


def test_script_exits_2_without_a_browser(script, tmp_path, capsys):
    assert script.main(["--out-dir", str(tmp_path), "--chromium", "no-such-browser"]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err
    assert not (tmp_path / "recap.html").exists()
