#!/bin/sh
# The systemd units, as meson generates them for the configured prefix,
# must pass `systemd-analyze verify`.  The installed paths do not exist in
# a build tree, so verify copies that point at the built binaries.  Then:
# the units name the prefix's sbindir, are Type=notify with a watchdog,
# sysusers.d creates the correlator's user and tmpfiles.d its directory
# (in a scratch root), and the example configs pass -t as shipped.  Skips
# (77) where systemd-analyze is missing.  Each check is counted as it
# runs; the closing line counts what really ran.
command -v systemd-analyze >/dev/null 2>&1 || { echo "skip: no systemd-analyze"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; [ -f "$T/err" ] && cat "$T/err"; fail=$((fail + 1)); }
B=$SOC_BUILD_DIR

# where `make install` / `meson install` puts the binaries
sbindir=$(python3 -c 'import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
print(o["prefix"].rstrip("/") + "/" + o["sbindir"])' "$B/meson-info/intro-buildoptions.json")
for u in soc-sensor@.service soc-correlator.service; do
	if [ -f "$B/$u" ] && ! grep -q "@[A-Z]*@" "$B/$u"; then ok
	else bad "$u not generated, or a placeholder left"; fi
	if grep -q "^ExecStart=$sbindir/soc-" "$B/$u"; then ok
	else bad "$u does not run the binary from $sbindir"; fi
	if grep -q "^Type=notify$" "$B/$u" && grep -q "^WatchdogSec=[1-9]" "$B/$u" &&
	    grep -q "^LimitNOFILE=" "$B/$u"; then ok
	else bad "$u: Type=notify, WatchdogSec= and LimitNOFILE= expected"; fi
	sed -e "s|$sbindir/soc-sensor|$B/sensor/soc-sensor|g" \
	    -e "s|$sbindir/soc-correlator|$B/correlator/soc-correlator|g" \
	    "$B/$u" > "$T/$u"
done
grep -q "^AmbientCapabilities=.*CAP_NET_BIND_SERVICE" "$B/soc-sensor@.service" && ok ||
	bad "the sensor unit cannot bind port 514"
cp "$T/soc-sensor@.service" "$T/soc-sensor@gw1.service"
# warnings count as failures too
if systemd-analyze verify --man=no "$T/soc-correlator.service" \
    "$T/soc-sensor@gw1.service" > "$T/err" 2>&1 && [ ! -s "$T/err" ]; then
	ok; else bad "systemd-analyze verify"; fi

# sysusers.d makes the correlator's User=, tmpfiles.d its directory
R=$T/root
mkdir -p "$R/etc" "$R/var/lib"
touch "$R/etc/passwd" "$R/etc/group" "$R/etc/shadow" "$R/etc/gshadow"
user=$(sed -n 's/^User=//p' "$B/soc-correlator.service")
if systemd-sysusers --root="$R" - < "$SOC_SOURCE_DIR/systemd/soc.sysusers" \
    > "$T/err" 2>&1 && grep -q "^$user:" "$R/etc/passwd"; then ok
else bad "sysusers.d does not create User=$user"; fi
if systemd-tmpfiles --root="$R" --create - < "$B/soc.tmpfiles" > "$T/err" 2>&1 &&
    [ "$(stat -c %a "$R/var/lib/soc")" = 2770 ]; then ok
else bad "tmpfiles.d does not create /var/lib/soc 2770"; fi

# The example configs pass -t once their paths point at real files.
"$B/correlator/socctl" --db "$T/soc.db" keygen --out "$T/correlator" >/dev/null
"$B/correlator/socctl" --db "$T/soc.db" keygen --out "$T/gw1" >/dev/null
sed -e "s|/etc/soc/|$T/|g" -e "s|/var/lib/soc-sensor/gw1|$T|g" \
    "$SOC_SOURCE_DIR/systemd/sensor.yml.example" > "$T/sensor.yml"
if "$B/sensor/soc-sensor" -t -c "$T/sensor.yml" 2> "$T/err"; then ok
else bad "sensor.yml.example -t"; fi
# as shipped (GeoIP commented out), only the paths moved into $T
sed -e "s|/etc/soc/|$T/|g" -e "s|/var/lib/soc/|$T/|g" \
    "$SOC_SOURCE_DIR/systemd/correlator.yml.example" > "$T/correlator.yml"
if "$B/correlator/soc-correlator" -t -c "$T/correlator.yml" \
    --rules "$SOC_SOURCE_DIR/rules" 2> "$T/err"; then ok
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
