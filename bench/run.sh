#!/bin/sh
# make bench: every benchmark in turn.  Each prints its figures and the
# ratio against a peer or a physical limit measured in the same run.
set -e
BUILD=$(cd "${1:-build}" && pwd)
DIR=$(cd "$(dirname "$0")" && pwd)
for b in "$DIR"/logs.sh "$DIR"/sensor.sh "$DIR"/engine.sh "$DIR"/e2e.sh; do
	[ -f "$b" ] && sh "$b" "$BUILD"
done
python3 "$DIR/forward.py" --build "$BUILD"
python3 "$DIR/reload.py" "$BUILD"
python3 "$DIR/beats.py" --build "$BUILD"
python3 "$DIR/beats.py" --build "$BUILD" --events 300000 --conns 8 --idle 5000
python3 "$DIR/beats-e2e.py" --build "$BUILD"
"$BUILD/bench/intel"
python3 "$DIR/windows.py" --build "$BUILD" || [ $? -eq 77 ]
