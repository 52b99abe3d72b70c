#!/bin/sh
# The rule engine benchmark (issue 10), never run by `make test`:
#
#   sh bench/engine.sh [BUILD] [--json]
#
# 1. Generates 1,000 and 10,000 realistic Sigma rules and 1,000,000
#    realistic events (sshd, web access, DNS, flow) as JSONL
#    (bench/engine-gen.py), and runs bench/engine-jsonl on one core (taskset):
#    compile time, Hyperscan database size, events/s through librules,
#    and the floor -- bare hs_scan calls over the same field values with
#    the same databases -- with the share of the floor reached and the
#    slowdown from 1,000 to 10,000 rules.  EVENTS=N changes the count.
# 2. The SSH brute-force scenario through SEC (Debian package sec): a
#    SingleWithThreshold rule plus Single rules doing the same matching,
#    one output line per match (bench/engine-gen.py sec), against `socctl
#    rules test --log` with the equivalent Sigma rules (a base rule that
#    generates, and an event_count correlation), in text mode and with
#    --json; both times and the ratio, and a warning if the two wrote a
#    different number of lines (the rule sets would not be equivalent).
#    Skipped (with a line saying so) without sec.
#    SSHLINES=N changes the log size (default 200,000 lines).
#
# Targets from the issue: >= 1,000,000 events/s at 1,000 rules, >= 60% of
# the floor, <= 1.5x slower at 10,000 rules; >= 20x SEC in either mode.
set -e
BUILD=$(cd "${1:-build}" && pwd)
JSON=0
[ "$2" = "--json" ] && JSON=1
DIR=$(cd "$(dirname "$0")" && pwd)
SRC=$(dirname "$DIR")
MAP="$SRC/rules/mapping.yml"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/soc-engine-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
PIN=
command -v taskset >/dev/null 2>&1 && PIN="taskset -c 0"
GEN="python3 $DIR/engine-gen.py"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

$GEN rules 1000 "$TMP/r1k"
$GEN rules 10000 "$TMP/r10k"
$GEN events "${EVENTS:-1000000}" "$TMP/events.jsonl"
for n in 1k 10k; do
	$PIN "$BUILD/bench/engine-jsonl" --json --label "$n" --mapping "$MAP" \
	    --events "$TMP/events.jsonl" "$TMP/r$n" > "$TMP/engine-$n.json"
done
t0=$(now)
$PIN "$BUILD/correlator/socctl" rules test "$TMP/r1k" --mapping "$MAP" \
    --events "$TMP/events.jsonl" > /dev/null 2>&1
t1=$(now)
cli=$(elapsed "$t0" "$t1")

sec_s= text_s= json_s= secl= textl= jsonl=
if command -v sec >/dev/null 2>&1; then
	$GEN sshlog "${SSHLINES:-200000}" "$TMP/ssh.log"
	$GEN sec "$TMP/ssh.sec"
	$GEN sigma "$TMP/sigma"
	t0=$(now)
	$PIN sec --conf="$TMP/ssh.sec" --input="$TMP/ssh.log" --notail \
	    > "$TMP/sec.out" 2> "$TMP/sec.err"
	t1=$(now)
	$PIN "$BUILD/correlator/socctl" rules test "$TMP/sigma" --mapping "$MAP" \
	    --log "$TMP/ssh.log" > "$TMP/socctl.out" 2> /dev/null
	t2=$(now)
	$PIN "$BUILD/correlator/socctl" rules test "$TMP/sigma" --mapping "$MAP" \
	    --log "$TMP/ssh.log" --json > "$TMP/socctl.json" 2> /dev/null
	t3=$(now)
	sec_s=$(elapsed "$t0" "$t1") text_s=$(elapsed "$t1" "$t2")
	json_s=$(elapsed "$t2" "$t3")
	secl=$(grep -c . "$TMP/sec.out" || true)
	textl=$(grep -c . "$TMP/socctl.out" || true)
	jsonl=$(grep -c '"rule"' "$TMP/socctl.json" || true)
fi

python3 - "$TMP" "$JSON" "$cli" "${EVENTS:-1000000}" "$sec_s" "$text_s" "$json_s" \
    "$secl" "$textl" "$jsonl" "${SSHLINES:-200000}" <<'EOF'
import json, sys
tmp, as_json, cli, nev = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3]), int(sys.argv[4])
sec_s, text_s, json_s, secl, textl, jsonl, sshl = sys.argv[5:12]
r = {n: json.load(open(f"{tmp}/engine-{n}.json")) for n in ("1k", "10k")}
out = {"engine": r, "slowdown_10k_vs_1k": r["1k"]["events_per_s"] / r["10k"]["events_per_s"],
       "socctl_rules_test_events_s": cli, "socctl_rules_test_events_per_s": nev / cli}
if sec_s:
    s, t, j = float(sec_s), float(text_s), float(json_s)
    out["sec"] = {"log_lines": int(sshl), "sec_s": s, "sec_lines": int(secl),
                  "socctl_text_s": t, "socctl_text_lines": int(textl),
                  "socctl_json_s": j, "socctl_json_alerts": int(jsonl),
                  "ratio_text": s / t, "ratio_json": s / j}
if as_json:
    print(json.dumps(out, indent=1))
    sys.exit(0)
for n, label in (("1k", "1,000"), ("10k", "10,000")):
    e = r[n]
    print(f"engine, {label} rules ({e['rules']} loaded): compile {e['compile_s']:.2f} s, "
          f"databases {e['db_bytes'] / 1024:.0f} KiB (floor's {e['floor_db_bytes'] / 1024:.0f} KiB, {e['db_fields']} fields, "
          f"{e['patterns']} patterns)")
    print(f"  {e['events']} events, {e['alerts']} alerts: {e['events_per_s']:,.0f} events/s; "
          f"floor (bare hs_scan) {e['floor_events_per_s']:,.0f} events/s: "
          f"{100 * e['of_floor']:.0f}% of the floor")
print(f"engine: 10,000 rules are {out['slowdown_10k_vs_1k']:.2f}x slower than 1,000 "
      f"(target <= 1.5x)")
print(f"socctl rules test --events, 1,000 rules, output to /dev/null: {cli:.2f} s "
      f"({nev / cli:,.0f} events/s, JSON parsing included)")
if sec_s:
    x = out["sec"]
    print(f"SSH brute force, {sshl} log lines: sec {x['sec_s']:.2f} s ({x['sec_lines']} lines); "
          f"socctl rules test --log {x['socctl_text_s']:.2f} s ({x['socctl_text_lines']} lines), "
          f"--json {x['socctl_json_s']:.2f} s ({x['socctl_json_alerts']} alerts)")
    print(f"  socctl is {x['ratio_text']:.1f}x faster than sec in text mode, "
          f"{x['ratio_json']:.1f}x with --json (target >= 20x)")
    if not x["sec_lines"] == x["socctl_text_lines"] == x["socctl_json_alerts"]:
        print("  WARNING: sec and socctl wrote different numbers of lines: "
              "the rule sets are not equivalent")
else:
    print("SSH brute force vs sec: skipped (sec not installed: apt-get install sec)")
EOF
