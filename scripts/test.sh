#!/usr/bin/env bash
# README command 2: run every test. Sets up .venv and the pinned packages on first use (scripts/env.sh).
#   0. the system packages of scripts/system-deps.txt, checked one by one, installed when missing (root) -> system-deps.sh
#   1. ruff and mypy on the companion (zero findings), its unit tests                -> pytest tests/
#   2. every notebook re-executed and compared with its committed outputs (nbval, strict) -> pytest --nbval
#   3. the student install (a clean venv: torch + companion[book] only, scripts/student-path.sh): every notebook
#      again under nbval strict, now in the student's kernel and under another CPU's arithmetic (PyTorch's portable
#      kernels, MKL's compatible code path, one thread: what a student's laptop computes), so the printed text must
#      not change and no runtime dependency may be missing from the extra; then the CLI and the benchmarks' imports
#   4. the book built with warnings as errors                                           -> scripts/build-book.sh
#   5. the built book: numbering, API links, downloads, offline assets; then headless Chromium (tests/browser)
#   6. the English and 中文 editions, their PDFs and exercise sheets (scripts/build-editions.sh), checked
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
start=$(date +%s)
step() { echo; echo "=== $1  (+$(( $(date +%s) - start )) s)"; }

step "0/6 system packages (scripts/system-deps.txt: browser, driver, CJK fonts, poppler), each command checked"
bash scripts/system-deps.sh all
source "$ROOT/scripts/env.sh"

step "1/6 companion: ruff (lint, import order) and mypy, then its unit tests"
(cd companion && ruff check scoresde && mypy scoresde)
# tests/book and tests/editions run once each, with what they check built (steps 5 and 6), not here as well
# two workers, one thread each: torch's two threads per worker on two cores took 2x longer (test_solver_orders, losses,
# sde, solvers: 34 s serial, 76 s -n 2, 33 s -n 2 with one thread; the whole step 83 s)
OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python -m pytest tests -q -p no:cacheprovider -n 2 \
  --ignore=tests/browser --ignore=tests/book --ignore=tests/editions

shopt -s nullglob
nbs=(notebooks/*.ipynb)
# two workers (pytest-xdist), each notebook whole on one of them (--dist loadfile: its cells in order, one kernel)
nbval() { python -m pytest --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
            -q -p no:cacheprovider -n 2 --dist loadfile "${nbs[@]}"; }
step "2/6 notebooks, nbval strict"
nbval
step "3/6 the student install (torch + companion[book], clean venv): nbval strict in its kernel under other CPU kernels (ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE, 1 thread), the CLI, the benchmarks' imports"
ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
  bash scripts/student-path.sh --nbval "$(command -v python)"

step "4/6 book build (-W)"
bash scripts/build-book.sh

step "5/6 the built book: its checks (numbering, API links, downloads, markup, offline) and headless Chromium"
# the book checks (sources: bilingual prose, terms, punctuation, equations; and the built pages: offline assets,
# rendered markup, numbering, API links, downloads), then the browser tests
bash scripts/node-deps.sh   # axe-core for tests/browser/test_axe.py (npm ci of package-lock.json)
# two workers, each its own Chromium; tests handed out one by one (--dist load): axe's file alone is half the time
SCORESDE_BOOK_BUILT=1 python -m pytest tests/book tests/browser -q -p no:cacheprovider -n 2 --dist load

step "6/6 editions: en / zh-TW sites, PDFs, exercise sheets (-W) and their checks"
bash scripts/build-editions.sh
SCORESDE_EDITIONS_BUILT=1 python -m pytest tests/editions -q -p no:cacheprovider -n 2 --dist load

step "all tests passed in $(( $(date +%s) - start )) s"
