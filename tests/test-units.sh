#!/bin/sh
# The systemd units must pass `systemd-analyze verify`.  The installed
# paths do not exist in a build tree, so verify copies that point at the
# built binaries.  Skips (77) where systemd-analyze is missing.  Each check
# is counted as it runs; the closing line counts what really ran.
command -v systemd-analyze >/dev/null 2>&1 || { echo "skip: no systemd-analyze"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; [ -f "$T/err" ] && cat "$T/err"; fail=$((fail + 1)); }

for u in soc-sensor@.service soc-correlator.service; do
	sed -e "s|/usr/local/sbin/soc-sensor|$SOC_BUILD_DIR/sensor/soc-sensor|g" \
	    -e "s|/usr/local/sbin/soc-correlator|$SOC_BUILD_DIR/correlator/soc-correlator|g" \
	    "$SOC_SOURCE_DIR/systemd/$u" > "$T/$u"
done
cp "$T/soc-sensor@.service" "$T/soc-sensor@gw1.service"
# warnings count as failures too
if systemd-analyze verify --man=no "$T/soc-correlator.service" \
    "$T/soc-sensor@gw1.service" > "$T/err" 2>&1 && [ ! -s "$T/err" ]; then
	ok; else bad "systemd-analyze verify"; fi

# The example configs pass -t once their paths point at real files.
B=$SOC_BUILD_DIR
"$B/correlator/socctl" --db "$T/soc.db" keygen --out "$T/correlator" >/dev/null
"$B/correlator/socctl" --db "$T/soc.db" keygen --out "$T/gw1" >/dev/null
sed -e "s|/etc/soc/|$T/|g" -e "s|/var/lib/soc-sensor/gw1|$T|g" \
    "$SOC_SOURCE_DIR/systemd/sensor.yml.example" > "$T/sensor.yml"
if "$B/sensor/soc-sensor" -t -c "$T/sensor.yml" 2> "$T/err"; then ok
else bad "sensor.yml.example -t"; fi
sed -e "s|/etc/soc/|$T/|g" -e "s|/var/lib/soc/|$T/|g" \
    -e "s|/usr/local/share/soc/rules|$SOC_SOURCE_DIR/rules|" \
    -e "/geoip:/,\$d" "$SOC_SOURCE_DIR/systemd/correlator.yml.example" > "$T/correlator.yml"
if "$B/correlator/soc-correlator" -t -c "$T/correlator.yml" 2> "$T/err"; then ok
else bad "correlator.yml.example -t"; fi

# a typo is refused with file:line
printf 'captrue:\n  interfaces: [eth0]\n' > "$T/bad.yml"
if "$B/sensor/soc-sensor" -t -c "$T/bad.yml" 2> "$T/err"; then
	bad "a misspelt key was accepted"
elif grep -q "bad.yml:2: unknown option \"captrue.interfaces\"" "$T/err"; then ok
else bad "misspelt key refused without file:line"; fi

# zones by name, refused when unknown
if "$B/sensor/soc-sensor" -t -o json --log-file /dev/null \
    --timezone Asia/Ho_Chi_Minh > /dev/null 2> "$T/err"; then ok
else bad "zone Asia/Ho_Chi_Minh refused"; fi
if "$B/sensor/soc-sensor" -t -o json --log-file /dev/null \
    --timezone Nowhere/Town 2> "$T/err"; then
	bad "an unknown zone was accepted"
elif grep -q 'timezone "Nowhere/Town": no such zone' "$T/err"; then ok
else bad "unknown zone refused without naming it"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
