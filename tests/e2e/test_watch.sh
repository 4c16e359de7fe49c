#!/usr/bin/env bash
# test_watch.sh - `closetrace watch` end to end, in namespaces the test makes (netns.sh):
# real sockets make every close kind over IPv4 and IPv6 (tcpdrive), closetrace watches in
# tc mode, and in XDP native and generic mode on a port that receives a mirror of both
# directions, and in tc mode on a mirror whose copies carry a VLAN tag. Each run checks
# the events (kind, who reset, per-side counts), then a second run with --final checks
# every flow's final SYN/SYN-ACK/FIN/RST/packet counts against tshark's reading of a
# tcpdump capture of the same port. Then attach/detach hygiene: conflicts, foreign XDP
# programs, interfaces down or disappearing, signals, kill -9 and cleanup, the netlink
# tc fallback. Everything made is removed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
trap 'ns_teardown; rm -rf "$T_DIR"' EXIT
CT=${CLOSETRACE:-$here/../../build/closetrace}
DRIVE=$here/../../build/tests/tcpdrive
HELPERS=$here/../../build/bpf/vlan_tag.bpf.o
COUNTS=$here/../oracle/tshark_counts.sh
need_root
d=$T_DIR

for tool in tcpdump tshark jq; do
	command -v $tool >/dev/null || { echo "not ok 1 - $tool is missing (make deps)"; exit 1; }
done
check "namespaces, veth pairs and the mirror port are set up" ns_setup
ns_bg "$NS_S" "$DRIVE" server "$S4" "$S6" >"$d/server.out"
check "the test server listens" wait_for "$d/server.out" ready 5

KINDS=(graceful refused reset-client reset-server fin-reset unanswered half-closed
	orphan-rst syn-reset)
# close, rst_by, syn, synack, fin_clt, fin_srv, rst_clt > 0, rst_srv > 0
declare -A WANT=(
	[graceful]='["graceful","-",1,1,1,1,false,false]'
	[refused]='["refused","srv",1,0,0,0,false,true]'
	[reset-client]='["reset-client","clt",1,1,0,0,true,false]'
	[reset-server]='["reset-server","srv",1,1,0,0,false,true]'
	[fin-reset]='["fin-reset","clt",1,1,1,0,true,false]'
	[unanswered]='["unanswered","-",1,0,0,0,false,false]'
	[half-closed]='["half-closed","-",1,1,1,0,false,false]'
	[orphan-rst]='["orphan-rst","clt",0,0,0,0,true,false]'
	[syn-reset]='["syn-reset","clt",1,0,0,0,true,false]'
)
SYN_TIMEOUT=2 IDLE_TIMEOUT=3
PORT=41000	# each run takes fresh client ports: no TIME_WAIT reuse between runs

# drive: every kind, IPv4 then IPv6, from client ports PORT+i and PORT+100+i
drive() {
	local i=0 k
	for k in "${KINDS[@]}"; do
		ip netns exec "$NS_C" "$DRIVE" client "$k" "$S4" $((PORT + i)) "$X4" || return 1
		ip netns exec "$NS_C" "$DRIVE" client "$k" "$S6" $((PORT + 100 + i)) "$X6" || return 1
		i=$((i + 1))
	done
}

