#!/bin/sh
# The systemd units must pass `systemd-analyze verify`.  The installed
# paths do not exist in a build tree, so verify copies that point at the
# built binaries.  Skips (77) where systemd-analyze is missing.
command -v systemd-analyze >/dev/null 2>&1 || { echo "skip: no systemd-analyze"; exit 77; }
set -e
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for u in soc-sensor@.service soc-correlator.service; do
	sed -e "s|/usr/local/sbin/soc-sensor|$SOC_BUILD_DIR/sensor/soc-sensor|g" \
	    -e "s|/usr/local/sbin/soc-correlator|$SOC_BUILD_DIR/correlator/soc-correlator|g" \
	    "$SOC_SOURCE_DIR/systemd/$u" > "$T/$u"
done
cp "$T/soc-sensor@.service" "$T/soc-sensor@gw1.service"
out=$(systemd-analyze verify --man=no "$T/soc-correlator.service" "$T/soc-sensor@gw1.service" 2>&1) || {
	echo "$out"; exit 1; }
# warnings count as failures too
if [ -n "$out" ]; then echo "$out"; exit 1; fi

# The example configs pass -t once their paths point at real files.
B=$SOC_BUILD_DIR
"$B/correlator/socctl" --db "$T/soc.db" keygen --out "$T/correlator" >/dev/null
"$B/correlator/socctl" --db "$T/soc.db" keygen --out "$T/gw1" >/dev/null
sed -e "s|/etc/soc/|$T/|g" -e "s|/var/lib/soc-sensor/gw1|$T|g" \
    "$SOC_SOURCE_DIR/systemd/sensor.yml.example" > "$T/sensor.yml"
"$B/sensor/soc-sensor" -t -c "$T/sensor.yml"
sed -e "s|/etc/soc/|$T/|g" -e "s|/var/lib/soc/|$T/|g" \
    -e "s|/usr/local/share/soc/rules|$SOC_SOURCE_DIR/rules|" \
    -e "/geoip:/,\$d" "$SOC_SOURCE_DIR/systemd/correlator.yml.example" > "$T/correlator.yml"
"$B/correlator/soc-correlator" -t -c "$T/correlator.yml"
# a typo is refused with file:line
printf 'captrue:\n  interfaces: [eth0]\n' > "$T/bad.yml"
if "$B/sensor/soc-sensor" -t -c "$T/bad.yml" 2> "$T/err"; then
	echo "a misspelt key was accepted"; exit 1
fi
grep -q "bad.yml:2: unknown option \"captrue.interfaces\"" "$T/err" || { cat "$T/err"; exit 1; }
# zones by name, refused when unknown
"$B/sensor/soc-sensor" -t -o json --log-file /dev/null --timezone Asia/Ho_Chi_Minh >/dev/null
if "$B/sensor/soc-sensor" -t -o json --log-file /dev/null --timezone Nowhere/Town 2> "$T/err"; then
	echo "an unknown zone was accepted"; exit 1
fi
grep -q 'timezone "Nowhere/Town": no such zone' "$T/err" || { cat "$T/err"; exit 1; }
echo "6 passed, 0 failed"
