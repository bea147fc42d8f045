#!/usr/bin/env bash
# Install utvardering as a researcher would — from a wheel, in a fresh virtual environment,
# outside the clone — and run the evaluations and the dataset listing from an unrelated folder.
# Fails if anything the evaluations need (analysis scripts, their .toml, bundled data) is missing
# from the wheel, or if a run still depends on the repository being present.
#
# Usage: .ci/wheel_check.sh [PYTHON]      (default python3; pip honours PIP_INDEX_URL etc.)
# Leaves nothing in the repository; works in a temporary folder that is removed at the end
# (set KEEP_WHEEL_CHECK=1 to keep it; WHEEL_CHECK_BUILD_ONLY=1 stops after building the wheel
# and checking that every file of src/utvardering is in it).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${1:-python3}"
work="$(mktemp -d "${TMPDIR:-/tmp}/utv-wheel-check.XXXXXX")"
[ "${KEEP_WHEEL_CHECK:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
start=$(date +%s)
step() { echo; echo "=== wheel check: $* ($(( $(date +%s) - start )) s)"; }

step "build the wheel"
"$python" -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install --quiet --upgrade pip
# a copy without untracked build leftovers (build/, *.egg-info) of the clone
mkdir -p "$work/src"
git -C "$repo" ls-files -z --cached --others --exclude-standard | \
    tar -C "$repo" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$work/src" -xf -
"$work/build-venv/bin/python" -m pip wheel --no-deps --wheel-dir "$work/dist" "$work/src" \
    > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/utvardering-*.whl)
echo "$wheel"
# every file of the package in the clone (scripts, .toml, data, templates, catalogues) is in the wheel
(cd "$work/src/src" && find utvardering -type f ! -path "*/__pycache__/*" ! -name "*.pyc" | sort) \
    > "$work/package-files.txt"
"$python" - "$wheel" "$work/package-files.txt" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
wanted = [line.strip() for line in open(sys.argv[2]) if line.strip()]
missing = [f for f in wanted if f not in names]
if missing:
    sys.exit(f"{len(missing)} package file(s) missing from the wheel (add them to "
             f"[tool.setuptools.package-data]): {missing[:10]}")
print(f"all {len(wanted)} package files are in the wheel")
PY
[ "${WHEEL_CHECK_BUILD_ONLY:-0}" = 1 ] && { step "built and checked (WHEEL_CHECK_BUILD_ONLY=1)"; exit 0; }

step "install it in a fresh environment"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "$wheel"

step "run from a folder outside the repository"
mkdir -p "$work/elsewhere"
cd "$work/elsewhere"
unset PYTHONPATH UTV_ANALYSES_DIR
export MPLBACKEND=Agg
"$work/venv/bin/python" - "$repo" <<'PY'
import sys, pathlib, utvardering
where = pathlib.Path(utvardering.__file__).resolve()
repo = pathlib.Path(sys.argv[1]).resolve()
assert repo not in where.parents, f"utvardering imported from the clone: {where}"
print("utvardering", utvardering.__version__, "from", where.parent)
PY
"$work/venv/bin/utvardering" datasets list > datasets.txt
grep -q "^mpdta  \[" datasets.txt || { echo "datasets list does not show mpdta"; cat datasets.txt; exit 1; }
grep -q "file not bundled" datasets.txt && { echo "a bundled dataset is missing from the wheel:"; \
    grep -B1 "file not bundled" datasets.txt; exit 1; }
"$work/venv/bin/utvardering" run all --quick --quiet --out "$work/elsewhere/results"
for name in sluta_skjut ordningsvakter_mollevangen drogfri_skola; do
    for file in report.html report.md effects.json provenance.json run.log; do
        test -s "results/$name/$file" || { echo "$name: $file missing or empty"; exit 1; }
    done
done
"$work/venv/bin/utvardering" run drogfri_skola --quick --quiet --out "$work/elsewhere/one"
test -s one/report.html

step "done in $(( $(date +%s) - start )) s"