# watch_run NAME NS DEV ARGS...: capture and watch NS/DEV while driving; leaves
# $d/NAME.json, .err, .pcap and the watch exit status in $d/NAME.rc
watch_run() {
	local name=$1 ns=$2 dev=$3 wpid tpid
	shift 3
	ip netns exec "$ns" tcpdump -i "$dev" -U -w "$d/$name.pcap" tcp 2>"$d/$name.tcpdump" &
	tpid=$!
	wait_for "$d/$name.tcpdump" "listening on" 10 || return 1
	# CT_ENV: settings of this run (CLOSETRACE_DISABLE=scan-iter)
	ip netns exec "$ns" env ${CT_ENV:-} "$CT" -v watch -i "$dev" -o json --all \
		--syn-timeout $SYN_TIMEOUT \
		--idle-timeout $IDLE_TIMEOUT "$@" >"$d/$name.json" 2>"$d/$name.err" &
	wpid=$!
	wait_for "$d/$name.err" "watching" 10 || { kill $tpid; return 1; }
	note_ids "$ns" "$dev"
	note_progs $wpid
	drive || echo "# driver failed" >&3
	# unanswered after SYN_TIMEOUT, half-closed after IDLE_TIMEOUT, scans once a second
	sleep $((IDLE_TIMEOUT + 3))
	kill -INT $wpid
	wait $wpid
	echo $? >"$d/$name.rc"
	sleep 0.3	# let tcpdump write what it has
	kill -INT $tpid
	wait $tpid
	PORT=$((PORT + 200))
	return 0
}

# events NAME BASE: one record per connection with the expected kind and counts
check_events() {
	local name=$1 base=$2 i=0 k p got fam
	[ "$(cat "$d/$name.rc")" = 0 ] || { echo "watch exited $(cat "$d/$name.rc")"; return 1; }
	jq -e . "$d/$name.json" >/dev/null || return 1
	for k in "${KINDS[@]}"; do
		for fam in 0 100; do
			p=$((base + fam + i))
			got=$(jq -c "select(.clt_port == $p) | [.close, .rst_by, .syn, .synack, .fin_clt,
				.fin_srv, .rst_clt > 0, .rst_srv > 0]" "$d/$name.json")
			if [ "$got" != "${WANT[$k]}" ]; then
				echo "$k (client port $p): got '${got//$'\n'/ | }', want ${WANT[$k]}"
				return 1
			fi
		done
		i=$((i + 1))
	done
}

# final NAME BASE: the kinds again, and every flow's counts equal tshark's on the capture
check_final() {
	local name=$1 base=$2
	check_events "$name" "$base" || return 1
	[ "$(jq -r .type "$d/$name.json" | sort -u)" = flow ] || return 1
	"$COUNTS" "$d/$name.pcap" >"$d/$name.tshark" || return 1
	jq -r '[.clt_ip, .clt_port, .srv_ip, .srv_port, .syn, .synack, .fin_clt, .fin_srv,
		.rst_clt, .rst_srv, .pkts_clt, .pkts_srv] | @tsv' "$d/$name.json" |
	awk -F'\t' -v T="$d/$name.tshark" '
		BEGIN {
			while ((getline l < T) > 0) {
				split(l, f, "\t")
				k = f[3] " " f[4] " " f[5] " " f[6]
				pk[k] = f[7]; sy[k] = f[8]; sa[k] = f[9]; fi[k] = f[10]; rs[k] = f[11]
			}
		}
		{
			c = $1 " " $2 " " $3 " " $4; s = $3 " " $4 " " $1 " " $2
			if (!(c in pk) && !(s in pk)) { print "no capture for " c; bad = 1; next }
			want = (sy[c] + sy[s]) " " (sa[c] + sa[s]) " " fi[c] + 0 " " fi[s] + 0 " " \
			       rs[c] + 0 " " rs[s] + 0 " " pk[c] + 0 " " pk[s] + 0
			got = $5 " " $6 " " $7 " " $8 " " $9 " " $10 " " $11 " " $12
			if (got != want) { print c ": closetrace " got ", tshark " want; bad = 1 }
			n++
		}
		END { if (n != 18) { print n " flows, want 18"; bad = 1 }; exit bad }'
}


# scan_path NAME WANT: the expiry scans of run NAME took path WANT (cut or lookups)
scan_path() {
	local got
	got=$(scan_path_of "$d/$1.err")
	echo "# $1: expiry scans by $got${CT_ENV:+ ($CT_ENV)}" >&3
	[ "$got" = "$2" ]
}

