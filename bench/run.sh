#!/bin/sh
# make bench: every benchmark in turn.  Each prints its figures and the
# ratio against a peer or a physical limit measured in the same run.  A
# benchmark that misses its target (or fails) does not stop the others:
# they are named at the end and the exit status is 1.  77 is a skip
# (third-party data or a peer tool absent).
BUILD=$(cd "${1:-build}" && pwd)
DIR=$(cd "$(dirname "$0")" && pwd)
missed=""
run() {
	"$@"
	rc=$?
	[ $rc -eq 0 ] || [ $rc -eq 77 ] || missed="$missed
  $*"
}
for b in "$DIR"/logs.sh "$DIR"/sensor.sh "$DIR"/engine.sh "$DIR"/e2e.sh; do
	[ -f "$b" ] && run sh "$b" "$BUILD"
done
run python3 "$DIR/forward.py" --build "$BUILD"
run python3 "$DIR/reload.py" "$BUILD"
run python3 "$DIR/beats.py" --build "$BUILD"
run python3 "$DIR/beats.py" --build "$BUILD" --events 300000 --conns 8 --idle 5000
run python3 "$DIR/beats-e2e.py" --build "$BUILD"
command -v valgrind >/dev/null && run python3 "$DIR/beats-instr.py" --build "$BUILD" --sshd
run "$BUILD/bench/intel"
run "$BUILD/bench/auditd"
run "$BUILD/bench/archive"
run python3 "$DIR/archive.py" "$BUILD"
run python3 "$DIR/windows.py" --build "$BUILD"
run python3 "$DIR/endpoints.py" "$BUILD"
run sh "$DIR/hunt.sh" "$BUILD"
if [ -n "$missed" ]; then
	echo "benchmarks that missed their target or failed:$missed"
	exit 1
fi
