#!/usr/bin/env bash
# README command 1: build the book (HTML under _build/html) with warnings as errors.
# Sets up .venv and the pinned packages on first use (scripts/env.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
cd "$ROOT"
if [ -x scripts/fetch-mathjax.sh ]; then bash scripts/fetch-mathjax.sh; fi
bash scripts/node-deps.sh       # axe-core and reveal.js, pinned in package-lock.json (npm ci)
bash scripts/make-downloads.sh   # _build/downloads/scoresde-course.zip, served at the site's root
jupyter-book build . --warningiserror --keep-going --quiet "$@"
python scripts/slides.py _build/html   # one reveal.js deck per chapter, offline (issue 29)
echo
echo "The book is built. Open: file://$ROOT/_build/html/index.html"
