#!/usr/bin/env bash
# The offline download (issue 16): one archive with every notebook and the companion's wheel, served by the book
# (html_extra_path) at _build/html/scoresde-course.zip and linked from the landing page. Called by build-book.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="_build/downloads"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT" "$WORK/scoresde-course/notebooks" "$WORK/wheel"
# built from a copy, so that no build/ or *.egg-info is left in the repository
cp -r companion "$WORK/src" && rm -rf "$WORK/src/build" "$WORK"/src/*.egg-info
python -m pip wheel --quiet --no-deps --no-build-isolation "$WORK/src" -w "$WORK/wheel" >/dev/null
cp notebooks/*.ipynb "$WORK/scoresde-course/notebooks/"
WHEEL="$(basename "$WORK"/wheel/scoresde-*.whl)"
cp "$WORK/wheel/$WHEEL" README.md LICENSE LICENSE-CONTENT CITATION.cff "$WORK/scoresde-course/"
cat > "$WORK/scoresde-course/START-HERE.txt" <<TXT
Score Matching and SDEs · 分數匹配與隨機微分方程 — offline copy

1. Install PyTorch (CPU: pip install torch --index-url https://download.pytorch.org/whl/cpu; see README.md).
2. pip install "$WHEEL[book]"     (the companion and what the chapters import; needs PyPI once)
3. jupyter lab notebooks/

1. 安裝 PyTorch（CPU 版：pip install torch --index-url https://download.pytorch.org/whl/cpu；見 README.md）。
2. pip install "$WHEEL[book]"    （配套套件與各章匯入的套件；需要連上 PyPI 一次）
3. jupyter lab notebooks/
TXT
rm -f "$OUT/scoresde-course.zip"
(cd "$WORK" && python -m zipfile -c "$ROOT/$OUT/scoresde-course.zip" scoresde-course)
echo "[downloads] $OUT/scoresde-course.zip ($(du -h "$OUT/scoresde-course.zip" | cut -f1))"