# --- the close kinds, in every attach mode ---------------------------------------------
mode_runs() {
	local tag=$1 ns=$2 dev=$3 base want
	shift 3
	base=$PORT
	want=$(scan_path_want ${CT_ENV:-})
	watch_run "$tag" "$ns" "$dev" "$@"
	check "$tag: every close kind, IPv4 and IPv6, as events with their counts" \
		check_events "$tag" "$base"
	# unanswered and half-closed come from the expiry scans: by the path this machine gives
	check "$tag: the expiry scans took the path this kernel gives ($want)" \
		scan_path "$tag" "$want"
	# kernel closes and those the scan decides (unanswered, half-closed) alike
	check "$tag: every record names the interface" \
		test "$(jq -r .iface "$d/$tag.json" | sort -u)" = "$dev"
	base=$PORT
	watch_run "$tag-final" "$ns" "$dev" --final "$@"
	check "$tag: every flow's final counts equal tshark's on a capture of the port" \
		check_final "$tag-final" "$base"
	check "$tag: nothing left attached after SIGINT" no_leftovers
}
mode_runs tc "$NS_S" s0
# the other path of the expiry scans, forced: both are tested on every machine
CT_ENV=CLOSETRACE_DISABLE=scan-iter mode_runs tc-lookups "$NS_S" s0
mode_runs xdp-native "$NS_M" m1 --mode xdp --xdp-mode native
mode_runs xdp-generic "$NS_M" m1 --mode xdp --xdp-mode generic

# VLAN: the mirror's copies carry tag 100 in skb metadata, as from a trunk with offload
ns_tag_mirror "$HELPERS"
base=$PORT
watch_run vlan "$NS_M" m1
check "vlan (tag in metadata, tc): every close kind, IPv4 and IPv6" check_events vlan "$base"
t_vlan_id() { [ "$(jq -r .vlan "$d/vlan.json" | sort -u)" = 100 ]; }
check "vlan: every record carries VLAN 100" t_vlan_id
# XDP cannot see a tag held in skb metadata (veth offers no RX-metadata kfunc): the
# closes are still right, the VLAN id is 0
base=$PORT
watch_run vlan-xdp "$NS_M" m1 --mode xdp --xdp-mode generic
check "vlan (tag in metadata, xdp): every close kind still classified" \
	check_events vlan-xdp "$base"
ns_untag_mirror

# --- attaching and detaching ---------------------------------------------------------------
# start_watch NAME NS ARGS...: a background watch; its pid in $WPID
start_watch() {
	local name=$1 ns=$2
	shift 2
	ip netns exec "$ns" "$CT" -v watch "$@" >"$d/$name.out" 2>"$d/$name.err" &
	WPID=$!
	wait_for "$d/$name.err" "watching" 10 || return 1
	note_progs $WPID
	[ "$1" = -i ] && note_ids "$ns" "${2%%,*}"
	return 0
}

