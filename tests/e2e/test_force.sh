#!/usr/bin/env bash
# test_force.sh - `watch --mode xdp --force` and `cleanup` around other tools' XDP
# programs, in a namespace the test makes: --force takes another program's place in one
# step and refuses if that program changed meanwhile; when closetrace's own attach fails
# afterwards (a second interface that cannot take it), the other program is put back;
# cleanup removes what a killed --force session left, but neither a running session's
# program nor programs that only carry closetrace's names (tests/bpf/impostor.bpf.c).
# Everything made is removed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
ns_cleanup_on_exit
CT=${CLOSETRACE:-$here/../../build/closetrace}
OTHER=$here/../../build/bpf/vlan_tag.bpf.o	# "other_tool": another tool's XDP program
IMPOSTOR=$here/../../build/bpf/impostor.bpf.o	# "ct_xdp", "ct_tc": not closetrace's
need_root
d=$T_DIR

for f in "$CT" "$OTHER" "$IMPOSTOR"; do
	[ -e "$f" ] || { echo "not ok 1 - $f is missing (make all build/bpf/impostor.bpf.o)"; exit 1; }
done

# one namespace (NS_M, so that ns_teardown removes it): veth f0/f1 and lo, all up
setup() {
	NS_M=ct-f-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
	ip netns add "$NS_M" && ip -n "$NS_M" link add f0 type veth peer name f1 || return 1
	for l in lo f0 f1; do ip -n "$NS_M" link set "$l" up || return 1; done
}
check "a namespace with a veth pair is set up" setup


in_ns() { ip netns exec "$NS_M" "$@"; }
# xdp_id DEV: the id of DEV's XDP program, or none
xdp_id() {
	local id
	id=$(ip -n "$NS_M" -d link show dev "$1" | grep -o 'prog/xdp id [0-9]*' | awk '{print $3}')
	echo "${id:-none}"
}
# xdp_mode DEV: xdp (native), xdpgeneric or none
xdp_mode() {
	ip -n "$NS_M" link show dev "$1" | head -1 | grep -oE ' xdp(generic|offload)? ' |
		tr -d ' ' | grep . || echo none
}
prog_name() { bpftool prog show id "$1" | sed -n 's/.* name \([^ ]*\) .*/\1/p'; }
# put_other DEV MODE: another tool's program on DEV (xdpgeneric or xdpdrv)
put_other() { in_ns ip link set dev "$1" "$2" obj "$OTHER" sec xdp; }
xdp_off() {
	in_ns ip link set dev "$1" xdpgeneric off 2>/dev/null
	in_ns ip link set dev "$1" xdpdrv off 2>/dev/null
	return 0
}
# watch_bg NAME ARGS...: closetrace -v watch ARGS in the background, its pid (ip netns
# exec execs it) in $WPID
watch_bg() {
	local name=$1
	shift
	ip netns exec "$NS_M" "$CT" -v watch "$@" >"$d/$name.out" 2>"$d/$name.err" &
	WPID=$!
	NS_PIDS+=("$WPID")
}

# check -i: native XDP as the drivers say, which the attaches below find true (veth takes a
# native program, lo refuses one with EOPNOTSUPP); an unknown name is one sentence, exit 1
t_check_native() {
	in_ns "$CT" check -i f0,lo >"$d/check.out" || return 1
	grep -q '^interface    f0 *native XDP: yes' "$d/check.out" &&
		grep -q '^interface    lo *native XDP: no' "$d/check.out" || { cat "$d/check.out"; return 1; }
	in_ns "$CT" check -i f0,nope >"$d/check2.out" 2>"$d/check2.err"
	[ $? = 1 ] && [ ! -s "$d/check2.out" ] &&
		[ "$(cat "$d/check2.err")" = "closetrace: nope: no such interface" ]
}
check "check -i: native XDP on veth, generic only on lo; an unknown interface refused" \
	t_check_native

