#!/usr/bin/env bash
# Put MathJax 3 inside the built book so that math renders without internet (a classroom may have none).
# Called by build-book.sh before `jupyter-book build`. Fetches MathJax 3.2.2 from PyPI (the wheel
# django-static-mathjax ships MathJax's own es5 bundle), checks its SHA-256, and unpacks the es5 folder to
#   _build/mathjax/_static/mathjax/es5/        (an html_extra_path in _config.yml: copied to _build/html/)
# so the book loads _static/mathjax/es5/tex-mml-chtml.js (mathjax_path in _config.yml) instead of a CDN.
# Idempotent: does nothing when that version is already unpacked.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="django-static-mathjax"
VERSION="3.2.2.1"                     # MathJax 3.2.2
WHEEL="django_static_mathjax-${VERSION}-py3-none-any.whl"
SHA256="05ad109fd9e5d9d380c76389689b7f523e9ccb7f7a85c1eb962c7564eac7601d"
DEST="$ROOT/_build/mathjax"
STAMP="$ROOT/_build/.mathjax-version"   # beside, not inside, the folder copied into the book
ENTRY="$DEST/_static/mathjax/es5/tex-mml-chtml.js"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ] && [ -f "$ENTRY" ]; then
  exit 0
fi
PY="${PYTHON:-python3}"
if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; fi
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP" "${NEW:-}"' EXIT
echo "[mathjax] fetching $PKG==$VERSION (MathJax 3.2.2) from PyPI for offline math"
if ! "$PY" -m pip download -q --no-deps --only-binary=:all: --dest "$TMP" "$PKG==$VERSION"; then
  echo "[mathjax] could not download $PKG==$VERSION from PyPI; the book needs it to show math offline" >&2
  exit 1
fi
if ! echo "$SHA256  $TMP/$WHEEL" | sha256sum --check --quiet; then
  echo "[mathjax] $WHEEL does not have the expected SHA-256; refusing to use it" >&2
  exit 1
fi
# unpack beside the destination, then swap it in: a build running at the same time never sees half a copy
NEW="$DEST.new.$$"
rm -rf "$NEW"
mkdir -p "$NEW/_static/mathjax"
"$PY" - "$TMP/$WHEEL" "$NEW/_static/mathjax" <<'PYEOF'
import sys, zipfile
from pathlib import Path
wheel, dest = sys.argv[1], Path(sys.argv[2])
prefix = "mathjax/static/mathjax/"
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if info.is_dir() or not name.startswith(prefix + "es5/"):
            continue
        rel = name[len(prefix):]
        if ".." in Path(rel).parts:
            raise SystemExit(f"refusing path {name!r}")
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(z.read(info))
        n += 1
    for extra in ("LICENSE",):
        (dest / extra).write_bytes(z.read(prefix + extra))
print(f"[mathjax] unpacked {n} files of MathJax's es5 bundle")
PYEOF
test -f "$NEW/_static/mathjax/es5/tex-mml-chtml.js"
rm -rf "$DEST"
mv "$NEW" "$DEST"
test -f "$ENTRY"
echo "$VERSION" > "$STAMP"
