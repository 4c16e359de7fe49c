#!/usr/bin/env bash
# test_service.sh - closetrace as a service, in namespaces the test makes (netns.sh):
# least privilege (an unprivileged uid with only CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN;
# every capability gone once attached; --user; a missing capability named), the output
# file (0640, whole lines, SIGHUP reopens after logrotate or removal, rotation by size, a
# full disk), the systemd journal (a systemd-journald the test starts in a mount
# namespace of its own), and the unit: systemd-analyze verify, and its ExecStart run as
# the unit would run it, with its user, capabilities and /etc/default file.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
ns_cleanup_on_exit
need_root
d=$T_DIR
DRIVE=$root/build/tests/tcpdrive
# a copy an unprivileged uid can run, wherever the clone lives
mkdir -p "$d/pub" && cp "$root/build/closetrace" "$d/pub/closetrace" && chmod 755 "$d" "$d/pub"
CT=$d/pub/closetrace
NOBODY=65534
CAPS=+bpf,+perfmon,+net_admin

for tool in setpriv systemd-analyze journalctl jq; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing (make deps)"; exit 1; }
done
[ -x /lib/systemd/systemd-journald ] || { echo "not ok 1 - no systemd-journald"; exit 1; }
check "namespaces and veth pairs are set up" ns_setup
ns_bg "$NS_S" "$DRIVE" server "$S4" "$S6" >"$d/server.out"
check "the test server listens" wait_for "$d/server.out" ready 5
PORT=45000