t_replace_atomic() {
	local foreign ours rc
	put_other f0 xdpgeneric || return 1
	foreign=$(xdp_id f0)
	# the program id on f0 as fast as ip can read it, while --force takes over
	: >"$d/ids"
	(while [ ! -e "$d/stop-poll" ]; do xdp_id f0; done >>"$d/ids") &
	local poller=$!
	watch_bg forced -i f0 --mode xdp --force
	wait_for "$d/forced.err" "watching " 10 || return 1
	touch "$d/stop-poll"
	wait $poller
	ours=$(xdp_id f0)
	uniq "$d/ids" | tr '\n' ' ' | sed "s/^/# ids read on f0: /; s/\$/($(wc -l <"$d/ids") reads)\n/" >&3
	[ "$ours" != "$foreign" ] && [ "$(prog_name "$ours")" = ct_xdp ] || return 1
	[ "$(xdp_mode f0)" = xdpgeneric ] || { echo "not replaced in its mode"; return 1; }
	grep -q "f0: replaced XDP program 'other_tool' (id $foreign) with closetrace's" \
		"$d/forced.err" || return 1
	# the interface went from the other program straight to closetrace's: never none
	[ "$(uniq "$d/ids" | tr '\n' ' ')" = "$foreign $ours " ] ||
		[ "$(uniq "$d/ids" | tr '\n' ' ')" = "$foreign " ] || return 1
	kill -INT $WPID
	wait $WPID
	rc=$?
	# a session that ran does not put the other program back (documented)
	[ $rc = 0 ] && [ "$(xdp_id f0)" = none ]
}
check "--force replaces another XDP program in one step, in its mode; none left on exit" \
	t_replace_atomic

t_replace_race() {
	local first second rc
	put_other f0 xdpgeneric || return 1
	first=$(xdp_id f0)
	CLOSETRACE_FORCE_PAUSE_MS=3000 watch_bg race -i f0 --mode xdp --force
	wait_for "$d/race.err" "replacing XDP program 'other_tool' (id $first)" 5 || return 1
	# meanwhile, another tool puts a program of its own there
	in_ns ip -force link set dev f0 xdpgeneric obj "$IMPOSTOR" sec xdp || return 1
	second=$(xdp_id f0)
	wait $WPID
	rc=$?
	grep -v ': replacing' "$d/race.err" | sed 's/^/# /' >&3
	[ $rc = 1 ] && [ "$second" != "$first" ] && [ "$(xdp_id f0)" = "$second" ] &&
		grep -qx "closetrace: f0: the XDP program changed while --force was replacing 'other_tool' (id $first); nothing was replaced, run again to replace the new one" \
			"$d/race.err" &&
		[ "$(grep -c '^closetrace: f0: ' "$d/race.err")" = 2 ]	# replacing, then changed
}
check "a program changed while --force replaces: refused in one sentence, the new one stays" \
	t_replace_race
xdp_off f0

t_restore_native() {
	local foreign rc
	put_other f0 xdpdrv || return 1
	foreign=$(xdp_id f0)
	# f0 is replaced, then lo cannot run XDP natively: closetrace's attach fails after it
	in_ns "$CT" watch -i f0,lo --mode xdp --xdp-mode native --force 2>"$d/restore.err"
	rc=$?
	sed 's/^/# /' "$d/restore.err" >&3
	[ $rc = 1 ] && [ "$(xdp_id f0)" = "$foreign" ] && [ "$(xdp_mode f0)" = xdp ] &&
		[ "$(xdp_id lo)" = none ] &&
		grep -q "^closetrace: f0: replaced XDP program 'other_tool' (id $foreign)" \
			"$d/restore.err" &&
		grep -qx "closetrace: lo: cannot attach XDP in native mode: Operation not supported" \
			"$d/restore.err" &&
		grep -qx "closetrace: f0: put XDP program 'other_tool' (id $foreign) back" \
			"$d/restore.err"
}
check "attach fails on a second interface (native on lo): the first gets its program back" \
	t_restore_native
xdp_off f0

t_restore_generic() {
	local foreign rc
	put_other f0 xdpgeneric || return 1
	foreign=$(xdp_id f0)
	# another closetrace watches f1: --force does not take it over, and f0 is put back
	watch_bg holder -i f1 --mode xdp --xdp-mode generic
	wait_for "$d/holder.err" "watching " 10 || return 1
	in_ns "$CT" watch -i f0,f1 --mode xdp --force 2>"$d/restore2.err"
	rc=$?
	kill -INT $WPID
	wait $WPID || return 1
	[ $rc = 1 ] && [ "$(xdp_id f0)" = "$foreign" ] && [ "$(xdp_mode f0)" = xdpgeneric ] &&
		[ "$(xdp_id f1)" = none ] &&
		grep -q "^closetrace: f1: another closetrace is already watching it" \
			"$d/restore2.err" &&
		grep -qx "closetrace: f0: put XDP program 'other_tool' (id $foreign) back" \
			"$d/restore2.err"
}
check "attach fails on a second interface (another closetrace there): the first gets its program back" \
	t_restore_generic
xdp_off f0