# XDP sees ingress only: on s0, which carries the server's own traffic (it has S4), it says
# so in one sentence; on the mirror port m1 (no address) it says nothing
t_xdp_half() {
	grep -q "xdp sees only what arrives" "$d/xdp-native.err" &&
		{ echo "warned on the mirror port"; return 1; }
	start_watch xh "$NS_S" -i s0 --mode xdp --xdp-mode generic || return 1
	kill -INT $WPID
	wait $WPID || return 1
	grep "xdp sees only" "$d/xh.err" | sed 's/^/# /' >&3
	[ "$(grep -c "^closetrace: s0: --mode xdp sees only what arrives on it, and it carries this host's own traffic (it has $S4)" "$d/xh.err")" = 1 ]
}
check "--mode xdp on an interface with the host's address warns once; on a mirror port, not" \
	t_xdp_half

# A connection already running when watch starts: marked midstream everywhere, and its
# roles right (the client's port is ephemeral, the server's 8002 is not) even where only
# the server's RST is seen: XDP on the client's interface sees what arrives, the RST first
t_midstream() {
	local p=45311
	ip netns exec "$NS_C" "$DRIVE" client midstream "$S4" $p &
	local drv=$!
	sleep 0.3
	start_watch mid "$NS_S" -i s0 -o json || return 1
	wait $drv || return 1
	sleep 0.5
	kill -INT $WPID
	wait $WPID || return 1
	jq -c "select(.clt_port == $p)" "$d/mid.out" | sed 's/^/# tc: /' >&3
	[ "$(jq -r "select(.clt_port == $p) | \"\(.close) \(.rst_by) \(.midstream) \(.srv_port)\"" \
		"$d/mid.out")" = "reset-server srv true 8002" ] || return 1
	# the client's side in XDP mode: only the server's packets arrive, its RST first
	p=45312
	ip netns exec "$NS_C" "$DRIVE" client midstream "$S4" $p &
	drv=$!
	sleep 0.3
	start_watch midx "$NS_C" -i c0 --mode xdp --xdp-mode generic -o json --all || return 1
	wait $drv || return 1
	sleep 0.5
	kill -INT $WPID
	wait $WPID || return 1
	jq -c "select(.clt_port == $p or .srv_port == $p)" "$d/midx.out" | sed 's/^/# xdp: /' >&3
	[ "$(jq -r "select(.clt_port == $p) | \"\(.clt_ip) \(.srv_ip):\(.srv_port) \(.rst_by) \(.midstream)\"" \
		"$d/midx.out")" = "$C4 $S4:8002 srv true" ] &&
	[ -z "$(jq -r "select(.srv_port == $p)" "$d/midx.out")" ]
}
check "a flow joined midstream: marked so, roles from the ports, never swapped (tc; xdp seeing only the RST)" \
	t_midstream

# watch says what it watches, how, and how to see every close; at the end, what ended;
# -q says neither
t_start_summary() {
	start_watch say "$NS_S" -i s0 || return 1
	ns_drive_refused() { ip netns exec "$NS_C" "$DRIVE" client refused "$S4" "$1"; }
	ns_drive_refused 45301 && ns_drive_refused 45302 || return 1
	sleep 0.5
	kill -INT $WPID
	wait $WPID || return 1
	grep '^closetrace: watching\|connections ended' "$d/say.err" | sed 's/^/# /' >&3
	grep -qx "closetrace: watching s0 (tc: both directions of this host's traffic) for abnormal closes (--all: every close); Ctrl-C stops" "$d/say.err" &&
		grep -q '^closetrace: 2 connections ended: 2 refused (2 abnormal); 2 records printed$' "$d/say.err" || return 1
	ip netns exec "$NS_S" "$CT" watch -q -i s0 >"$d/q.out" 2>"$d/q.err" &
	local q=$!
	sleep 1.5
	kill -INT $q
	wait $q && [ ! -s "$d/q.err" ]
}
check "watch: one start line and one summary line on stderr; -q, none" t_start_summary

# make demo: every kind of close, IPv4 and IPv6, in lines that fit 120 columns; its
# namespaces gone afterwards
t_demo() {
	"$here/../../examples/demo.sh" >"$d/demo.out" 2>"$d/demo.err" </dev/null || { cat "$d/demo.err"; return 1; }
	local kind width ns
	width=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' "$d/demo.out" "$d/demo.err")
	echo "# make demo: $(grep -c '^[0-9:]\{8\} s0 ' "$d/demo.out") closes, the widest line $width columns" >&3
	[ "$width" -le 120 ] || { awk 'length($0) > 120' "$d/demo.out"; return 1; }
	for kind in graceful refused reset-client reset-server fin-reset unanswered half-closed \
		orphan-rst syn-reset; do
		[ "$(grep -c "^[0-9:]\{8\} s0 \+$kind " "$d/demo.out")" = 2 ] ||
			{ echo "$kind: not once per family"; cat "$d/demo.out"; return 1; }
	done
	for ns in $(grep -o 'ct-[cs]-[0-9a-f]*' "$d/demo.out" | sort -u); do
		! ip netns list | grep -qw "$ns" || { echo "$ns left behind"; return 1; }
	done
}
check "make demo: every kind of close for IPv4 and IPv6, no line over 120 columns, nothing left" t_demo

t_second_instance() {
	local rc1 rc2
	start_watch first "$NS_S" -i s0 || return 1
	# a second watch views the first's session (test_viewers.sh tests that at length)
	timeout --preserve-status -s INT 2 ip netns exec "$NS_S" "$CT" watch -i s0 >/dev/null \
		2>"$d/viewer.err"
	rc1=$?
	# one that asks for an agent of its own (--metrics) is refused in one sentence
	ip netns exec "$NS_S" "$CT" watch -i s0 --metrics 19464 >/dev/null 2>"$d/second.err"
	rc2=$?
	kill -TERM $WPID
	wait $WPID
	[ $rc1 = 0 ] && grep -q "^closetrace: viewing s0 through the agent watching it" \
		"$d/viewer.err" && [ $rc2 = 1 ] &&
		grep -q "another closetrace is already watching" "$d/second.err" ||
		{ cat "$d/viewer.err" "$d/second.err"; return 1; }
}
check "a second closetrace on the same interface: a viewer of the first; with --metrics, one sentence, exit 1" \
	t_second_instance

t_foreign_xdp() {
	ip netns exec "$NS_M" ip link set dev m1 xdpgeneric obj "$HELPERS" sec xdp || return 1
	ip netns exec "$NS_M" "$CT" watch -i m1 --mode xdp >/dev/null 2>"$d/foreign.err"
	local rc=$?
	grep -q "XDP program 'other_tool'" "$d/foreign.err" && [ $rc = 1 ] || return 1
	# still there, untouched
	ip -n "$NS_M" link show m1 | grep -q xdp || return 1
	start_watch forced "$NS_M" -i m1 --mode xdp --force || return 1
	grep -q "replaced XDP program 'other_tool'" "$d/forced.err" || return 1
	kill -INT $WPID
	wait $WPID
	! ip -n "$NS_M" link show m1 | grep -q xdp
}
check "another tool's XDP program is named and left alone; --force replaces it" t_foreign_xdp

t_down() {
	ip -n "$NS_M" link add z0 type veth peer name z1 || return 1
	ip netns exec "$NS_M" "$CT" watch -i z0 2>"$d/down.err"
	local rc=$?
	ip -n "$NS_M" link del z0
	[ $rc = 1 ] && grep -q "z0: interface is down" "$d/down.err"
}
check "an interface that is down: one sentence, exit 1" t_down

t_nosuch() {
	ip netns exec "$NS_M" "$CT" watch -i nosuch0 2>"$d/nosuch.err"
	[ $? = 1 ] && grep -qx "closetrace: nosuch0: no such interface" "$d/nosuch.err"
}
check "no such interface: one sentence, exit 1" t_nosuch

t_unprivileged() {
	# a copy nobody can reach, wherever the clone lives
	mkdir -p "$d/pub" && cp "$CT" "$d/pub/closetrace" && chmod 755 "$d" "$d/pub" || return 1
	ip netns exec "$NS_M" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all "$d/pub/closetrace" watch -i m1 2>"$d/priv.err"
	[ $? = 1 ] && [ "$(wc -l <"$d/priv.err")" = 1 ] &&
		grep -q "^closetrace: loading and attaching BPF needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN; this process lacks CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (run as root" \
		"$d/priv.err"
}
check "without privileges: one sentence saying what is needed, exit 1" t_unprivileged

t_usage() {
	ip netns exec "$NS_M" "$CT" watch -i m1 --mode bpf 2>"$d/usage.err"
	[ $? = 2 ] && grep -q "try 'closetrace watch --help'" "$d/usage.err"
}
check "a usage error exits 2" t_usage

t_disappear() {
	ip -n "$NS_M" link add y0 type veth peer name y1 || return 1
	ip -n "$NS_M" link set y0 up
	ip -n "$NS_M" link set y1 up
	start_watch gone "$NS_M" -i m1,y0 || return 1
	ip -n "$NS_M" link del y0
	wait_for "$d/gone.err" "y0: interface disappeared" 5 || return 1
	kill -0 $WPID || return 1	# the other interface keeps it going
	ip -n "$NS_M" link add w0 type veth peer name w1
	ip -n "$NS_M" link set w0 up
	ip -n "$NS_M" link set w1 up
	kill -INT $WPID
	wait $WPID
	start_watch last "$NS_M" -i w0 || return 1
	ip -n "$NS_M" link del w0
	wait $WPID
	local rc=$?
	[ $rc = 1 ] && grep -q "no interface left to watch" "$d/last.err"
}
check "an interface that disappears is reported; the watch ends when none is left" t_disappear

t_signals() {
	start_watch sig "$NS_S" -i s0 || return 1
	kill -TERM $WPID
	wait $WPID || return 1
	no_leftovers || return 1
	# with no terminal (a service), SIGHUP does not stop it: SIGINT does
	start_watch sig "$NS_S" -i s0 || return 1
	kill -HUP $WPID
	sleep 0.5
	kill -0 $WPID || { echo "SIGHUP stopped a watch without a terminal"; return 1; }
	kill -INT $WPID
	wait $WPID && no_leftovers || return 1
	# with a terminal (script makes one), SIGHUP says it went away: the watch ends
	ip netns exec "$NS_S" script -qfec "$CT -v watch -i s0" /dev/null >"$d/tty.out" 2>&1 &
	local sp=$! pid i
	wait_for "$d/tty.out" watching 10 || return 1
	pid=$(pgrep -n -f "^$CT -v watch -i s0$") || return 1
	note_ids "$NS_S" s0
	kill -HUP "$pid"
	for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	wait $sp
	! kill -0 "$pid" 2>/dev/null && grep -q "stopped by signal 1" "$d/tty.out" && no_leftovers
}
check "SIGTERM detaches and exits 0; SIGHUP ends a watch with a terminal, not one without" t_signals

t_kill9() {
	start_watch k9 "$NS_S" -i s0 || return 1
	kill -KILL $WPID
	wait $WPID 2>/dev/null
	sleep 0.2
	echo "# attached by $NOTED_HOOKS" >&3
	# the socket it shared its session through stays: cleanup removes it
	ip netns exec "$NS_S" "$CT" cleanup -i s0 >"$d/k9.out" || return 1
	case $NOTED_HOOKS in
	*tcx*)	# tcx links die with the process
		no_leftovers && ! grep -q "removed .* attachment" "$d/k9.out" ;;
	*)	# a kernel without tcx: the netlink filters stay until cleanup removes them
		grep -q "s0: removed 2" "$d/k9.out" && no_leftovers ;;
	esac || { cat "$d/k9.out"; return 1; }
	grep -q "^s0: removed 1 socket a killed closetrace left in " "$d/k9.out" &&
		ip netns exec "$NS_S" "$CT" cleanup -i s0 | grep -q "nothing to clean up" ||
		{ cat "$d/k9.out"; return 1; }
}
check "kill -9 leaves nothing behind (tcx links die with the process; netlink filters and the viewers' socket go with cleanup)" \
	t_kill9

