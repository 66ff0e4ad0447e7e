# CSOS Desktop — developer entry points.
# `make demo` and `make test` install what they need (Debian/Ubuntu, as root or with sudo).

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
# Qt's runtime: EGL/GL, fonts, and the xcb libraries its X11 plugin loads.
# The second PKCS#11 implementation the token tests run on (tests/token_backends.py):
# tpm2-pkcs11 on a software TPM, through the TPM2 access broker on a private D-Bus.
APT_PKGS := softhsm2 opensc openssl python3-venv python3-pip \
            libtpm2-pkcs11-1 swtpm tpm2-abrmd tpm2-tools libtss2-tcti-swtpm0 libtss2-tcti-tabrmd0 \
            dbus-daemon \
            libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 \
            fonts-dejavu-core libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 \
            libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 \
            libxcb-xinerama0 libxcb-randr0
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install system-deps test demo lint typecheck bench bench-report clean test-off-hours clock-deps \
        install-package bundle deb package-test bench-bundle msi msi-deps msi-from-bundle

system-deps:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,sandbox]'
	@touch $(STAMP)

install: $(STAMP)

# PostgreSQL's server binaries too, so the distributor's PostgreSQL tests run instead of skipping.
test: install system-deps postgres-deps
	$(PY) -m pytest -q

demo: install
	CSOS_HOME=$(CURDIR)/demo-home $(VENV)/bin/csos demo

lint: install
	$(VENV)/bin/ruff check csos_desktop tests benchmarks
	$(VENV)/bin/ruff format --check csos_desktop tests benchmarks
	$(VENV)/bin/mypy

# The whole suite again with the clock at the last Saturday, 02:00 in Chicago (libfaketime for
# every process the tests start), so a test that reads the wall clock fails here, not for a user
# who runs `make test` at the weekend. libfaketime's monotonic clock stays faked: with
# FAKETIME_DONT_FAKE_MONOTONIC=1 its sleep() fails with EINVAL and Qt aborts. With it faked, a
# timed wait on a Python lock or event (sem_clockwait, not intercepted) never times out, so
# tests that pace themselves sleep in steps instead (tests/integration/soak/harness.py).
OFF_HOURS_TZ := America/Chicago
test-off-hours: install postgres-deps clock-deps
	TZ=$(OFF_HOURS_TZ) faketime "$$(TZ=$(OFF_HOURS_TZ) date -d 'last saturday 02:00' '+%Y-%m-%d %H:%M:%S')" \
	  $(PY) -m pytest -q -p no:cacheprovider --deselect tests/integration/readme

clock-deps:
	@command -v faketime >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends faketime; }

# Every benchmark at full size, one after the other (both cores for a while): each writes
# benchmarks/results/<name>.json with its command, date and machine. `make test` runs them
# all with --quick (tests/integration/test_benchmarks.py).
bench: install
	$(PY) benchmarks/run.py

# The README's "Performance" section, regenerated from benchmarks/results/*.json.
bench-report: install
	$(PY) benchmarks/report.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# --- Packaging: never part of `make test`. ---------------------------------
PKG_STAMP := $(VENV)/.installed-package
VERSION    = $(shell $(PY) -c "import csos_desktop; print(csos_desktop.__version__)")
BUNDLE    := dist/csos-desktop

$(PKG_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[dev,package]'
	@touch $(PKG_STAMP)

install-package: $(PKG_STAMP)

# One-folder PyInstaller bundle with `csos` and `csos-gui`: dist/csos-desktop/.
bundle: $(PKG_STAMP)
	$(VENV)/bin/pyinstaller --noconfirm --log-level WARN --distpath dist \
	  --workpath build/pyinstaller installers/pyinstaller/csos.spec
	@du -sh $(BUNDLE)

# Debian package of the bundle: dist/csos-desktop_<version>-1_<arch>.deb.
deb: bundle
	installers/debian/build-deb.sh $(BUNDLE) $(VERSION)-1 dist

# Build, dpkg -i, smoke-test, upgrade (with a store migration), remove, purge. Needs root.
# Then the Windows MSI from the same bundle layout, its tables checked with msiinfo.
package-test: bundle msi-deps
	$(SUDO) installers/debian/package-test.sh $(BUNDLE) $(VERSION) $(CURDIR)/$(PY)
	@$(MAKE) --no-print-directory msi-from-bundle

# wixl builds MSIs from WiX 3 sources; msitools has msiinfo and msibuild.
MSI_PKGS := msitools wixl
msi-deps:
	@$(MAKE) --no-print-directory system-deps APT_PKGS="$(MSI_PKGS)"

# Windows installer: dist/csos-desktop-<version>-x64.msi from installers/windows/csos-desktop.wxs
# over the bundle layout (the Linux bundle under Windows names: it checks the source and the
# tables; the installable MSI is built on Windows, installers/ci/windows.yml).
msi: bundle msi-deps
	@$(MAKE) --no-print-directory msi-from-bundle

# The MSI from the bundle already in dist/ (package-test builds the bundle once).
msi-from-bundle:
	installers/windows/build-msi.sh $(BUNDLE) $(VERSION) dist
	$(PY) installers/windows/check_msi.py dist/csos-desktop-$(VERSION)-x64.msi $(BUNDLE)

# Bundle size, package size, cold start from the bundle vs from source (JSON).
bench-bundle: bundle
	$(PY) benchmarks/run.py bundle

# -- distributor API ------------------------------------------------------------
.PHONY: postgres-deps fuzz-api bench-sync

# Debian's PostgreSQL 15 server for the distributor's PostgreSQL tests (they skip without it).
postgres-deps:
	@if [ ! -x /usr/lib/postgresql/15/bin/initdb ]; then \
	  echo "Installing PostgreSQL 15 (server binaries for the distributor tests)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends \
	    postgresql-15; \
	fi

# A long schemathesis run of the sandbox distributor against the committed OpenAPI spec.
fuzz-api: install
	CSOS_FUZZ_EXAMPLES=$${CSOS_FUZZ_EXAMPLES:-300} CSOS_FUZZ_NEGATIVE=1 \
	  $(PY) -m pytest -q -p no:cacheprovider tests/integration/distributor/test_api_fuzz.py

bench-sync: install
	$(PY) benchmarks/run.py sync

# Long Hypothesis runs of the verifiers and importers on mutated inputs
# (certificates inside CMS, canonical documents, CSV rows); JSON report, exit 1 on a crash.
.PHONY: fuzz
fuzz: install
	$(PY) -m tests.fuzz.run $${CSOS_FUZZ_SECONDS:-600}

# One store, many processes: the GUI offscreen, two `csos` loops, the sandbox distributor
# shipping, random kill -9; prints its counts as JSON. `make test` runs it for 60 s.
.PHONY: soak
soak: install
	CSOS_SOAK_SECONDS=$${CSOS_SOAK_SECONDS:-600} \
	  $(PY) -m pytest -q -s -p no:cacheprovider tests/integration/soak/test_soak.py
