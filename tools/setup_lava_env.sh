#!/usr/bin/env bash
# Make a Python 3.10 virtual environment with Lava (lava-nc 0.10) for the Lava adapter and its tests.
#
#   tools/setup_lava_env.sh [VENV]      (default VENV: .venv310)
#
# Lava 0.10 runs only on Python 3.10 with numpy 1.x, so it lives in its own environment; the core
# package never imports it.  The interpreter is taken from, in order: $PYTHON310, `python3.10` on
# PATH, pyenv's 3.10 (PYENV_VERSION=<3.10.x> python3.10).  Without one, or if the install fails,
# this prints why and exits 0: the Lava tests are then skipped with a visible reason, and
# everything else works.  Point memr_snn at the result with MEMR_SNN_PYTHON310=VENV/bin/python.
set -uo pipefail
VENV="${1:-.venv310}"
LAVA_SPEC="lava-nc==0.10.0"

works() { "$@" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; }

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import lava' >/dev/null 2>&1; then
    exit 0
fi

candidate=()
if [ -n "${PYTHON310:-}" ] && works "$PYTHON310"; then
    candidate=("$PYTHON310")
elif works python3.10; then
    candidate=(python3.10)
elif command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10(\.[0-9]+)?$' | sort -rV); do
        if PYENV_VERSION="$v" works python3.10; then
            candidate=(env PYENV_VERSION="$v" python3.10)
            break
        fi
    done
fi

if [ ${#candidate[@]} -eq 0 ]; then
    echo "setup_lava_env: no Python 3.10 found (set PYTHON310=/path/to/python3.10); Lava tests will be skipped" >&2
    exit 0
fi

rm -rf "$VENV"
if ! "${candidate[@]}" -m venv "$VENV"; then
    echo "setup_lava_env: could not create $VENV with ${candidate[*]}; Lava tests will be skipped" >&2
    exit 0
fi
if ! "$VENV/bin/python" -m pip install --quiet --upgrade pip \
        || ! "$VENV/bin/python" -m pip install --quiet "$LAVA_SPEC"; then
    echo "setup_lava_env: installing $LAVA_SPEC into $VENV failed; Lava tests will be skipped" >&2
    rm -rf "$VENV"
    exit 0
fi
echo "setup_lava_env: $("$VENV/bin/python" -c 'import lava, sys; print("Python", sys.version.split()[0], "with lava at", lava.__path__[0])')"
