#!/usr/bin/env bash
# test_install.sh - `make install` into a DESTDIR puts exactly the expected files, with
# the unit's ExecStart pointing at SBINDIR; `make uninstall` takes every one away again,
# and keeps an /etc/default/closetrace the admin changed. No root needed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
root=$(cd "$here/../.." && pwd)
d=$T_DIR
if ! command -v scdoc >/dev/null; then
	[ "${CLOSETRACE_REQUIRE_PRIV:-0}" = 1 ] && { echo "not ok 1 - scdoc missing"; echo 1..1; exit 1; }
	echo "ok 1 - all skipped # SKIP scdoc is not installed (make deps)"
	echo "1..1"
	exit 0
fi

mk() { make -s --no-print-directory -C "$root" "$@"; }

expected() {
	cat <<-'LIST'
	/etc/default/closetrace
	/lib/systemd/system/closetrace.service
	/usr/sbin/closetrace
	/usr/share/doc/closetrace/examples/grafana/closetrace.json
	/usr/share/doc/closetrace/examples/prometheus/alerts.yml
	/usr/share/doc/closetrace/examples/prometheus/prometheus.yml
	/usr/share/doc/closetrace/examples/systemd/closetrace.default
	/usr/share/doc/closetrace/examples/systemd/closetrace.service
	/usr/share/man/man7/closetrace-filter.7
	/usr/share/man/man8/closetrace-check.8
	/usr/share/man/man8/closetrace-cleanup.8
	/usr/share/man/man8/closetrace-diagnose.8
	/usr/share/man/man8/closetrace-report.8
	/usr/share/man/man8/closetrace-replay.8
	/usr/share/man/man8/closetrace-top.8
	/usr/share/man/man8/closetrace-watch.8
	/usr/share/man/man8/closetrace.8
	LIST
	(cd "$root" && ls examples/kubernetes/* 2>/dev/null | sed 's|^|/usr/share/doc/closetrace/|')
}

t_install() {
	mk install DESTDIR="$d/root" PREFIX=/usr >"$d/log" 2>&1 || { cat "$d/log"; return 1; }
	(cd "$d/root" && find . -type f -o -type l) | sed 's/^\.//' | sort >"$d/got"
	expected | sort >"$d/want"
	diff "$d/want" "$d/got" || return 1
	[ -x "$d/root/usr/sbin/closetrace" ] &&
		grep -qx 'ExecStart=/usr/sbin/closetrace watch $CLOSETRACE_ARGS' \
			"$d/root/lib/systemd/system/closetrace.service"
}
check "make install DESTDIR PREFIX=/usr: exactly the expected files" t_install

t_uninstall() {
	mk uninstall DESTDIR="$d/root" PREFIX=/usr >"$d/log" 2>&1 || { cat "$d/log"; return 1; }
	[ -z "$(find "$d/root" -type f -o -type l)" ] || { find "$d/root" -type f; return 1; }
}
check "make uninstall leaves no file" t_uninstall

t_prefix() {
	local r=$d/local
	mk install DESTDIR="$r" >/dev/null 2>&1 || return 1
	[ -x "$r/usr/local/sbin/closetrace" ] && [ -f "$r/usr/local/share/man/man8/closetrace.8" ] &&
		[ -f "$r/etc/default/closetrace" ] &&
		grep -qx 'ExecStart=/usr/local/sbin/closetrace watch $CLOSETRACE_ARGS' \
			"$r/usr/local/lib/systemd/system/closetrace.service" || return 1
	# an admin's defaults survive a reinstall and an uninstall
	echo 'CLOSETRACE_ARGS="-i eth1"' >"$r/etc/default/closetrace"
	mk install DESTDIR="$r" >/dev/null 2>&1 || return 1
	grep -q eth1 "$r/etc/default/closetrace" || { echo "reinstall overwrote defaults"; return 1; }
	mk uninstall DESTDIR="$r" 2>&1 | grep -q "KEPT" || return 1
	[ "$(cd "$r" && find . -type f)" = ./etc/default/closetrace ]
}
check "default PREFIX=/usr/local: sbin, unit path substituted; changed defaults kept" t_prefix

done_testing
