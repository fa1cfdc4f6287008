#!/usr/bin/env bash
# README command 2: run every test. Sets up .venv and the pinned packages on first use (scripts/env.sh).
#   0. the system packages of scripts/system-deps.txt, checked one by one, installed when missing (root) -> system-deps.sh
#   1. ruff and mypy on the companion (zero findings), its unit tests and the book checks -> pytest tests/
#   2. every notebook re-executed and compared with its committed outputs (nbval, strict) -> pytest --nbval
#   3. the same again under another CPU's arithmetic: PyTorch's portable kernels, MKL's compatible code path,
#      one thread (what a student's laptop computes); the printed text must not change
#   4. the book built with warnings as errors                                           -> scripts/build-book.sh
#   5. the built book: numbering, API links, downloads, offline assets; then headless Chromium (tests/browser)
#   6. the English and 中文 editions, their PDFs and exercise sheets (scripts/build-editions.sh), checked
#   7. the student install: a clean venv with torch + companion[book] only runs every chapter and the CLI
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
start=$(date +%s)
step() { echo; echo "=== $1  (+$(( $(date +%s) - start )) s)"; }

step "0/7 system packages (scripts/system-deps.txt: browser, driver, CJK fonts, poppler), each command checked"
bash scripts/system-deps.sh all
source "$ROOT/scripts/env.sh"

step "1/7 companion: ruff (lint, import order) and mypy, then unit tests and book checks"
(cd companion && ruff check scoresde && mypy scoresde)
python -m pytest tests -q -p no:cacheprovider --ignore=tests/browser

shopt -s nullglob
nbs=(notebooks/*.ipynb)
nbval() { python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
            -q -p no:cacheprovider "${nbs[@]}"; }
step "2/7 notebooks, nbval strict"
nbval
step "3/7 notebooks, nbval strict under other kernels (ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE, 1 thread)"
ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 nbval

step "4/7 book build (-W)"
bash scripts/build-book.sh

if [ -d tests/browser ]; then
  step "5/7 the built book: its checks (numbering, API links, downloads, markup, offline) and headless Chromium"
  # the book checks again, now that the book is built (offline assets, rendered markup, numbering, API links,
  # downloads), then the browser tests
  bash scripts/node-deps.sh   # axe-core for tests/browser/test_axe.py (npm ci of package-lock.json)
  SCORESDE_BOOK_BUILT=1 python -m pytest tests/book tests/browser -q -p no:cacheprovider
fi

step "6/7 editions: en / zh-TW sites, PDFs, exercise sheets (-W) and their checks"
bash scripts/build-editions.sh
SCORESDE_EDITIONS_BUILT=1 python -m pytest tests/editions -q -p no:cacheprovider

step "7/7 the student install (torch + companion[book] in a clean venv) runs every chapter and the CLI"
bash scripts/student-path.sh
step "all tests passed in $(( $(date +%s) - start )) s"
