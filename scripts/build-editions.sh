#!/usr/bin/env bash
# Every edition and its print (issue 17), warnings as errors:
#   _build/html/                              bilingual site (README command 1, with the language switch)
#   _build/editions/en/_build/html/           English site       (SCORESDE_EDITION=en, _ext/editions.py)
#   _build/editions/zh-TW/_build/html/        繁體中文 site       (SCORESDE_EDITION=zh-TW)
#   _build/pdf/scoresde-en.pdf, scoresde-zh-TW.pdf   whole book, Chromium printing the single-page build
#   _build/pdf/sheets/<edition>/NN-exercises.pdf     one exercise sheet per chapter, no solutions
#   _build/pdf/sheets/<edition>/solutions.pdf        the teacher's file: every solution
#   _build/pdf/previews/ch03-<edition>.png           chapter 3's first page of each PDF (pdftoppm)
#   _build/html/{en,zh-TW}/, _build/html/pdf/        the deployed layout: editions and PDFs inside the bilingual site
# Needs the 'editions' packages of scripts/system-deps.txt (checked first; installed when run as root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/env.sh"
cd "$ROOT"
bash scripts/system-deps.sh editions   # chromium, CJK fonts, poppler: checked one by one, installed when root
if [ -x scripts/fetch-mathjax.sh ]; then bash scripts/fetch-mathjax.sh; fi
bash scripts/make-downloads.sh
t() { local s=$(date +%s); "$@"; echo "[editions] $(( $(date +%s) - s )) s: ${*: -1}" >&2; }

t jupyter-book build . --warningiserror --keep-going --quiet --path-output . >/dev/null
# Chromium prints one edition (one core) while Sphinx builds the next (the other core): the two never share a file
# (each edition prints from its own single-page build into its own PDF, sheets and preview names)
printing=()
trap 'kill "${printing[@]}" 2>/dev/null || true' EXIT   # a failed build stops the print still running
for ed in en zh-TW; do
  out="_build/editions/$ed"
  t env SCORESDE_EDITION=$ed jupyter-book build . --warningiserror --keep-going --quiet --all --path-output "$out" >/dev/null
  t env SCORESDE_EDITION=$ed jupyter-book build . --warningiserror --keep-going --quiet --all --builder singlehtml \
    --path-output "$out" >/dev/null
  t python scripts/print_edition.py --edition "$ed" --single "$out/_build/singlehtml/index.html" --out _build/pdf &
  printing+=($!)
  # the deployed layout (issue 29): each edition in a folder of the bilingual site, which its links expect
  rm -rf "_build/html/$ed" && cp -r "$out/_build/html" "_build/html/$ed"
done
for pid in "${printing[@]}"; do wait "$pid"; done   # set -e: a failed print fails the build
# the PDFs and exercise sheets beside the site (book/teaching.md links them as ../pdf/…)
rm -rf _build/html/pdf && cp -r _build/pdf _build/html/pdf
echo
echo "Editions built:"
echo "  bilingual site : file://$ROOT/_build/html/index.html"
for ed in en zh-TW; do
  echo "  $ed site$( [ $ed = en ] && echo '     ' || echo '  ') : file://$ROOT/_build/editions/$ed/_build/html/index.html"
  echo "  $ed PDF$( [ $ed = en ] && echo '      ' || echo '   ') : $ROOT/_build/pdf/scoresde-$ed.pdf"
  echo "  $ed sheets$( [ $ed = en ] && echo '   ' || echo '') : $ROOT/_build/pdf/sheets/$ed/ (NN-exercises.pdf, solutions.pdf)"
done
