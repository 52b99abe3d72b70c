# Common tasks; meson does the building.  `make test` and `make demo`
# install what is missing first (Debian packages only).
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_TIME  ?= 60
PREFIX     ?= /usr/local
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARCH       := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
HS_PKG     := $(if $(filter amd64,$(ARCH)),libhyperscan-dev,libvectorscan-dev)
DEPS       := gcc make pkg-config meson ninja-build python3 libpcap-dev $(HS_PKG) \
              libyaml-dev libzmq3-dev libsqlite3-dev libmaxminddb-dev nettle-dev \
              libevtx-dev libbfio-dev libgnutls28-dev libauparse-dev \
              libarchive-dev libcurl4-gnutls-dev libzstd-dev libdeflate-dev
# What the tests themselves run: tshark (the agreement test), systemd-analyze
# (the units test), sqlite3 (schema checks), python3-zmq (the hostile
# province and sensor tests), chromium (the leadership report rendered
# headless), node and npm (the Beats test's third-party client,
# lumberjack-client from npm; Debian's npm only when no npm is on the PATH,
# since NodeSource's nodejs brings its own), zstd (zstdcat reads the
# archive's segments as any user would), python3-aiosmtpd (a real SMTP
# server for the notification tests), openssl (the Beats TLS and SMTP
# STARTTLS tests make their certificates).  Installed by `make test`, so a
# fresh machine runs every test instead of skipping some.
TEST_DEPS  := tshark systemd sqlite3 python3-zmq chromium rsyslog python3-evtx nodejs \
              python3-aiosmtpd zstd openssl \
              $(if $(shell command -v npm 2>/dev/null),,npm)
EXTRA_DEPS := clang libclang-rt-14-dev tcpdump tshark valgrind systemd time sec

.PHONY: all deps deps-test deps-extra build test test-unit test-asan demo bench fuzz install clean

all: build

deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	    | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing: $$missing"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

deps-test: deps
	@missing=$$(for p in $(TEST_DEPS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	    | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "installing for the tests: $$missing"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

deps-extra: deps
	@missing=$$(for p in $(EXTRA_DEPS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
	    | grep -q "ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) -Dwerror=true

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(ASAN_BUILD)/build.ninja:
	meson setup $(ASAN_BUILD) -Dwerror=true -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dbench=false

# Every test twice: a normal -Werror build, then under ASan/UBSan.  Under CI
# (CI=true) a skipped test fails the run: CI has the shared data and every
# tool installed, so a skip there means a test silently stopped testing.
test: deps-test
	@rm -f $(BUILD)/meson-logs/testlog.json $(ASAN_BUILD)/meson-logs/testlog.json; \
	$(MAKE) --no-print-directory test-unit test-asan; rc=$$?; \
	python3 tests/summary.py $(BUILD) $(ASAN_BUILD) || rc=1; exit $$rc

test-unit: build
	meson test -C $(BUILD) --print-errorlogs

test-asan: $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)
	meson test -C $(ASAN_BUILD) --print-errorlogs --timeout-multiplier 3

demo: deps build
	@sh tests/demo.sh $(BUILD)

bench: deps-extra build
	@sh bench/run.sh $(BUILD)

# libFuzzer, longer runs: FUZZ_TIME seconds per target.
fuzz: deps-extra
	[ -f $(FUZZ_BUILD)/build.ninja ] || CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true \
	    -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false
	# coverage of the parsers, not only of the fuzz-*.c harnesses
	meson configure $(FUZZ_BUILD) -Dfuzz=true -Dc_args=-fsanitize=fuzzer-no-link
	ninja -C $(FUZZ_BUILD)
	@for t in $(FUZZ_BUILD)/tests/fuzz-*; do case $$t in *smoke*|*.p) continue;; esac; \
	    [ -f $$t ] && [ -x $$t ] || continue; \
	    n=$${t##*/fuzz-}; mkdir -p $(FUZZ_BUILD)/corpus-$$n; \
	    echo "== $$n ($(FUZZ_TIME)s)"; \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 $$t -timeout=5 \
	        -max_total_time=$(FUZZ_TIME) $(FUZZ_BUILD)/corpus-$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# The units are generated for PREFIX (systemd/*.service.in), so they name
# the binaries installed here; configs go to /etc/soc, never over an
# existing file.  On the live system (no DESTDIR) the user soc and
# /var/lib/soc are made at once, as a package's postinst would.
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	meson install -C $(BUILD)
	@if [ -z "$(DESTDIR)" ] && command -v systemd-sysusers >/dev/null 2>&1; then \
	    systemd-sysusers $(PREFIX)/lib/sysusers.d/soc.conf && \
	    systemd-tmpfiles --create $(PREFIX)/lib/tmpfiles.d/soc.conf && \
	    { systemctl daemon-reload 2>/dev/null || true; }; \
	fi

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
