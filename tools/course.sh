#!/usr/bin/env bash
# One entry point for a fresh machine:
#   bash tools/course.sh test   set everything up, then run all tests: pytest tests/ + nbval chapters/, then
#                               build the website and check every page in Chromium (tests/browser/)
#   bash tools/course.sh book   set everything up, then build the website (executes every notebook)
#   bash tools/course.sh setup  only set up (.venv, requirements, the package, data, site JavaScript)
#   bash tools/course.sh student  write the student edition (chapters without solutions) into student/
# Extra arguments after `test` go to the first pytest run (e.g. `bash tools/course.sh test tests/test_data.py`;
# with extra arguments the website is not built and the browser tests do not run).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo -n "$@"; else return 1; fi; }
APT_UPDATED=""
apt_install() {  # apt_install PACKAGE... : best effort, only on Debian/Ubuntu with root or sudo
  command -v apt-get >/dev/null || return 1
  if [ -z "$APT_UPDATED" ]; then as_root apt-get update -qq || return 1; APT_UPDATED=1; fi
  as_root apt-get install -y -qq "$@"
}

setup() {
  if [ -z "${VIRTUAL_ENV:-}" ]; then
    [ -d .venv ] || python3 -m venv .venv
    . .venv/bin/activate
  fi
  python -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed (numpy and scipy pins)"'
  if ! cmp -s requirements.txt .venv/.requirements-installed 2>/dev/null; then
    pip install -q -r requirements.txt
    pip install -q -e . --no-deps
    cp requirements.txt .venv/.requirements-installed 2>/dev/null || true
  fi
  if [ ! -e /usr/share/datasets/fashion-mnist ]; then
    apt_install dataset-fashion-mnist \
      || echo "note: could not install dataset-fashion-mnist; the course will download Fashion-MNIST instead"
  fi
  if [ ! -e /usr/share/games/fortunes/tang300.u8 ] && [ -z "${AIGC_DATA:-}" ]; then
    apt_install fortunes-zh \
      || echo "note: could not install fortunes-zh; 1.4 needs its Tang poems (see the setup appendix)"
  fi
  # The website serves its own JavaScript (MathJax, widgets): pinned in package.json, from the npm registry.
  if ! command -v npm >/dev/null; then
    apt_install nodejs npm || { echo "error: the website needs Node.js and npm to fetch MathJax;" \
      "install them (https://nodejs.org or your package manager) and run this again" >&2; exit 1; }
  fi
  if ! cmp -s package-lock.json node_modules/.aigc-installed 2>/dev/null; then
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
    cp package-lock.json node_modules/.aigc-installed
  fi
  [ -f _vendor/VERSIONS.json ] && [ _vendor/VERSIONS.json -nt node_modules/.aigc-installed ] || python tools/vendor_js.py
  # JupyterLab opens the chapters' .py scripts as notebooks (jupytext) and does not fetch news: settings
  # for this environment only (never the user's home folder)
  local lab_settings
  lab_settings="$(python -c 'import sys; print(sys.prefix)')/share/jupyter/lab/settings"
  mkdir -p "$lab_settings" && cp tools/jupyterlab_overrides.json "$lab_settings/overrides.json"
  python -m aigc_course data info || true
}

browser_setup() {  # Chromium and a CJK font for the browser tests
  if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -ci "Noto Sans CJK" >/dev/null; then
    apt_install chromium fonts-noto-cjk || { echo "error: the browser tests need Debian's chromium and" \
      "fonts-noto-cjk (apt-get install chromium fonts-noto-cjk)" >&2; exit 1; }
  fi
}

build() {
  # Notebook outputs are cached in .jupyter_cache (keyed on each notebook's code); the cache is dropped
  # when the package, its weights or the requirements change, so pages never show stale results.
  local fingerprint
  fingerprint=$(find aigc_course -type f \( -name '*.py' -o -name '*.json' -o -name '*.safetensors' \) \
                  -not -path '*/__pycache__/*' | sort | xargs cat requirements.txt | sha256sum | cut -c1-16)
  if [ "$(cat .jupyter_cache/.aigc-fingerprint 2>/dev/null)" != "$fingerprint" ]; then
    rm -rf .jupyter_cache && mkdir -p .jupyter_cache && echo "$fingerprint" > .jupyter_cache/.aigc-fingerprint
  fi
  # a clean build (warnings of unchanged pages are not lost); the browser tests' screenshots stay
  [ -d _build ] && find _build -mindepth 1 -maxdepth 1 ! -name screenshots -exec rm -rf {} +
  jupyter-book build . --all -W --keep-going
  echo "The website is built: open $(pwd)/_build/html/index.html, or serve it with" \
       "\`python -m http.server -d _build/html 8000\` and open http://127.0.0.1:8000"
}

run_pytest() {  # pytest that fails when it collects nothing (exit 5)
  set +e
  python -m pytest -p no:cacheprovider "$@"
  local rc=$?
  set -e
  if [ "$rc" = 5 ]; then echo "error: pytest collected no tests"; exit 1; fi
  [ "$rc" = 0 ] || exit "$rc"
}

cmd=${1:-}
shift || true
case "$cmd" in
  setup) setup ;;
  test)
    setup
    python tools/check_notebooks.py
    if [ $# -gt 0 ]; then
      run_pytest --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
        --nbval-sanitize-with nbval_sanitize.cfg --durations=20 "$@"
      exit 0
    fi
    browser_setup
    # The website build executes every notebook as well: it runs beside the tests, one core each
    # (OMP_NUM_THREADS, AIGC_THREADS: torch threads), and the browser tests check the site once both are done.
    build_log="${TMPDIR:-/tmp}/aigc-book-build.$$.log"
    ( export OMP_NUM_THREADS=1 AIGC_THREADS=1; build ) > "$build_log" 2>&1 &
    build_pid=$!
    trap 'kill "$build_pid" 2>/dev/null || true' EXIT
    echo "building the website in the background (log: $build_log)"
    # AIGC_JUNIT=FILE: also a JUnit report (benchmarks/notebook_times.py --from-junit FILE sums it per notebook)
    OMP_NUM_THREADS=1 AIGC_THREADS=1 run_pytest tests chapters --nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
      --nbval-sanitize-with nbval_sanitize.cfg --durations=20 ${AIGC_JUNIT:+"--junitxml=$AIGC_JUNIT"}
    if ! wait "$build_pid"; then
      cat "$build_log"
      # the cause, again at the end (CI logs keep only their tail): Sphinx's warnings and errors, and the
      # reports of notebooks whose execution failed
      echo "== what failed in the website build:"
      grep -a -E "WARNING|ERROR|Error|Traceback|failed" "$build_log" | grep -v "copying images" | tail -n 40 || true
      ls _build/html/reports 2>/dev/null && tail -n 30 _build/html/reports/*.err.log 2>/dev/null || true
      echo "error: the website build failed (log above: $build_log)" >&2; exit 1
    fi
    trap - EXIT
    tail -n 5 "$build_log"
    run_pytest tests/browser -v
    ;;
  book)
    setup
    build
    ;;
  student)  # the chapters without their solutions, into student/ (see tools/student_edition.py)
    setup
    python tools/student_edition.py "$@"
    ;;
  *) echo "usage: bash tools/course.sh {test|book|setup|student} [pytest args]"; exit 2 ;;
esac