t_mode_mismatch() {
	local foreign rc
	put_other f0 xdpgeneric || return 1
	foreign=$(xdp_id f0)
	in_ns "$CT" watch -i f0 --mode xdp --xdp-mode native --force 2>"$d/mode.err"
	rc=$?
	[ $rc = 1 ] && [ "$(wc -l <"$d/mode.err")" = 1 ] && [ "$(xdp_id f0)" = "$foreign" ] &&
		grep -qx "closetrace: f0: XDP program 'other_tool' (id $foreign) runs in generic mode, and --force replaces it in that mode only: leave --xdp-mode out" \
			"$d/mode.err"
}
check "--force with --xdp-mode other than the program's: one sentence, nothing changed" \
	t_mode_mismatch
xdp_off f0

t_impostor() {
	local xid rc
	in_ns ip link set dev f0 xdpgeneric obj "$IMPOSTOR" sec xdp || return 1
	xid=$(xdp_id f0)
	[ "$(prog_name "$xid")" = ct_xdp ] || return 1
	# and a tc filter at closetrace's own handle and priority, running another ct_tc
	in_ns tc qdisc add dev f1 clsact &&
		in_ns tc filter add dev f1 ingress prio 49422 handle 0xc10e bpf direct-action \
			obj "$IMPOSTOR" sec tc || return 1
	in_ns "$CT" cleanup >"$d/imp.out" 2>"$d/imp.err"
	rc=$?
	sed 's/^/# /' "$d/imp.err" >&3
	in_ns "$CT" cleanup -i f0,f1 >>"$d/imp.out" 2>>"$d/imp.err" || return 1
	[ $rc = 0 ] && [ "$(xdp_id f0)" = "$xid" ] &&
		in_ns tc filter show dev f1 ingress | grep -q 'ct_tc' &&
		[ "$(grep -c 'nothing to clean up' "$d/imp.out")" = 2 ] &&
		grep -qx "closetrace: f0: XDP program 'ct_xdp' (id $xid) is not this closetrace's (another tag): left alone" \
			"$d/imp.err" &&
		grep -q "^closetrace: f1: the tc ingress filter at closetrace's handle runs program 'ct_tc' (id [0-9]*), not this closetrace's: left alone" \
			"$d/imp.err" || return 1
	# watch does not take it for another closetrace either
	in_ns "$CT" watch -i f0 --mode xdp 2>"$d/imp2.err"
	[ $? = 1 ] && grep -qx "closetrace: f0: XDP program 'ct_xdp' (id $xid) is attached; closetrace replaces it only with --force" \
		"$d/imp2.err"
}
check "cleanup leaves alone programs that are only named like closetrace's (XDP, tc)" t_impostor
xdp_off f0
in_ns tc qdisc del dev f1 clsact 2>/dev/null

t_cleanup_killed() {
	local foreign ours rc imp
	put_other f0 xdpgeneric || return 1
	foreign=$(xdp_id f0)
	in_ns ip link set dev f1 xdpgeneric obj "$IMPOSTOR" sec xdp || return 1
	imp=$(xdp_id f1)
	watch_bg killed -i f0 --mode xdp --force
	wait_for "$d/killed.err" "watching " 10 || return 1
	ours=$(xdp_id f0)
	# running: cleanup leaves it, says so and fails
	in_ns "$CT" cleanup -i f0 >"$d/c1.out" 2>"$d/c1.err"
	rc=$?
	[ $rc = 1 ] && [ "$(xdp_id f0)" = "$ours" ] &&
		grep -qx "closetrace: f0: a running closetrace holds XDP program id $ours; stop it instead" \
			"$d/c1.err" || return 1
	kill -KILL $WPID
	wait $WPID 2>/dev/null
	# killed: its netlink-attached program stays, and watch says how to remove it
	[ "$(xdp_id f0)" = "$ours" ] || return 1
	in_ns "$CT" watch -i f0 --mode xdp 2>"$d/c2.err"
	[ $? = 1 ] && grep -qx "closetrace: f0: a killed closetrace left its XDP program (id $ours); closetrace cleanup -i f0 removes it" \
		"$d/c2.err" || return 1
	in_ns "$CT" cleanup >"$d/c3.out" 2>"$d/c3.err"
	rc=$?
	sed 's/^/# /' "$d/c3.out" >&3
	[ $rc = 0 ] && [ "$(xdp_id f0)" = none ] && [ "$(xdp_id f1)" = "$imp" ] &&
		grep -qx "f0: removed 1 closetrace attachment" "$d/c3.out"
}
check "cleanup: a running --force session is left alone; after kill -9 its program goes, an impostor stays" \
	t_cleanup_killed
xdp_off f1

done_testing
