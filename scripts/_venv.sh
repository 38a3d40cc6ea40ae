# Shared by scripts/start and scripts/test: create .venv with Python 3.11+ and install the
# project (with the given extras) when pyproject.toml changed since the last install.
ensure_venv() {
  local extras="${1:-}"
  local python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3.12 python3.13 python3; do
      if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
  fi
  if [ -z "$python" ]; then echo "Python 3.11 or newer is needed" >&2; exit 1; fi
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  local spec="."
  [ -n "$extras" ] && spec=".[${extras}]"
  local stamp=".venv/.installed-${extras:-base}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e "$spec"
    touch "$stamp"
  fi
}
