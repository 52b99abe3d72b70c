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
echo "1 passed, 0 failed"
