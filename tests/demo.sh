#!/bin/sh
# `make demo`: the quick start of DESIGN.md section 9, on generated data,
# in a temp dir.  Starts a correlator, enrolls a sensor, replays a sample
# capture and auth log through it, and prints incidents and coverage.
set -e
BUILD=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "$BUILD" && pwd)
T=$(mktemp -d /tmp/soc-demo.XXXXXX)
PORT=${SOC_DEMO_PORT:-7500}
PATH="$B/sensor:$B/correlator:$B/tests:$PATH"
cd "$T"
echo "== demo in $T"
gen-sample --pcap capture.pcap --log auth.log
socctl --db soc.db keygen --out correlator
socctl --db soc.db keygen --out gw1
socctl --db soc.db agency add stttt --name "Sở Thông tin và Truyền thông"
socctl --db soc.db sensor enroll gw1 --agency stttt --key gw1.pub
soc-correlator --db soc.db --rules "$SRC/rules" --key correlator.key \
    --bind tcp://127.0.0.1:$PORT 2> correlator.log &
CPID=$!
trap 'kill $CPID 2>/dev/null; wait $CPID 2>/dev/null' EXIT
sleep 1
if ! kill -0 $CPID 2>/dev/null; then
	cat correlator.log
	echo "demo: the correlator did not start (port $PORT busy? set SOC_DEMO_PORT)" >&2
	exit 1
fi
soc-sensor --connect tcp://127.0.0.1:$PORT --server-key correlator.pub --key gw1.key \
    -r capture.pcap --log-file auth.log
echo
echo "== socctl --db $T/soc.db incidents"
socctl --db soc.db incidents
echo
echo "== socctl --db $T/soc.db coverage"
socctl --db soc.db coverage
echo
echo "The database stays in $T; try: socctl --db $T/soc.db incident show 1"
