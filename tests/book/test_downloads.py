"""The offline download (issue 16): the landing page links one archive with every notebook and an installable wheel.

Reads ``_build/html`` (built by ``scripts/build-book.sh``, which makes the archive with scripts/make-downloads.sh);
skipped before a build, required under ``SCORESDE_BOOK_BUILT=1``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .bookcheck import ROOT

HTML = Path(os.environ.get("SCORESDE_HTML", ROOT / "_build" / "html"))
LINK = re.compile(r'<a class="scoresde-download" href="([^"]+)"')


def archive_problems(names: list[str], notebooks: list[str]) -> list[str]:
    problems = [f"{nb} is not in the archive" for nb in notebooks
                if f"scoresde-course/notebooks/{nb}" not in names]
    if sum(n.endswith(".whl") for n in names) != 1:
        problems.append("the archive needs exactly one wheel")
    return problems


def test_archive_check_fails_on_a_missing_notebook():
    names = ["scoresde-course/notebooks/01_a.ipynb", "scoresde-course/scoresde-0.1.0-py3-none-any.whl"]
    assert archive_problems(names, ["01_a.ipynb"]) == []
    assert archive_problems(names, ["01_a.ipynb", "02_b.ipynb"])
    assert archive_problems(names[:1], ["01_a.ipynb"])


@pytest.fixture(scope="module")
def archive() -> Path:
    preface = HTML / "book" / "preface.html"
    if not preface.is_file():
        if os.environ.get("SCORESDE_BOOK_BUILT"):
            pytest.fail(f"{HTML} is missing: the book was not built")
        pytest.skip("book not built (scripts/build-book.sh)")
    links = LINK.findall(preface.read_text(encoding="utf-8"))
    assert links, "the landing page has no download link"
    targets = {(preface.parent / link).resolve() for link in links}
    assert len(targets) == 1 and all(t.is_file() for t in targets), targets
    return targets.pop()


def test_archive_holds_every_notebook_and_a_wheel(archive):
    names = zipfile.ZipFile(archive).namelist()
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert archive_problems(names, notebooks) == []
    assert "scoresde-course/START-HERE.txt" in names


def test_the_wheel_installs(archive, tmp_path):
    with zipfile.ZipFile(archive) as z:
        wheel = next(n for n in z.namelist() if n.endswith(".whl"))
        z.extract(wheel, tmp_path)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(target), str(tmp_path / wheel)], check=True)
    out = subprocess.run([sys.executable, "-c", "import scoresde, scoresde.checkpoints as c; print(scoresde.__file__);"
                          "print(c.checkpoint_path('ch02_dsm').is_file())"],
                         env={**os.environ, "PYTHONPATH": str(target)}, capture_output=True, text=True, check=True)
    location, has_checkpoint = out.stdout.split()
    assert location.startswith(str(target)) and has_checkpoint == "True"
