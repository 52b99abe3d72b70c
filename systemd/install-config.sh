#!/bin/sh
# meson install script: the example configurations go to CONFDIR under
# the names the units read, only where no file is there yet, so a
# reinstall never overwrites an edited configuration.  Honours DESTDIR.
# Usage: install-config.sh CONFDIR SRCDIR
set -e
dir="${DESTDIR:-}$1"
src=$2
mkdir -p "$dir"
chmod 0755 "$dir"
for pair in correlator.yml.example:correlator.yml sensor.yml.example:sensor-gw1.yml; do
	from=${pair%%:*} to=${pair#*:}
	if [ -e "$dir/$to" ]; then
		echo "keeping $dir/$to (the example is $src/$from)"
	else
		install -m 0644 "$src/$from" "$dir/$to"
		echo "installed $dir/$to"
	fi
done
