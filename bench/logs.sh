#!/bin/sh
# bench/logs: lines/s for `soc-sensor --once --log-file F -o null` on a
# generated 1-million-line mix of sshd, sudo, kernel firewall and access
# log lines, beside `wc -l` on the same file (the cost of reading it).
# Best of 3 runs each; the file is read once first so both see a warm cache.
set -e
BUILD=${1:-build}
LINES=${BENCH_LINES:-1000000}
T=$(mktemp -d /tmp/soc-bench-logs.XXXXXX)
trap 'rm -rf "$T"' EXIT
"$BUILD/tests/gen-sample" --bench-log "$T/mix.log" --lines "$LINES"
cat "$T/mix.log" > /dev/null

best() {	# best wall time in ns of 3 runs of "$@"
	b=0
	for i in 1 2 3; do
		s=$(date +%s%N); "$@" > /dev/null 2>&1; e=$(date +%s%N)
		d=$((e - s)); if [ $b -eq 0 ] || [ $d -lt $b ]; then b=$d; fi
	done
	echo $b
}
wc_ns=$(best wc -l "$T/mix.log")
soc_ns=$(best "$BUILD/sensor/soc-sensor" --once --log-file "$T/mix.log" -o null)
bytes=$(stat -c %s "$T/mix.log")
awk -v n="$LINES" -v w="$wc_ns" -v s="$soc_ns" -v b="$bytes" 'BEGIN {
	printf "bench/logs: %d lines, %.1f MB\n", n, b / 1e6
	printf "  %-38s %12.0f lines/s  %8.1f ms\n", "wc -l (reading the file)", n / (w / 1e9), w / 1e6
	printf "  %-38s %12.0f lines/s  %8.1f ms\n", "soc-sensor --once -o null", n / (s / 1e9), s / 1e6
	printf "  ratio soc-sensor / wc -l: %.3f   target: >= 1000000 lines/s on one core\n", w / s
}'