# the classic netlink path, as on kernels before tcx
qdiscs() { ip netns exec "$NS_M" tc qdisc show dev "$1" | grep -c clsact; }
t_netlink() {
	ip -n "$NS_M" link add v0 type veth peer name v1 && ip -n "$NS_M" link set v0 up &&
		ip -n "$NS_M" link set v1 up || return 1
	CLOSETRACE_DISABLE=tcx start_watch nl "$NS_M" -i v0 || return 1
	grep -q "attached through netlink tc (clsact added)" "$d/nl.err" || return 1
	[ "$(ip netns exec "$NS_M" tc filter show dev v0 ingress | grep -c 'ct_tc')" = 1 ] ||
		return 1
	kill -INT $WPID
	wait $WPID || return 1
	[ "$(qdiscs v0)" = 0 ] || { echo "clsact left behind"; return 1; }
	# a qdisc that was there before stays; only the filters go
	ip netns exec "$NS_M" tc qdisc add dev v0 clsact
	CLOSETRACE_DISABLE=tcx start_watch nl2 "$NS_M" -i v0 || return 1
	kill -INT $WPID
	wait $WPID || return 1
	[ "$(qdiscs v0)" = 1 ] &&
		[ -z "$(ip netns exec "$NS_M" tc filter show dev v0 ingress)" ] || return 1
	# a killed instance leaves its filters: cleanup removes them
	CLOSETRACE_DISABLE=tcx start_watch nl3 "$NS_M" -i v0 || return 1
	kill -KILL $WPID
	wait $WPID 2>/dev/null
	ip netns exec "$NS_M" "$CT" watch -i v0 2>"$d/nl4.err"
	grep -q "closetrace cleanup -i v0 removes it" "$d/nl4.err" || return 1
	ip netns exec "$NS_M" "$CT" cleanup -i v0 | grep -q "v0: removed 2" || return 1
	[ -z "$(ip netns exec "$NS_M" tc filter show dev v0 ingress)" ] &&
		[ -z "$(ip netns exec "$NS_M" tc filter show dev v0 egress)" ]
}
check "netlink tc fallback: own filters removed, clsact only if ours; cleanup after kill -9" \
	t_netlink

