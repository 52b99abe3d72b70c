#!/bin/sh
# bench/e2e: events/s and the delay from an event's read to its
# incident's commit, one real sensor and one real correlator on loopback,
# for the shipped rules and an alert storm (see bench/e2e.py).
# BENCH_E2E_LINES overrides the 1,000,000 lines; BENCH_E2E_ARGS adds
# options (--ips N, --rate EV_S, --seconds S).
set -e
BUILD=${1:-build}
DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck disable=SC2086
exec python3 "$DIR/e2e.py" "$BUILD" --lines "${BENCH_E2E_LINES:-1000000}" \
    ${BENCH_E2E_ARGS:-}
