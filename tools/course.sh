#!/usr/bin/env bash
# One entry point for a fresh machine:
#   bash tools/course.sh test   set everything up, then run all tests (pytest tests/ + nbval chapters/)
#   bash tools/course.sh book   set everything up, then build the website (executes every notebook)
#   bash tools/course.sh setup  only set up (.venv, requirements, the package, the data if possible)
# Extra arguments after `test` go to pytest (e.g. `bash tools/course.sh test tests/test_data.py`).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 MPLBACKEND=Agg

setup() {
  if [ -z "${VIRTUAL_ENV:-}" ]; then
    [ -d .venv ] || python3 -m venv .venv
    . .venv/bin/activate
  fi
  python -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is needed"'
  if ! cmp -s requirements.txt .venv/.requirements-installed 2>/dev/null; then
    pip install -q -r requirements.txt
    pip install -q -e . --no-deps
    cp requirements.txt .venv/.requirements-installed 2>/dev/null || true
  fi
  if [ ! -e /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) \
      || echo "note: could not install dataset-fashion-mnist; the course will download Fashion-MNIST instead"
  fi
  python -m aigc_course data info || true
}

cmd=${1:-}
shift || true
case "$cmd" in
  setup) setup ;;
  test)
    setup
    python tools/check_notebooks.py
    set +e
    python -m pytest tests chapters --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
      --nbval-sanitize-with nbval_sanitize.cfg -p no:cacheprovider --durations=20 "$@"
    rc=$?
    set -e
    if [ "$rc" = 5 ]; then echo "error: pytest collected no tests"; exit 1; fi
    [ "$rc" = 0 ] || exit "$rc"
    ;;
  book)
    setup
    rm -rf _build
    jupyter-book build . --all -W --keep-going
    echo "The website is built: open $(pwd)/_build/html/index.html in a browser"
    ;;
  *) echo "usage: bash tools/course.sh {test|book|setup} [pytest args]"; exit 2 ;;
esac