t_head() {
	# a reader that goes away: watch ends quietly the next time it has something to write
	local i rc
	mkfifo "$d/fifo"
	head -1 <"$d/fifo" >"$d/head.out" &
	ip netns exec "$NS_S" "$CT" -v watch -i s0 -o json >"$d/fifo" 2>"$d/head.err" &
	WPID=$!
	wait_for "$d/head.err" "watching" 10 || return 1
	note_ids "$NS_S" s0
	for ((i = 0; i < 20; i++)); do
		kill -0 $WPID 2>/dev/null || break
		ip netns exec "$NS_C" "$DRIVE" client refused "$S4" $((45001 + i)) || return 1
		sleep 0.1
	done
	wait $WPID
	rc=$?
	[ $rc = 0 ] && [ "$(jq -r .close "$d/head.out")" = refused ] && no_leftovers
}
check "a reader that goes away (| head -1) ends watch cleanly" t_head

t_stalled() {
	# a reader that stays but never reads: the pipe fills, the session goes on (its
	# metrics count every close), and SIGTERM still ends watch at once
	local i t0 t1 rc n
	mkfifo "$d/stall"
	sleep 60 <"$d/stall" &
	local reader=$!
	ip netns exec "$NS_S" "$CT" -v watch -i s0 --all -o json --metrics 9464 >"$d/stall" \
		2>"$d/stall.err" &
	WPID=$!
	wait_for "$d/stall.err" "watching" 10 || return 1
	note_ids "$NS_S" s0
	# 200 refusals, about 580 bytes of JSON each: well past the pipe's 64 KiB
	for ((i = 0; i < 200; i++)); do
		ip netns exec "$NS_C" "$DRIVE" client refused "$S4" $((46001 + i)) || return 1
	done
	sleep 1.5
	n=$(ip netns exec "$NS_S" curl -s http://127.0.0.1:9464/metrics |
		sed -n 's/^closetrace_closes_total{iface="s0",close="refused"} //p')
	t0=$(date +%s%N)
	kill -TERM $WPID
	wait $WPID
	rc=$?
	t1=$(date +%s%N)
	kill $reader 2>/dev/null
	echo "# stdout stalled: $n refusals counted meanwhile; SIGTERM to exit $(((t1 - t0) / 1000000)) ms; $(tail -1 "$d/stall.err")" >&3
	[ "$n" = 200 ] && [ $rc = 0 ] && [ $(((t1 - t0) / 1000000)) -lt 1000 ] &&
		grep -q "records were dropped: stdout did not take them" "$d/stall.err" && no_leftovers
}
check "a reader that stops reading: closes still counted, SIGTERM ends watch within 1 s" \
	t_stalled

done_testing
