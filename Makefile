# Test and release targets for utvardering. Run from the repository root in an environment with
# the test and docs extras (pip install -e ".[test,docs]"). PYTHONPATH=src makes every target
# use this tree's source even when another checkout is installed in the environment.
#
#   make test           the default suite (README's test command; slow tests excluded)
#   make slow-fast      the slow tests with small draws, as CI runs them (UTV_TEST_FAST=1)
#   make docs           the Sphinx build with warnings as errors, into docs/_build/html
#   make release-check  ruff, the default suite, the slow tests at FULL draws and the docs build
#
# CI (.ci/run) does not call this file; it runs the same commands as `test` and `slow-fast`.
# The full-draw slow suite is too long for CI's 90-minute budget on 2 cores: run
# `make release-check` before a release (see README.md, "Tests").

PYTHON ?= python
JOBS ?= 2
export PYTHONPATH := src$(if $(PYTHONPATH),:$(PYTHONPATH))
export MPLBACKEND ?= Agg

.PHONY: test slow-fast slow-full docs lint release-check
# release-check's steps run one after the other even under make -j
.NOTPARALLEL:

test:
	$(PYTHON) -m pytest -n $(JOBS)

slow-fast:
	UTV_TEST_FAST=1 $(PYTHON) -m pytest -m slow -n $(JOBS) -q

# the slow suite at the draws the tests' docstrings justify; UTV_TEST_FAST is removed from the
# environment so that an exported UTV_TEST_FAST=1 cannot turn a release check into a CI run
slow-full:
	env -u UTV_TEST_FAST $(PYTHON) -m pytest -m slow -n $(JOBS) -q --durations=25

docs:
	sphinx-build -W --keep-going -q -b html docs docs/_build/html

lint:
	ruff check .

# the docs are built into a temporary folder, with the analyses' reports regenerated (as .ci/run
# does) so that no stale docs/_generated from an older checkout reaches the check
release-check: lint test slow-full
	rm -rf docs/_generated
	@out=$$(mktemp -d) && trap 'rm -rf "$$out"' EXIT && \
	echo "sphinx-build -W --keep-going -q -b html docs $$out" && \
	sphinx-build -W --keep-going -q -b html docs "$$out"
	@echo "release-check passed: ruff, default suite, slow suite at full draws, docs"
