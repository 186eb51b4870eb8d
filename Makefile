# Everything a fresh clone needs: `make run` starts the sandbox, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser postgres-binaries forge-ui run test test-fast lint bench clean

install: $(VENV)/.installed browser postgres-binaries

# Debian's Chromium for the browser tests (tests/e2e); they skip, saying why, where it cannot be installed.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    ( $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	      >/dev/null ) || echo "warning: chromium not installed; the browser tests will skip" >&2; \
	  else \
	    echo "warning: no $(CHROMIUM) and no apt-get; the browser tests will skip" >&2; \
	  fi; \
	fi

# Debian's PostgreSQL binaries for the chaos suite (tests/chaos), which runs a cluster of its own; it skips, saying
# why, where they cannot be installed.
postgres-binaries:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's PostgreSQL binaries for the chaos suite"; \
	    ( $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      postgresql >/dev/null ) || echo "warning: postgresql not installed; the chaos suite will skip" >&2; \
	  else \
	    echo "warning: no PostgreSQL binaries and no apt-get; the chaos suite will skip" >&2; \
	  fi; \
	fi

# The product with its test tools, and the sandbox (its own distribution, sandbox/) beside it.
$(VENV)/.installed: pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]' -e ./sandbox
	touch $@

# The front end's npm packages, pinned by package-lock.json: esbuild and @forge/bridge for the Forge Custom UI
# bundle, @forge/manifest (with tslib, which it needs but does not declare) to validate the Forge manifest in tests.
# No install scripts run: esbuild takes its binary from its platform package.
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# The Forge app's Custom UI resources, bundled from ui-templates/static/ into connect-descriptor/forge/build/ (git-
# ignored), which `hubsync forge manifest --out DIR` copies into the app directory. The Connect pages need no build.
forge-ui: node_modules/.installed
	node connect-descriptor/forge/build-ui.mjs

run: install
	$(BIN)/hubsync demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile

# Test files run on PYTEST_WORKERS processes (a file stays on one, so its module fixtures are set up once).
PYTEST_WORKERS ?= 3

test: install lint forge-ui
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

# The fast tier, in one process, in seconds: the tests that need no database, network, subprocess or browser (the
# domain, the service use cases on the in-memory fakes of tests/fakes, pure parsers and mappings). The plugin
# tests.fakes.offline fails any of them that reaches for one. `make test` runs them too, with everything else.
FAST_TESTS := $(wildcard \
	tests/unit/domain \
	tests/unit/service/test_sync_*.py \
	tests/unit/service/test_intake.py \
	tests/unit/service/test_panel_links.py \
	tests/unit/service/test_retry_policy.py \
	tests/unit/service/test_workflow_setup.py \
	tests/unit/service/test_workflow_xml.py \
	tests/unit/service/test_project_check_reads.py \
	tests/unit/service/test_rule_preview_counts.py \
	tests/unit/service/test_jira_webhooks.py \
	tests/unit/service/test_reconcile_escalation_tag.py \
	tests/unit/adapters/test_faults.py \
	tests/unit/adapters/aws/test_ocsf.py \
	tests/unit/adapters/aws/test_ocsf_convergence.py \
	tests/unit/adapters/jira/test_jira_client_mapping.py \
	tests/unit/adapters/jira/test_jira_workflow_graph.py \
	tests/unit/adapters/jira/test_jira_documents_hostile_links.py \
	tests/unit/web/test_web_errors.py \
	tests/unit/test_config.py \
	tests/unit/test_logs.py \
	tests/unit/test_bench_summary.py \
	tests/unit/sandbox/test_seed.py \
	tests/unit/sandbox/jira/test_jira_adf.py \
	tests/unit/sandbox/jira/test_jira_jql.py \
	tests/unit/sandbox/securityhub/test_securityhub_scale.py)

test-fast: $(VENV)/.installed
	$(BIN)/pytest -p tests.fakes.offline $(FAST_TESTS)

# The benchmarks at sizes that take about 15 minutes on two cores, then one table of the performance goals: each
# figure, its goal, the ratio and met or missed (bench/summary.py; BENCH_ARGS passes its options, e.g.
# BENCH_ARGS="--steady 1000,10000"). The event storm runs on PostgreSQL when HUBSYNC_TEST_POSTGRES_URL names a server.
BENCH_ARGS ?=

bench: $(VENV)/.installed
	$(BIN)/python bench/summary.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
