#!/usr/bin/env bash
# Check the system packages of scripts/system-deps.txt, command by command and font by font, and install the
# missing ones in one `apt-get install` when run as root on Debian; otherwise stop with one line that names what is
# missing and the exact command to run.
#   bash scripts/system-deps.sh [GROUP ...]     GROUP: all (default; scripts/test.sh) or editions
#   bash scripts/system-deps.sh --check [GROUP]  report only, exit 1 when something is missing
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIST="${SCORESDE_SYSTEM_DEPS:-$ROOT/scripts/system-deps.txt}"   # the variable: for the tests
check_only=0
if [ "${1:-}" = "--check" ]; then check_only=1; shift; fi
groups=("${@:-all}")

trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; echo "${s%"${s##*[![:space:]]}"}"; }

have() {  # have ITEM: a command on PATH, or font:<family> known to fontconfig
  case "$1" in
    font:*) command -v fc-list >/dev/null 2>&1 && fc-list : family | tr ',' '\n' | grep -qxF "${1#font:}" ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

known=" $(grep -v '^ *#' "$LIST" | cut -d'|' -f3 | tr '\n' ' ') "
for g in "${groups[@]}"; do
  case "$known" in *" $g "*) ;; *) echo "[system-deps] unknown group '$g' (known:$(echo "$known" | tr ' ' '\n' | sort -u | tr '\n' ' '))" >&2; exit 2 ;; esac
done

wanted_pkgs=() missing_pkgs=() missing_items=()
while IFS='|' read -r pkg provides needed _why; do
  pkg="$(trim "$pkg")"
  case "$pkg" in ''|'#'*) continue ;; esac
  wanted=0
  for g in "${groups[@]}"; do
    case " $(trim "$needed") " in *" $g "*) wanted=1 ;; esac
  done
  [ "$wanted" = 1 ] || continue
  wanted_pkgs+=("$pkg")
  pkg_missing=0
  IFS=',' read -ra items <<< "$provides"
  for item in "${items[@]}"; do
    item="$(trim "$item")"
    if ! have "$item"; then missing_items+=("$item"); pkg_missing=1; fi
  done
  if [ "$pkg_missing" = 1 ]; then missing_pkgs+=("$pkg"); fi
done < "$LIST"

if [ "${#missing_pkgs[@]}" = 0 ]; then
  echo "[system-deps] all present (${groups[*]}): ${wanted_pkgs[*]}"
  exit 0
fi
line="apt-get install -y ${missing_pkgs[*]}"
items="$(printf '%s, ' "${missing_items[@]}")"
if [ "$check_only" = 1 ] || [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "[system-deps] missing: ${items%, } -- install them with: sudo $line (see scripts/system-deps.txt)" >&2
  exit 1
fi
echo "[system-deps] missing: ${items%, }; installing: ${missing_pkgs[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_pkgs[@]}" >/dev/null
still=()
for item in "${missing_items[@]}"; do have "$item" || still+=("$item"); done
if [ "${#still[@]}" != 0 ]; then
  echo "[system-deps] still missing after apt-get: ${still[*]} (see scripts/system-deps.txt)" >&2
  exit 1
fi
echo "[system-deps] installed ${missing_pkgs[*]}"
