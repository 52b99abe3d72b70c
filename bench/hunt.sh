#!/bin/sh
# `socctl hunt` with 1,000 rules over archived events (issue 20: 10,000,000
# in <= 30 s), never run by `make test`:
#
#   sh bench/hunt.sh [BUILD] [EVENTS]
#
# Generates 1,000 realistic Sigma rules (5% correlations) and 200,000
# realistic events (bench/engine-gen.py), archives EVENTS of them
# (default 2,000,000; the distinct ones over and over, two agencies) with
# bench/hunt, and times `socctl hunt` over the archive: events/s and the
# time projected for 10,000,000.
set -e
BUILD=$(cd "${1:-build}" && pwd)
EVENTS=${2:-2000000}
DIR=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$DIR")
TMP=$(mktemp -d "${TMPDIR:-/tmp}/soc-hunt-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
mkdir "$TMP/rules"
cp "$SRC/rules/mapping.yml" "$TMP/rules/"
python3 "$DIR/engine-gen.py" rules 1000 "$TMP/rules"
python3 "$DIR/engine-gen.py" events 200000 "$TMP/events.jsonl"
"$BUILD/bench/hunt" "$BUILD/correlator/socctl" "$TMP/rules" "$TMP/events.jsonl" \
    "$EVENTS" "$TMP/run"
