#!/usr/bin/env bash
# test_deb.sh - the Debian package as a user gets it: `make deb` builds it, apt-get
# installs it, the installed closetrace runs (version, check), its man pages are found,
# its unit verifies and is neither enabled nor started, lintian finds no error; then a
# purge leaves none of its files. Root. Whatever it installed is purged on exit, even on
# failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
need_root
root=$(cd "$here/../.." && pwd)
build=${BUILD:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
d=$T_DIR
trap 'dpkg -s closetrace >/dev/null 2>&1 && apt-get purge -y -qq closetrace >/dev/null 2>&1;
      rm -rf "$T_DIR"' EXIT
export DEBIAN_FRONTEND=noninteractive

if dpkg -s closetrace >/dev/null 2>&1; then
	echo "not ok 1 - closetrace is already installed as a package; purge it first"
	echo "1..1"
	exit 1
fi

start=$(date +%s)
check "make deb builds the package" make -s --no-print-directory -C "$root" BUILD="$build" deb
deb=$(ls "$build"/deb/closetrace_*_*.deb 2>/dev/null | head -1)
t_tree_clean() {
	# no build state left in debian/ nor packages in the parent directory
	[ -z "$(git -C "$root" status --porcelain --ignored debian 2>/dev/null)" ] &&
		[ -z "$(ls "$root"/../closetrace_*.deb "$root"/../closetrace_*.changes 2>/dev/null)" ]
}
check "the build leaves the tree and its parent as they were" t_tree_clean

# the package makes the closetrace group (viewers of the agent); a group made here goes after
had_group=$(getent group closetrace >/dev/null && echo 1)
[ -n "$had_group" ] || trap 'dpkg -s closetrace >/dev/null 2>&1 &&
	apt-get purge -y -qq closetrace >/dev/null 2>&1
	getent group closetrace >/dev/null && groupdel closetrace; rm -rf "$T_DIR"' EXIT
check "apt-get install ./closetrace_*.deb" apt-get install -y -qq "$deb"
check "the closetrace group exists; the unit runs in it and makes /run/closetrace" bash -c \
	'getent group closetrace >/dev/null &&
	 grep -qx SupplementaryGroups=closetrace /lib/systemd/system/closetrace.service &&
	 grep -qx RuntimeDirectory=closetrace /lib/systemd/system/closetrace.service'
dpkg -L closetrace 2>/dev/null | sort >"$d/files"

t_version() {
	local want
	want=$(dpkg-query -W -f='${Version}' closetrace)
	[ "$(/usr/sbin/closetrace version)" = "closetrace $want" ]
}
check "the installed /usr/sbin/closetrace version is the package's" t_version
check "closetrace check (the installed binary loads its programs)" /usr/sbin/closetrace check
check "man -w closetrace finds the page" bash -c \
	'[ "$(man -w closetrace)" = /usr/share/man/man8/closetrace.8.gz ] &&
	 man -w closetrace-filter | grep -q man7 && man -w 7 closetrace-filter >/dev/null'

t_verify() {
	systemd-analyze verify /lib/systemd/system/closetrace.service >"$d/verify" 2>&1
	local rc=$?
	sed 's/^/# verify: /' "$d/verify" >&3
	[ $rc = 0 ] && ! grep -q closetrace.service "$d/verify"
}
check "systemd-analyze verify: the unit is clean" t_verify

t_not_enabled() {
	# no wants/ link made, whatever the state of systemd
	[ -z "$(find /etc/systemd/system -name closetrace.service 2>/dev/null)" ] &&
		{ [ ! -d /run/systemd/system ] || ! systemctl is-active -q closetrace; }
}
check "the unit is neither enabled nor started" t_not_enabled
check "/etc/default/closetrace is a conffile" bash -c \
	"dpkg-query -W -f='\${Conffiles}' closetrace | grep -q '/etc/default/closetrace '"

t_lintian() {
	# its caches in the test's directory, not in /tmp
	TMPDIR=$d lintian --tag-display-limit 0 "$deb" >"$d/lintian" 2>&1
	grep -v '^running with root' "$d/lintian" | sed 's/^/# lintian: /' >&3
	! grep -q '^E: ' "$d/lintian"
}
check "lintian reports no error" t_lintian

check "apt-get purge closetrace" apt-get purge -y -qq closetrace
t_gone() {
	local f left=0
	while read -r f; do
		[ -d "$f" ] && continue
		[ -e "$f" ] || [ -L "$f" ] || continue
		echo "left: $f"
		left=1
	done <"$d/files"
	[ ! -e /etc/default/closetrace ] || { echo "left: /etc/default/closetrace"; left=1; }
	[ "$(wc -l <"$d/files")" -ge 15 ] && [ $left = 0 ] && ! dpkg -s closetrace >/dev/null 2>&1
}
check "after the purge none of the package's files is left" t_gone
echo "# package test took $(($(date +%s) - start)) s" >&3
done_testing
