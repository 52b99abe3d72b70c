#!/bin/sh
# bench/sensor: packets/s of `soc-sensor -r FILE -o null` on a generated
# mixed capture of 395000 packets, about 200 MB in about 22000 flows
# (interleaved DNS, HTTP, TLS handshakes and records, SSH banners and key
# exchange, ICMP echo, bulk TCP; a quarter IPv6, a tenth VLAN-tagged),
# beside `tcpdump -r FILE -w /dev/null` (the cost of reading the file) in
# the same run, and the ratio of the two (issue 7: at least 0.5); then
# `tshark -r FILE -T fields` extracting the same metadata, and the peak
# RSS of the sensor on a capture of 1 million concurrent flows with
# flows.max 1100000.  Best of 5 runs for the sensor and tcpdump,
# alternating, one for tshark (slow); the file is read once first so all
# see a warm cache.
set -e
BUILD=${1:-build}
PKTS=${BENCH_PACKETS:-395000}
FLOWS=${BENCH_FLOWS:-1000000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/soc-bench-sensor.XXXXXX)
trap 'rm -rf "$T"' EXIT

GEN="$BUILD/bench/gen-traffic"
if [ ! -x "$GEN" ]; then		# not built by meson: build it here
	GEN="$T/gen-traffic"
	${CC:-cc} -O2 -o "$GEN" "$SRC/bench/gen-traffic.c" -lpcap
fi
"$GEN" --mix "$T/mix.pcap" --packets "$PKTS" 2> /dev/null
"$GEN" --flows "$T/flows.pcap" --packets "$FLOWS" 2> /dev/null
cat "$T/mix.pcap" "$T/flows.pcap" > /dev/null

once() {
	s=$(date +%s%N); "$@" > /dev/null 2>&1; e=$(date +%s%N)
	echo $((e - s))
}
soc_ns=0
tcpdump_ns=0
for i in 1 2 3 4 5; do	# best of 5, alternating: both see the same load
	d=$(once "$BUILD/sensor/soc-sensor" -r "$T/mix.pcap" -o null)
	if [ $soc_ns -eq 0 ] || [ $d -lt $soc_ns ]; then soc_ns=$d; fi
	d=$(once tcpdump -r "$T/mix.pcap" -w /dev/null)
	if [ $tcpdump_ns -eq 0 ] || [ $d -lt $tcpdump_ns ]; then tcpdump_ns=$d; fi
done
"$BUILD/sensor/soc-sensor" -r "$T/mix.pcap" -o null 2> "$T/mix.txt" > /dev/null
mix_flows=$(sed -n 's/.*counters:.*flows_created \([0-9]*\).*/\1/p' "$T/mix.txt")
tshark_ns=$(once tshark -r "$T/mix.pcap" -T fields -e frame.number \
    -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e dns.qry.name \
    -e http.host -e http.request.uri -e http.response.code \
    -e tls.handshake.extensions_server_name)
bytes=$(stat -c %s "$T/mix.pcap")

printf 'flows:\n  max: 1100000\n' > "$T/flows.yml"
/usr/bin/time -v "$BUILD/sensor/soc-sensor" -c "$T/flows.yml" \
    -r "$T/flows.pcap" -o null > /dev/null 2> "$T/time.txt"
rss_kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' \
    "$T/time.txt")
# counters line: zero counters are left out, so no match means 0
evicted=$(sed -n 's/.*counters:.*flows_evicted \([0-9]*\).*/\1/p' "$T/time.txt")
emitted=$(sed -n 's/.*counters:.*flows_emitted \([0-9]*\).*/\1/p' "$T/time.txt")
evicted=${evicted:-0}

awk -v n="$PKTS" -v mf="${mix_flows:-0}" -v s="$soc_ns" -v t="$tcpdump_ns" -v w="$tshark_ns" \
    -v b="$bytes" -v f="$FLOWS" -v r="$rss_kb" -v ev="$evicted" -v em="$emitted" 'BEGIN {
	printf "bench/sensor: %d packets, %.1f MB, %d flows (DNS, HTTP, TLS, SSH, ICMP, bulk TCP; IPv6, VLAN)\n", n, b / 1e6, mf
	printf "  %-44s %12.0f packets/s  %8.1f ms\n", "tcpdump -r -w /dev/null (reading the file)", n / (t / 1e9), t / 1e6
	printf "  %-44s %12.0f packets/s  %8.1f ms\n", "soc-sensor -r -o null", n / (s / 1e9), s / 1e6
	printf "  %-44s %12.0f packets/s  %8.1f ms\n", "tshark -r -T fields (same metadata)", n / (w / 1e9), w / 1e6
	printf "  ratio soc-sensor / tcpdump: %.3f   target: >= 0.50\n", t / s
	printf "  ratio soc-sensor / tshark:  %.1f   target: >= 10\n", w / s
	printf "  peak RSS with %d concurrent flows (flows.max 1100000): %.1f MiB, %s flows emitted, %s evicted   target: < 512 MiB\n", f, r / 1024, em, ev
}'