# start NAME CMD...: CMD (a closetrace watch, -v) in the server's namespace: ns_start
start() {
	local name=$1
	shift
	ns_start "$name" ip netns exec "$NS_S" "$@"
}
attached() { ct_hooked "$NS_S" s0; }
# the effective capabilities of every thread of the watch, once each (a thread keeps those
# it was born with: one started before the drop would still have them)
capeff() { cat "/proc/$WPID"/task/*/status | awk '/^CapEff/ {print $2}' | sort -u | xargs; }
threads() { ls "/proc/$WPID/task" | wc -l; }
uid_of() { awk '/^Uid/ {print $2}' "/proc/$WPID/status"; }

# --- least privilege ---------------------------------------------------------------------
AS_NOBODY="setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --inh-caps=$CAPS --ambient-caps=$CAPS"
# closetrace check names the iterator as the kernel decides, seen apart (canload)
t_check_iter() {
	local state want
	state=$("$CT" check | awk '$1 == "feature" && $2 == "scan-iter" {print $3}')
	want=$(scan_path_want)
	echo "# check: scan-iter $state; a bare iterator loaded apart: $want" >&3
	{ [ "$want" = cut ] && [ "$state" = accepted ]; } ||
		{ [ "$want" = lookups ] && [ "$state" = refused ]; } || return 1
	[ "$(CLOSETRACE_DISABLE=scan-iter "$CT" check |
		awk '$1 == "feature" && $2 == "scan-iter" {print $3}')" = off ]
}
check "closetrace check names the scan iterator as the kernel decides, and off when disabled" \
	t_check_iter

# check's last line: ok, degraded (naming what is missing), or cannot run (and why)
t_check_result() {
	local all off none rc
	all=$(CLOSETRACE_DISABLE=tcx,resets,scan-iter "$CT" check | tail -1)
	off=$(CLOSETRACE_DISABLE=tcx "$CT" check | tail -1)
	none=$(setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --inh-caps=-all \
		--bounding-set=-all "$CT" check 2>&1)
	rc=$?
	echo "# $off / cannot run: $(tail -1 <<<"$none")" >&3
	[ "$all" = "result       degraded: tcx off, resets off, owners absent, scan-iter off (closetrace runs; the feature lines say what is lost)" ] &&
		grep -q '^result       degraded: tcx off' <<<"$off" &&
		[ $rc = 1 ] && grep -q '^result       cannot run: loading BPF needs root' <<<"$none"
}
check "check ends with ok, degraded (what is missing) or cannot run (why)" t_check_result

# t_unprivileged [ENV...]: the watch runs with ENV (CLOSETRACE_DISABLE=scan-iter)
t_unprivileged() {
	local want
	want=$(scan_path_want "$@")
	start np env "$@" $AS_NOBODY "$CT" -v watch -i s0 --all -o json --metrics 9464 \
		--syn-timeout 1 || return 1
	local eff uid n
	uid=$(uid_of)
	ns_drive refused 2 && ns_drive reset-server 1 || return 1
	# a SYN to an address that never answers (X4)
	ip netns exec "$NS_C" "$DRIVE" client unanswered "$S4" $((PORT++)) "$X4" || return 1
	# the scan decides the unanswered one, with no capability left: through the kernel's
	# cut where the kernel takes the iterator, else by batched lookups
	sleep 2.5
	eff=$(capeff)
	n=$(threads)
	ns_stop || return 1
	echo "# uid $uid, CapEff of its $n threads after attach: $eff; expiry scans by" \
		"$(scan_path_of "$d/np.err") (want $want)" >&3
	[ "$uid" = $NOBODY ] && [ "$eff" = 0000000000000000 ] && [ "$n" -ge 3 ] &&
		[ "$(jq -r .close "$d/np.out" | sort | uniq -c | tr -s ' ')" = " 2 refused
 1 reset-server
 1 unanswered" ] && grep -q "capabilities dropped$" "$d/np.err" &&
		! grep -q "cannot read the flow table" "$d/np.err" &&
		[ "$(scan_path_of "$d/np.err")" = "$want" ] && ! attached
}
check "an unprivileged uid with only CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN: events flow, the expiry scan works (by the kernel's cut where it loads), CapEff 0 in every thread once attached, exit detaches" \
	t_unprivileged
check "... and with the scan's fallback forced (CLOSETRACE_DISABLE=scan-iter)" \
	t_unprivileged CLOSETRACE_DISABLE=scan-iter

t_missing_cap() {
	ip netns exec "$NS_S" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
		--inh-caps=+net_admin --ambient-caps=+net_admin "$CT" watch -i s0 2>"$d/mc.err"
	[ $? = 1 ] && [ "$(wc -l <"$d/mc.err")" = 1 ] &&
		grep -q "this process lacks CAP_BPF and CAP_PERFMON (run as root" "$d/mc.err" &&
		! attached
}
check "a missing capability is named in one sentence, exit 1, nothing attached" t_missing_cap

t_user() {
	start us "$CT" -v watch -i s0 -o json --user nobody || return 1
	local eff uid
	uid=$(uid_of)
	ns_drive refused 1 || return 1
	sleep 0.5
	eff=$(capeff)
	ns_stop || return 1
	[ "$uid" = $NOBODY ] && [ "$eff" = 0000000000000000 ] &&
		[ "$(jq -r .close "$d/us.out")" = refused ] && ! attached
}
check "--user nobody as root: that uid, no capability once attached, events flow" t_user

t_user_unknown() {
	ip netns exec "$NS_S" "$CT" watch -i s0 --user no-such-user-xyz 2>"$d/uu.err"
	[ $? = 2 ] && grep -q "^closetrace watch: --user takes a user of this host" "$d/uu.err" &&
		! attached
}
check "an unknown --user: exit 2 before anything is attached" t_user_unknown

t_replay_drops() {
	# a capture only root may read: replay as --user must fail to open it, since the
	# capabilities (and root) are gone before captures are opened
	python3 "$root/tests/cli/pcapgen.py" refused "$d/root-only.pcap" 2 &&
		chmod 600 "$d/root-only.pcap" || return 1
	"$CT" replay "$d/root-only.pcap" >"$d/r1.out" 2>"$d/r1.err" || return 1
	"$CT" replay --user nobody "$d/root-only.pcap" >"$d/r2.out" 2>"$d/r2.err"
	[ $? = 1 ] && grep -q "root-only.pcap: Permission denied" "$d/r2.err" &&
		[ "$(grep -c refused "$d/r1.out")" = 2 ]
}
check "replay drops root and every capability after loading, before opening a capture" \
	t_replay_drops

# --- the output file ------------------------------------------------------------------------
mkdir -p "$d/log" && chmod 777 "$d/log"
t_file() {
	local f=$d/log/closes.json
	start of "$CT" -v watch -i s0 -o json --output-file "$f" || return 1
	ns_drive refused 3 || return 1
	sleep 0.3
	[ "$(stat -c %a "$f")" = 640 ] && [ "$(wc -l <"$f")" = 3 ] && [ ! -s "$d/of.out" ] ||
		{ ns_stop; return 1; }
	# logrotate: rename, then SIGHUP; new lines go to a new file
	mv "$f" "$f.1" && kill -HUP "$WPID" || return 1
	ns_drive refused 2 || return 1
	sleep 0.3
	[ "$(wc -l <"$f")" = 2 ] && [ "$(wc -l <"$f.1")" = 3 ] || { ns_stop; return 1; }
	# removed, then SIGHUP: a new file
	rm "$f" && kill -HUP "$WPID" || return 1
	ns_drive refused 1 || return 1
	sleep 0.3
	ns_stop || return 1
	[ "$(wc -l <"$f")" = 1 ] && jq -e . "$f" "$f.1" >/dev/null && ! attached
}
check "--output-file: 0640, whole lines; SIGHUP reopens after a rename and after removal" t_file

t_file_unwritable() {
	ip netns exec "$NS_S" "$CT" watch -i s0 --output-file "$d/no/such/dir/x.json" \
		2>"$d/uw.err"
	[ $? = 1 ] && [ "$(wc -l <"$d/uw.err")" = 1 ] &&
		grep -q "^closetrace: --output-file $d/no/such/dir/x.json: No such file or directory$" \
			"$d/uw.err" && ! attached
}
check "an unwritable output file: one sentence, exit 1, nothing attached" t_file_unwritable

t_rotate() {
	local f=$d/log/rot.json n
	start ro "$CT" -v watch -i s0 --all -o json --output-file "$f" --output-rotate 4K,2 ||
		return 1
	ns_drive refused 25 || return 1
	sleep 0.5
	ns_stop || return 1
	for n in "$f" "$f.1" "$f.2"; do
		[ -s "$n" ] && [ "$(stat -c %s "$n")" -le 4096 ] && jq -e . "$n" >/dev/null ||
			{ echo "$n: $(stat -c %s "$n" 2>&1)"; return 1; }
	done
	[ ! -e "$f.3" ] && echo "# $(cat "$f" "$f.1" "$f.2" | wc -l) of 25 lines kept in 3 files" >&3
}
check "--output-rotate 4K,2: FILE, FILE.1, FILE.2, none past 4 KiB, whole lines" t_rotate

t_disk_full() {
	# a 16 KiB file system in a mount namespace of the watch's own
	mkdir -p "$d/full" || return 1
	ip netns exec "$NS_S" unshare -m --propagation private sh -c '
		mount -t tmpfs -o size=16k tmpfs "$1" && exec "$2" -v watch -i s0 --all -o json \
			--output-file "$1/x.json"' sh "$d/full" "$CT" >"$d/df.out" 2>"$d/df.err" &
	WPID=$!
	NS_PIDS+=("$WPID")
	wait_for "$d/df.err" "watching " 5 || return 1
	ns_drive refused 60 || return 1
	sleep 0.5
	# the file, as the watch sees it, before it ends
	cat "/proc/$WPID/root$d/full/x.json" >"$d/df.json" 2>/dev/null
	ns_stop || return 1
	echo "# $(wc -l <"$d/df.json") lines in 16 KiB; $(tail -1 "$d/df.err")" >&3
	[ "$(grep -c 'a line could not be written (No space left on device)' "$d/df.err")" = 1 ] &&
		grep -q "lines were dropped$" "$d/df.err" &&
		jq -e . "$d/df.json" >/dev/null &&
		[ "$(($(wc -l <"$d/df.json") + $(sed -n 's/.*: \([0-9]*\) lines were dropped$/\1/p' "$d/df.err")))" = 60 ]
}
check "a full disk: lines dropped whole, counted, said once; written + dropped = all" t_disk_full

# --- the journal -------------------------------------------------------------------------------
t_journal() {
	# journald and closetrace share a mount namespace with the journal's runtime dirs
	unshare -m --propagation private bash -c '
		mount -t tmpfs tmpfs /run/systemd 2>/dev/null ||
			{ mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd; } || exit 1
		mkdir -p /run/systemd/journal /run/log && mount -t tmpfs tmpfs /run/log || exit 1
		mkdir -p /run/log/journal
		[ ! -d /var/log/journal ] || mount -t tmpfs tmpfs /var/log/journal || exit 1
		/lib/systemd/systemd-journald </dev/null >"$1/journald.log" 2>&1 3>&- &
		jd=$!
		trap "kill $jd 2>/dev/null; wait $jd" EXIT
		for i in $(seq 50); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
		ip netns exec "$2" "$3" -v watch -i s0 -o journal 2>"$1/jw.err" 3>&- &
		w=$!
		for i in $(seq 50); do grep -q watching "$1/jw.err" && break; sleep 0.1; done
		"$4" refused; "$4" reset-server
		sleep 1
		kill -INT $w
		wait $w
		journalctl -D /run/log/journal -o json --no-pager SYSLOG_IDENTIFIER=closetrace \
			>"$1/journal.json"
	' bash "$d" "$NS_S" "$CT" drive_one
	jq -e . "$d/journal.json" >/dev/null || { cat "$d/jw.err" "$d/journald.log"; return 1; }
	echo "# journal: $(jq -c '[.CLOSETRACE_CLOSE, .CLOSETRACE_SRV_PORT, .PRIORITY, .CLOSETRACE_IFACE]' "$d/journal.json" | tr '\n' ' ')" >&3
	[ "$(jq -r 'select(.CLOSETRACE_CLOSE == "refused") | [.CLOSETRACE_SRV_PORT, .PRIORITY,
		.CLOSETRACE_ZEEK, .CLOSETRACE_IFACE] | @tsv' "$d/journal.json")" = "$(printf '8009\t5\tREJ\ts0')" ] &&
	[ "$(jq -r 'select(.CLOSETRACE_CLOSE == "reset-server") | [.CLOSETRACE_SRV_PORT, .PRIORITY,
		.CLOSETRACE_RST_BY] | @tsv' "$d/journal.json")" = "$(printf '8002\t4\tsrv')" ] &&
	jq -s -e 'map(select(.CLOSETRACE_CLOSE == "refused"))[0].MESSAGE | test(" refused +REJ ")' \
		"$d/journal.json" >/dev/null
}
# one connection of KIND, for the journal test's inner shell
drive_one() { ns_drive "$1" 1; }
export -f ns_drive drive_one
export NS_C S4 DRIVE PORT
check "-o journal: a systemd-journald started here gets each close with CLOSETRACE_* fields" \
	t_journal

# --- the unit ------------------------------------------------------------------------------------
UNIT=$root/examples/systemd/closetrace.service
t_verify() {
	# verify needs the binary where ExecStart says: a copy of the unit points at ours
	sed "s|/usr/sbin/closetrace|$CT|" "$UNIT" >"$d/closetrace.service"
	# and its Documentation= pages are looked up where they are built
	mkdir -p "$d/man/man7" "$d/man/man8" && make -s -C "$root" man >/dev/null &&
		cp "$root"/build/man/*.8 "$d/man/man8/" && cp "$root"/build/man/*.7 "$d/man/man7/" ||
		return 1
	MANPATH=$d/man SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$d/closetrace.service" \
		>"$d/verify.out" 2>&1
	local rc=$?
	# unrelated units of this machine may be named; none of ours
	! grep -q "closetrace" "$d/verify.out" && [ $rc = 0 ] || { cat "$d/verify.out"; return 1; }
	systemd-analyze security --offline=yes "$d/closetrace.service" 2>/dev/null |
		tail -1 | sed 's/^/# /' >&3
}
check "systemd-analyze verify passes on the unit" t_verify

t_unit_run() {
	# the unit's ExecStart, as the unit would run it: its /etc/default file, a non-root
	# user, exactly the unit's capabilities, no new privileges
	local args caps
	caps=$(sed -n 's/^AmbientCapabilities=//p' "$UNIT" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
	[ "$caps" = "+bpf,+perfmon,+net_admin" ] || { echo "unit caps: $caps"; return 1; }
	mkdir -p "$d/unitlog" && chmod 777 "$d/unitlog" || return 1
	sed "s|-i eth0|-i s0|; s|/var/log/closetrace|$d/unitlog|" \
		"$root/examples/systemd/closetrace.default" >"$d/default"
	args=$(. "$d/default" && echo "$CLOSETRACE_ARGS")
	echo "# $args" >&3
	start unit setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --no-new-privs \
		--inh-caps="$caps" --ambient-caps="$caps" --bounding-set=-all,"$caps" \
		"$CT" -v watch $args || { cat "$d/unit.err"; return 1; }
	ns_drive refused 2 || return 1
	sleep 1.5
	ip netns exec "$NS_S" curl -s http://127.0.0.1:9464/metrics >"$d/unit.metrics"
	[ "$(capeff)" = 0000000000000000 ] && [ "$(threads)" -ge 2 ] || return 1
	ns_stop || return 1
	[ "$(jq -r .close "$d/unitlog/closes.json" | sort | uniq -c | tr -s ' ')" = " 2 refused" ] &&
		grep -q '^closetrace_server_closes_total{iface="s0",port="other",close="refused"} 2$' \
			"$d/unit.metrics" && ! attached
}
check "the unit's ExecStart as the unit runs it: events to the file, metrics, CapEff 0 in every thread" t_unit_run

# systemctl reload is SIGHUP (ExecReload): the unit's command, with its --output-file and
# without one, takes three and keeps running and printing; without a file it says so once
reload_three() {
	local name=$1 out=$2 n
	for n in 1 2 3; do
		kill -HUP "$WPID" && sleep 0.3 && ns_drive refused 1 || return 1
		sleep 0.5
		kill -0 "$WPID" || { echo "SIGHUP $n stopped it"; cat "$d/$name.err"; return 1; }
		[ "$(jq -r .close "$out" | grep -c refused)" = $n ] ||
			{ echo "after SIGHUP $n: $(wc -l <"$out") lines"; return 1; }
	done
}
t_unit_reload() {
	local name=$1 args out rc
	args=$(. "$d/default" && echo "$CLOSETRACE_ARGS")
	[ "$name" = stdout ] && args="${args%% --output-file*}"
	: >"$d/unitlog/closes.json"
	start "$name" setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --no-new-privs \
		--inh-caps=+bpf,+perfmon,+net_admin --ambient-caps=+bpf,+perfmon,+net_admin \
		--bounding-set=-all,+bpf,+perfmon,+net_admin "$CT" -v watch $args ||
		{ cat "$d/$name.err"; ns_stop; return 1; }
	out=$d/unitlog/closes.json
	[ "$name" = stdout ] && out=$d/$name.out
	reload_three "$name" "$out"
	rc=$?
	ns_stop || return 1
	[ $rc = 0 ] || return 1
	echo "# $name: 3 SIGHUPs, 3 refusals printed after them; $(grep SIGHUP "$d/$name.err" | tr '\n' ' ')" >&3
	if [ "$name" = stdout ]; then
		[ "$(grep -c 'SIGHUP: no --output-file to reopen; going on' "$d/$name.err")" = 1 ]
	else
		grep -q 'SIGHUP reopens --output-file' "$d/$name.err" &&
			! grep -q 'no --output-file to reopen' "$d/$name.err"
	fi
}
check "reload (SIGHUP x3) with the unit's --output-file: still running, still printing" \
	t_unit_reload file
check "reload (SIGHUP x3) without --output-file: still running, still printing, said once" \
	t_unit_reload stdout

done_testing
