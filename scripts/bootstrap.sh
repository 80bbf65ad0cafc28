#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the locked stack, once.
# A stamp holding the hash of requirements.lock and pyproject.toml makes a second call a no-op.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
STAMP="$VENV/.installed"
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x "$VENV/bin/python" ]; then
  exit 0
fi

is_py310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1; }

find_python() {
  local cand
  for cand in "${PYTHON310:-}" "$(command -v python3.10 || true)" "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$cand" ] && [ -x "$cand" ] && is_py310 "$cand" && { echo "$cand"; return 0; }
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! is_py310 "$VENV/bin/python"; then
  py=$(find_python) || {
    echo "error: Python 3.10 not found (looked on PATH and under ~/.pyenv/versions/3.10*)." >&2
    echo "       Install it (e.g. 'pyenv install 3.10.13') or set PYTHON310=/path/to/python3.10." >&2
    exit 1
  }
  echo "Creating $VENV with $py"
  rm -rf "$VENV"
  "$py" -m venv "$VENV"
fi

echo "Installing the locked stack into $VENV (about 3.3 GB, a few minutes the first time)"
"$VENV/bin/python" -m pip install --quiet --upgrade "pip==24.3.1" "setuptools==69.5.1" "wheel==0.43.0"
"$VENV/bin/python" -m pip install --quiet -r requirements.lock
"$VENV/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
echo "$want" > "$STAMP"
