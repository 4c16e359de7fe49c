#!/usr/bin/env bash
# run.sh - `make bench`: every measurement beside its baseline, taken in the same run, on
# this machine; prints one table (and writes it to build/bench.txt). Never part of make
# test; numbers are reported, not asserted. Uses network namespaces it makes and removes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$here/../..
. "$top/tests/e2e/netns.sh"
B=$top/build/tests/ctbench
CT=$top/build/closetrace
DRIVE=$top/build/tests/tcpdrive
FLOOR=$top/build/bpf/floor.bpf.o
out=$(mktemp -d "${TMPDIR:-/tmp}/closetrace-bench.XXXXXX")
trap 'ns_teardown; rm -rf "$out"' EXIT
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
T=$top/build/bench.txt
: >"$T"
row() { printf '%-44s %12s %12s %9s\n' "$@" | tee -a "$T"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
say() { echo "# $*" >&2; }
# BENCH_ONLY=churn,replay runs only those sections (pktcost live livect churn flood events
# scan scanguest metrics memory replay); the bodies below are left unindented under their `if want`
want() { [ -z "${BENCH_ONLY:-}" ] || [[ ",$BENCH_ONLY," == *",$1,"* ]]; }
# the kernel's own per-flow tracker as a peer: an nftables `ct state` rule in namespace NS
# makes nf_conntrack track every connection there, and counts the ones it sees begin (ct_new);
# its table is emptied before each run (ct_flush), so that the entries of one run (120 s in
# TIME_WAIT) do not fill it for the next
ct_rule() {	# ct_rule NS on|off
	if [ "$2" = on ]; then
		printf 'table inet ctbench {\n chain in {\n  %s\n  %s\n  %s\n }\n}\n' \
			'type filter hook input priority 0; policy accept;' \
			'ct state established,related accept' 'ct state new counter accept' |
			ip netns exec "$1" nft -f -
	else
		ip netns exec "$1" nft delete table inet ctbench 2>/dev/null
	fi
}
ct_flush() { ip netns exec "$1" conntrack -F >/dev/null 2>&1; }
ct_count() { ip netns exec "$1" cat /proc/sys/net/netfilter/nf_conntrack_count; }
ct_new() { ip netns exec "$1" nft list table inet ctbench | awk '/counter/ {print $(NF-3)}'; }

row "measurement" "closetrace" "baseline" "ratio"

# --- 1. per-packet cost ---------------------------------------------------------------------
if want pktcost; then
say "per-packet cost (BPF_PROG_TEST_RUN)"
"$B" pktcost >"$out/pkt" || exit 1
plus() { awk -v a="$1" -v b="$2" 'BEGIN{printf "+%.0f", a-b}'; }
while read -r kind a b c d; do
	case $kind in
	pkt)	# pkt PROG WHAT NS FLOOR
		row "ns/pkt $a $b (floor)" "$c" "$d" "$(plus "$c" "$d")" ;;
	bare)	# bare NS FLOOR: the same SYNs into the kernel's hash map alone (XDP hook)
		row "  the hash map's insert alone, xdp (floor)" "$a" "$b" "$(plus "$a" "$b")" ;;
	slot)	# slot NS192 NS64 FLOOR: the same SYNs each taking over an array's slot
		row "  an array's 192-byte slot taken (floor)" "$a" "$c" "$(plus "$a" "$c")"
		row "  an array's 64-byte slot taken (floor)" "$b" "$c" "$(plus "$b" "$c")" ;;
	set)	# set NS FLOOR: the same SYNs each claiming a slot in a set of four
		row "  a slot claimed in a set of four (floor)" "$a" "$b" "$(plus "$a" "$b")" ;;
	mix)	# mix PROG FLOWS NS FLOOR
		row "ns/pkt $a mix of $b flows (floor)" "$c" "$d" "$(plus "$c" "$d")" ;;
	mixvx)	# mixvx PROG FLOWS NS FLOOR: the same, each flow inside VXLAN
		row "ns/pkt $a mix of $b flows in VXLAN (floor)" "$c" "$d" "$(plus "$c" "$d")" ;;
	esac
done <"$out/pkt"
fi

# --- 2. live packet rate ------------------------------------------------------------------
# a generator namespace G sends frames out of g0 (XDP live frames) to g1 in namespace R,
# where the program under test runs; delivered = packets g1 received per second
G=ct-bg-$$ R=ct-br-$$
ip netns add $G && ip netns add $R || exit 1
NS_EXTRA="$G $R"
trap 'for p in ${WPID:-} ${TPID:-} ${MPID:-}; do kill "$p" 2>/dev/null; wait "$p"; done
	ns_teardown; ip netns del $G 2>/dev/null; ip netns del $R 2>/dev/null; rm -rf "$out"' EXIT
ip link add g0 netns $G type veth peer name g1 netns $R
ip -n $G link set g0 up && ip -n $R link set g1 up
ip -n $G link set lo up && ip -n $R link set lo up
# veth accepts XDP_TX only towards a peer with NAPI: GRO on the receiving end gives it
ip netns exec $R ethtool -K g1 gro on >/dev/null 2>&1
rxpk() { ip -n $R -s -j link show g1 | jq '.[0].stats64.rx.packets'; }
PKTS=${BENCH_PKTS:-3000000}
REPS=${BENCH_REPS:-3}
live() {	# live FLOWS [vxlan]: Mpps delivered into g1 (vxlan: each frame inside VXLAN)
	local a b t
	a=$(rxpk)
	t=$(ip netns exec $G "$B" gen g0 "$1" "$PKTS" ${2:-} | awk '{print $3}')
	b=$(rxpk)
	awk -v n=$((b - a)) -v t="$t" 'BEGIN { printf "%.2f", n / t / 1e6 }'
}
cfg_failed() {	# cfg_failed NAME LOG: a configuration that did not start ends the bench
	say "bench: $1 did not start: $(tail -3 "$out/$2")"
	exit 1
}
config() {	# config NAME: put NAME on g1
	ip netns exec $R tc qdisc del dev g1 clsact 2>/dev/null
	ip -n $R link set g1 xdp off 2>/dev/null
	[ -n "${WPID:-}" ] && { kill -INT "$WPID"; wait "$WPID" 2>/dev/null; WPID=; }
	[ -n "${TPID:-}" ] && { kill -INT "$TPID"; wait "$TPID" 2>/dev/null; TPID=; }
	[ -n "${MPID:-}" ] && { kill -INT "$MPID"; wait "$MPID" 2>/dev/null; MPID=; }
	local v
	for v in ${VPIDS:-}; do kill -INT "$v"; wait "$v" 2>/dev/null; done
	VPIDS=
	# emptied here, not by the new process's redirection: it might come after the first look
	: >"$out/w"
	: >"$out/m"
	: >"$out/td"
	case $1 in
	none) ;;
	tc-floor) ip netns exec $R tc qdisc add dev g1 clsact &&
		ip netns exec $R tc filter add dev g1 ingress bpf da obj "$FLOOR" sec tc ;;
	xdp-floor) ip -n $R link set g1 xdpdrv obj "$FLOOR" sec xdp ;;
	tcpdump) ip netns exec $R tcpdump -i g1 -w /dev/null \
			'tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0' 2>"$out/td" & TPID=$!
		wait_for "$out/td" "listening on" 10 || cfg_failed "$1" td ;;
	ct-tc) ip netns exec $R "$CT" -v watch -i g1 -o json --table-size 2097152 >/dev/null \
			2>"$out/w" & WPID=$!
		wait_for "$out/w" watching 10 || cfg_failed "$1" w ;;
	ct-xdp) ip netns exec $R "$CT" -v watch -i g1 --mode xdp --xdp-mode native -o json \
			--table-size 2097152 >/dev/null 2>"$out/w" & WPID=$!
		wait_for "$out/w" watching 10 || cfg_failed "$1" w ;;
	# the same with the expiry scans' fallback forced: batched lookups of every entry
	ct-tc-lookups) ip netns exec $R env CLOSETRACE_DISABLE=scan-iter "$CT" -v watch -i g1 \
			-o json --table-size 2097152 >/dev/null 2>"$out/w" & WPID=$!
		wait_for "$out/w" watching 10 || cfg_failed "$1" w ;;
	ct-xdp-lookups) ip netns exec $R env CLOSETRACE_DISABLE=scan-iter "$CT" -v watch -i g1 \
			--mode xdp --xdp-mode native -o json --table-size 2097152 >/dev/null \
			2>"$out/w" & WPID=$!
		wait_for "$out/w" watching 10 || cfg_failed "$1" w ;;
	# the same with the default table (131072 flows), as a user watching 10K flows runs it
	ct-tc-d) ip netns exec $R "$CT" -v watch -i g1 -o json >/dev/null 2>"$out/w" & WPID=$!
		wait_for "$out/w" watching 10 || cfg_failed "$1" w ;;
	ct-xdp-d) ip netns exec $R "$CT" -v watch -i g1 --mode xdp --xdp-mode native -o json \
			>/dev/null 2>"$out/w" & WPID=$!
		wait_for "$out/w" watching 10 || cfg_failed "$1" w ;;
	# the default table, not shared (--no-agent: no socket, graceful closes not reported)
	ct-tc-ns) ip netns exec $R "$CT" -v watch -i g1 -o json --no-agent >/dev/null \
			2>"$out/w" & WPID=$!
		wait_for "$out/w" watching 10 || cfg_failed "$1" w ;;
	# ... and shared, with three viewers reading it: watch -o json, top -b, diagnose
	ct-tc-v3) ip netns exec $R env CLOSETRACE_RUN_DIR="$out/run" "$CT" -v watch -i g1 -o json \
			>/dev/null 2>"$out/w" & WPID=$!
		wait_for "$out/w" watching 10 || cfg_failed "$1" w
		ip netns exec $R env CLOSETRACE_RUN_DIR="$out/run" "$CT" watch -i g1 -o json >/dev/null 2>&1 &
		VPIDS="$!"
		ip netns exec $R env CLOSETRACE_RUN_DIR="$out/run" "$CT" top -i g1 -b -d 1 -n 100000 >/dev/null 2>&1 &
		VPIDS="$VPIDS $!"
		ip netns exec $R env CLOSETRACE_RUN_DIR="$out/run" "$CT" diagnose -i g1 -o json >/dev/null 2>&1 &
		VPIDS="$VPIDS $!"
		local i
		for ((i = 0; i < 100; i++)); do
			[ "$(grep -c 'share: a viewer' "$out/w")" -ge 3 ] && break
			sleep 0.1
		done
		[ "$(grep -c 'share: a viewer' "$out/w")" -ge 3 ] || cfg_failed "$1" w ;;
	# a flow table alone (a lookup, an insert when new, a count in the value): the kernel's
	# hash map with closetrace's 40-byte key or an IPv4-only 16-byte one, an array of 192-
	# or 64-byte slots, or of sets of four 64-byte slots (map40-tc, map16-xdp-d,
	# mapslots-tc, maphot-xdp-d, mapsets-tc, ...); "-d": the default table's size,
	# otherwise watch's 2M
	map*) local m=${1#map} n=2097152
		[[ $m == *-d ]] && n=131072
		m=${m%-d}
		ip netns exec $R "$B" table g1 "${m#*-}" "${m%%-*}" $n 2>"$out/m" & MPID=$!
		wait_for "$out/m" attached 20 || cfg_failed "$1" m ;;
	esac
	# which way watch's expiry scans went (the kernel's cut, or batched lookups)
	case $1 in ct-*)
		if grep -q "expiry scans go through the kernel's cut" "$out/w"; then
			SCANS[$1]=cut
		else
			SCANS[$1]=lookups
		fi ;;
	esac
}
declare -A SCANS
# this VM's rate moves by +-30 % from run to run: configurations are interleaved, each
# measured REPS times, and the median kept
declare -A RUNS MPPS
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
if want live; then
say "live packet rate ($PKTS frames per run, median of $REPS interleaved runs)"
for ((rep = 0; rep < REPS; rep++)); do
	for cfg in none tc-floor tcpdump ct-tc ct-tc-lookups ct-tc-d ct-tc-ns ct-tc-v3 map40-tc \
		map40-tc-d map16-tc map16-tc-d \
		mapslots-tc mapslots-tc-d maphot-tc maphot-tc-d mapsets-tc mapsets-tc-d xdp-floor \
		ct-xdp ct-xdp-lookups ct-xdp-d map40-xdp map40-xdp-d map16-xdp map16-xdp-d mapslots-xdp \
		mapslots-xdp-d maphot-xdp maphot-xdp-d mapsets-xdp mapsets-xdp-d; do
		config $cfg
		for f in 1 10000 1000000; do
			# a million flows do not fit the default table
			[[ $cfg == *-d && $f == 1000000 ]] && continue
			# the scans' fallback matters with many flows only
			[[ $cfg == *-lookups && $f != 1000000 ]] && continue
			# the map alone: at its watch's size, a 2M table only where watch needs it
			[[ $cfg == map* && $cfg != *-d && $f != 1000000 ]] && continue
			RUNS[$cfg.$f]="${RUNS[$cfg.$f]:-} $(live $f)"
		done
		# 10K flows inside VXLAN, as the default table takes them
		case $cfg in tc-floor|xdp-floor|ct-tc-d|ct-xdp-d)
			RUNS[$cfg.vx]="${RUNS[$cfg.vx]:-} $(live 10000 vxlan)" ;;
		esac
	done
done
config none
for k in "${!RUNS[@]}"; do
	MPPS[$k]=$(median <<<"${RUNS[$k]}")
done
for f in 1 10000 1000000; do
	row "Mpps $f flows: tc (tc floor)" "${MPPS[ct-tc.$f]}" "${MPPS[tc-floor.$f]}" \
		"$(ratio "${MPPS[ct-tc.$f]}" "${MPPS[tc-floor.$f]}")"
	row "Mpps $f flows: tcpdump SYN/FIN/RST (tc floor)" "${MPPS[tcpdump.$f]}" \
		"${MPPS[tc-floor.$f]}" "$(ratio "${MPPS[tcpdump.$f]}" "${MPPS[tc-floor.$f]}")"
	row "Mpps $f flows: xdp (xdp floor)" "${MPPS[ct-xdp.$f]}" "${MPPS[xdp-floor.$f]}" \
		"$(ratio "${MPPS[ct-xdp.$f]}" "${MPPS[xdp-floor.$f]}")"
	if [ "$f" = 1000000 ]; then
		# watch's expiry scans both ways: the kernel's cut where it loads, batched lookups
		for h in tc xdp; do
			row "  $h, expiry scans by ${SCANS[ct-$h]:-?} (as run)" \
				"${MPPS[ct-$h.$f]}" "${MPPS[$h-floor.$f]}" \
				"$(ratio "${MPPS[ct-$h.$f]}" "${MPPS[$h-floor.$f]}")"
			row "  $h, expiry scans by ${SCANS[ct-$h-lookups]:-?} (forced)" \
				"${MPPS[ct-$h-lookups.$f]}" "${MPPS[$h-floor.$f]}" \
				"$(ratio "${MPPS[ct-$h-lookups.$f]}" "${MPPS[$h-floor.$f]}")"
		done
	fi
	if [ "$f" != 1000000 ]; then
		row "Mpps $f flows: tc, default table" "${MPPS[ct-tc-d.$f]}" \
			"${MPPS[tc-floor.$f]}" "$(ratio "${MPPS[ct-tc-d.$f]}" "${MPPS[tc-floor.$f]}")"
		row "  tc, default table, not shared (--no-agent)" "${MPPS[ct-tc-ns.$f]}" \
			"${MPPS[tc-floor.$f]}" "$(ratio "${MPPS[ct-tc-ns.$f]}" "${MPPS[tc-floor.$f]}")"
		row "  tc, default table, 3 viewers (shared, as run)" "${MPPS[ct-tc-v3.$f]}" \
			"${MPPS[ct-tc-d.$f]}" "$(ratio "${MPPS[ct-tc-v3.$f]}" "${MPPS[ct-tc-d.$f]}")"
		row "Mpps $f flows: xdp, default table" "${MPPS[ct-xdp-d.$f]}" \
			"${MPPS[xdp-floor.$f]}" "$(ratio "${MPPS[ct-xdp-d.$f]}" "${MPPS[xdp-floor.$f]}")"
	fi
	if [ "$f" = 10000 ]; then
		for h in tc xdp; do
			row "Mpps 10000 flows in VXLAN: $h, default table" "${MPPS[ct-$h-d.vx]}" \
				"${MPPS[$h-floor.vx]}" \
				"$(ratio "${MPPS[ct-$h-d.vx]}" "${MPPS[$h-floor.vx]}")"
		done
	fi
	d=-d
	[ "$f" = 1000000 ] && d=
	for h in tc xdp; do
		for kb in 40 16 slots hot sets; do
			k=map$kb-$h$d
			what="the hash map alone, $kb-byte key"
			[ $kb = slots ] && what="an array, a 192-byte slot a packet"
			[ $kb = hot ] && what="an array, a 64-byte slot a packet"
			[ $kb = sets ] && what="an array, sets of four 64-byte slots"
			row "  $h: $what" "${MPPS[$k.$f]}" \
				"${MPPS[$h-floor.$f]}" "$(ratio "${MPPS[$k.$f]}" "${MPPS[$h-floor.$f]}")"
		done
	done
	row "Mpps $f flows: nothing attached" "${MPPS[none.$f]}" "" ""
done
fi

# --- 2b. live rate, frames a host takes: nf_conntrack beside tc -----------------------------
# the generator's frames are otherwise dropped before IP (another host's MAC), so conntrack
# would see none: here g1 takes the frame's MAC and address, so that every frame reaches
# TCP and, with the rule, makes or finds a conntrack entry. TCP answers each with a RST,
# dropped on output before conntrack sees it (a RST kills the entry of a flow it has not
# seen answered). Not comparable with the rows above: the host's own receive path is in
# every configuration.
if want livect; then
say "live packet rate into a local address: nf_conntrack and tc ($REPS interleaved runs)"
g1mac=$(ip -n $R -br link show g1 | awk '{print $3}')
ip -n $R link set g1 address 02:00:00:00:00:02
ip -n $R addr add 10.255.0.1/32 dev g1
ip -n $R neigh add 10.255.0.2 lladdr 02:00:00:00:00:01 dev g1 nud permanent
ip -n $R route add 10.0.0.0/8 via 10.255.0.2 dev g1 onlink
printf 'table ip ctbench_out {\n chain out {\n  %s\n  %s\n }\n}\n' \
	'type filter hook output priority -300; policy accept;' 'tcp flags rst drop' |
	ip netns exec $R nft -f -
unset RUNS
declare -A RUNS
for ((rep = 0; rep < REPS; rep++)); do
	for cfg in none conntrack ct-tc; do
		config none
		ct_rule $R off
		case $cfg in
		conntrack) ct_rule $R on ;;
		ct-tc) config ct-tc ;;
		esac
		for f in 10000 1000000; do
			ct_flush $R
			RUNS[$cfg.$f]+=" $(live $f)"
			[ $cfg = conntrack ] && RUNS[n.$f]+=" $(ct_count $R)"
		done
	done
done
config none
ct_rule $R off
ct_flush $R
ip netns exec $R nft delete table ip ctbench_out
ip -n $R route del 10.0.0.0/8
ip -n $R neigh del 10.255.0.2 dev g1
ip -n $R addr del 10.255.0.1/32 dev g1
ip -n $R link set g1 address "$g1mac"
for f in 10000 1000000; do
	for k in none conntrack ct-tc n; do
		MPPS[$k]=$(median <<<"${RUNS[$k.$f]}")
	done
	row "Mpps $f flows, local: nf_conntrack (none)" "${MPPS[conntrack]}" "${MPPS[none]}" \
		"$(ratio "${MPPS[conntrack]}" "${MPPS[none]}")"
	row "Mpps $f flows, local: tc (none)" "${MPPS[ct-tc]}" "${MPPS[none]}" \
		"$(ratio "${MPPS[ct-tc]}" "${MPPS[none]}")"
	row "  nf_conntrack entries after a run (max)" "${MPPS[n]}" \
		"$(sysctl -n net.netfilter.nf_conntrack_max)" ""
done
fi

# --- 3. connection churn ---------------------------------------------------------------------
say "connection churn"
ns_setup || exit 1
ip netns exec "$NS_C" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1
SECS=${BENCH_CHURN_SECS:-8}
declare -A M
churn() {	# churn fin|rst: conn/s
	local sp r
	ip netns exec "$NS_S" "$B" churn-server "$S4" 4 "$1" >"$out/cs" &
	sp=$!
	wait_for "$out/cs" ready 5
	r=$(ip netns exec "$NS_C" "$B" churn-client "$S4" 4 "$SECS" "$1" | awk '{print $3}')
	kill $sp
	wait $sp 2>/dev/null
	echo "$r"
}
CREPS=${BENCH_CHURN_REPS:-$REPS}
if want churn; then
for mode in fin rst; do
	unset CR
	declare -A CR
	for ((rep = 0; rep < CREPS; rep++)); do
		CR[base]+=" $(churn $mode)"
		ct_flush "$NS_S"
		ct_rule "$NS_S" on
		CR[ct]+=" $(churn $mode)"
		CR[ctn]+=" $(ct_new "$NS_S")"
		ct_rule "$NS_S" off
		ip netns exec "$NS_S" "$CT" -v watch -i s0 --all -o json >/dev/null 2>"$out/w" &
		WPID=$!
		wait_for "$out/w" watching 10
		CR[tc]+=" $(churn $mode)"
		kill -INT $WPID; wait $WPID; WPID=
		CR[lost]+=" $(grep -o '[0-9]* events lost' "$out/w" | tail -1 | awk '{print $1}')"
		ip netns exec "$NS_M" "$CT" -v watch -i m1 --mode xdp --all -o json >/dev/null \
			2>"$out/w" &
		WPID=$!
		wait_for "$out/w" watching 10
		CR[xdp]+=" $(churn $mode)"
		kill -INT $WPID; wait $WPID; WPID=
	done
	for k in base ct ctn tc xdp lost; do
		M[$k]=$(median <<<"${CR[$k]}")
	done
	base=${M[base]}
	row "conn/s $mode close: tc, events on (none)" "${M[tc]}" "$base" "$(ratio "${M[tc]}" "$base")"
	row "conn/s $mode close: xdp on mirror (none)" "${M[xdp]}" "$base" "$(ratio "${M[xdp]}" "$base")"
	row "conn/s $mode close: nf_conntrack (none)" "${M[ct]}" "$base" "$(ratio "${M[ct]}" "$base")"
	row "conn/s $mode close: tc (nf_conntrack)" "${M[tc]}" "${M[ct]}" "$(ratio "${M[tc]}" "${M[ct]}")"
	row "  nf_conntrack: connections begun (made)" "${M[ctn]}" \
		"$(awk -v r="${M[ct]}" -v s="$SECS" 'BEGIN{printf "%.0f", r * s}')" ""
	row "  events lost during the tc run" "${M[lost]:-0}" "" ""
done
fi

# --- 3b. floods ---------------------------------------------------------------------------
# the churn namespaces: held connections, then spoofed SYNs (or orphan RSTs) sent on c0 as
# fast as AF_PACKET takes them; what closetrace keeps and reports, and what it loses
if want flood; then
say "SYN flood and RST storm"
ns_bg "$NS_S" "$DRIVE" server "$S4" >"$out/srv"
wait_for "$out/srv" ready 5
SMAC=$(ip -n "$NS_S" -br link show s0 | awk '{print $3}')
HELD=200 NFLOOD=${BENCH_FLOOD:-1000000}
# secs CMD...: wall seconds CMD takes
secs() { local t0=$(date +%s%N); "$@" >/dev/null; echo $(( ($(date +%s%N) - t0) / 1000000 )) | awk '{printf "%.3f", $1 / 1000}'; }
sumj() { jq -s "[.[] | $2] | add // 0" "$1"; }
ip netns exec "$NS_S" "$CT" -v watch -i s0 -a -o json --table-size 65536 >"$out/f.json" \
	2>"$out/w" &
WPID=$!
wait_for "$out/w" watching 10
mkfifo "$out/go"
ns_bg "$NS_C" sh -c "exec '$DRIVE' hold $HELD $S4 20000 <>'$out/go'" >"$out/hold"
wait_for "$out/hold" "held $HELD" 30
t=$(secs ip netns exec "$NS_C" "$DRIVE" flood syn c0 "$SMAC" "$S4" 8001 "$NFLOOD" 5)
sleep 1.5
echo go >"$out/go"
wait_for "$out/hold" "closed $HELD" 30
sleep 1.5
kill -INT $WPID; wait $WPID; WPID=
kept=$(jq -s '[.[] | select(.type == "close" and .close == "graceful" and .srv_port == 8001)] | length' "$out/f.json")
row "SYN flood: spoofed SYNs/s offered ($NFLOOD)" "$(awk -v t="$t" -v n="$NFLOOD" 'BEGIN{printf "%.0f", n/t}')" "" ""
row "  established kept: closes reported of $HELD" "$kept" "$HELD" "$(ratio "$kept" $HELD)"
row "  evicted embryonic / established (table 65536)" "$(sumj "$out/f.json" 'select(.type == "loss") | .evicted_embryonic')" \
	"$(sumj "$out/f.json" 'select(.type == "loss") | .evicted_established')" ""
row "  events lost / untracked" "$(sumj "$out/f.json" 'select(.type == "loss") | .events_lost')" \
	"$(sumj "$out/f.json" 'select(.type == "loss") | .untracked')" ""
ip netns exec "$NS_S" "$CT" -v watch -i s0 -o json >"$out/r.json" 2>"$out/w" &
WPID=$!
wait_for "$out/w" watching 10
ip netns exec "$NS_C" "$DRIVE" flood rst c0 "$SMAC" "$S4" 8001 "$NFLOOD" 9 >/dev/null &
FP=$!
t0=$(date +%s%N)
PORT=30000
for ((i = 0; i < 100; i++)); do
	ip netns exec "$NS_C" "$DRIVE" client refused "$S4" $((PORT + i)) || break
done
wait $FP
t=$(awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN{printf "%.3f", (b - a) / 1e9}')
sleep 1.5
kill -INT $WPID; wait $WPID; WPID=
pr=$(jq -s '[.[] | select(.type == "close" and .close == "orphan-rst")] | length' "$out/r.json")
sm=$(sumj "$out/r.json" 'select(.type == "summary") | .count')
rf=$(jq -s '[.[] | select(.type == "close" and .close == "refused")] | length' "$out/r.json")
row "RST storm: orphan RSTs/s offered ($NFLOOD)" "$(awk -v t="$t" -v n="$NFLOOD" 'BEGIN{printf "%.0f", n/t}')" "" ""
row "  printed + summarised (sent)" "$((pr + sm))" "$NFLOOD" "$(ratio $((pr + sm)) "$NFLOOD")"
row "  refusals printed during it (of 100)" "$rf" "100" "$(ratio "$rf" 100)"
row "  events lost" "$(grep -o '[0-9]* events lost' "$out/w" | tail -1 | awk '{print $1}' | grep . || echo 0)" "" ""
fi

# --- 4. events --------------------------------------------------------------------------------
if want events; then
say "events: ring buffer to NDJSON"
config none
ev() {	# ev COUNT: events printed, lost, seconds, latency p50/p99 ms
	local t0 t1 n
	ip netns exec $R "$CT" -v watch -i g1 -o json --table-size 2097152 --storm-rate 0 \
		2>"$out/w" |
		"$B" lat >"$out/lat" &
	WPID=
	local lpid=$!	# the reader, done once watch has exited
	wait_for "$out/w" watching 10
	t0=$(date +%s.%N)
	ip netns exec $G "$B" gen g0 0 "$1" rst >/dev/null
	sleep 1
	pkill -INT -f "closetrace -v watch -i g1"
	wait $lpid
	t1=$(date +%s.%N)
	read -r _ n p50 p99 max <"$out/lat"
	lost=$(grep -o '[0-9]* events lost' "$out/w" | tail -1 | awk '{print $1}')
	echo "$n ${lost:-0} $p50 $p99 $max"
}
read -r n lost p50 p99 max < <(ev 200000)
row "events: burst of 200000 orphan RSTs, printed" "$n" "200000" "$(ratio "$n" 200000)"
row "  lost (ring buffer full)" "$lost" "" ""
row "  latency p50 / p99 ms (kernel ts -> output)" "$p50" "$p99" ""
# the rate the reader keeps up with: JSON out to /dev/null, counted by watch itself
ip netns exec $R "$CT" -v watch -i g1 -o json --table-size 2097152 --storm-rate 0 >/dev/null \
	2>"$out/w" &
WPID=$!
wait_for "$out/w" watching 10
t0=$(date +%s%N)
ip netns exec $G "$B" gen g0 0 1000000 rst >"$out/g"
kill -INT $WPID; wait $WPID; WPID=
t1=$(date +%s%N)
lost=$(grep -o '[0-9]* events lost' "$out/w" | tail -1 | awk '{print $1}')
gt=$(awk '{print $3}' "$out/g")
row "events/s offered (1M orphan RSTs)" "$(awk -v t="$gt" 'BEGIN{printf "%.0f", 1e6/t}')" "" ""
# what reached the programs (none dropped before them), from watch's own count at exit
made=$(grep -o '[0-9]* TCP' "$out/w" | tail -1 | awk '{print $1}')
row "  RSTs that reached closetrace (of 1000000)" "${made:-0}" "" ""
row "  lost of 1000000, output to /dev/null" "${lost:-0}" "" ""
# the same without a new flow per event: 1M flows made by a data packet each, then a RST
# closes each one (a reset close of a known flow: the events a host mostly has)
# (the JSON lines counted by wc, a reader that costs next to nothing)
ip netns exec $R "$CT" -v watch -i g1 -o json --table-size 2097152 --storm-rate 0 \
	2>"$out/w" | wc -l >"$out/n" &
WPID=
CPID=$!	# wc, done once watch has exited (a bare `wait` would wait for the flood's server)
wait_for "$out/w" watching 10
ip netns exec $G "$B" gen g0 1000000 1000000 >/dev/null
ip netns exec $G "$B" gen g0 1000000 1000000 rst >"$out/g"
sleep 1
pkill -INT -f "closetrace -v watch -i g1"
wait $CPID
lost=$(grep -o '[0-9]* events lost' "$out/w" | tail -1 | awk '{print $1}')
gt=$(awk '{print $3}' "$out/g")
row "events/s offered (1M RSTs closing 1M flows)" "$(awk -v t="$gt" 'BEGIN{printf "%.0f", 1e6/t}')" "" ""
row "  packets that reached closetrace (of 2000000)" "$(grep -o '[0-9]* TCP' "$out/w" | tail -1 | awk '{print $1}')" "" ""
row "  close records written (of 1000000), lost" "$(cat "$out/n")" "${lost:-0}" ""
fi

# --- 5. scan --------------------------------------------------------------------------------
if want scan; then
say "flow-table scan"
for n in 100000 1000000; do
	"$B" scan $n >"$out/scan"
	# scan HOW N keep|expire MS ...; scan HOW N slices COUNT LONGEST
	for how in batch cut; do
		k=$(awk -v h=$how '$2 == h && $4 == "keep" {print $5}' "$out/scan")
		e=$(awk -v h=$how '$2 == h && $4 == "expire" {print $5}' "$out/scan")
		read -r sl smax < <(awk -v h=$how '$2 == h && $4 == "slices" {print $5, $6}' "$out/scan")
		refused=$(awk -v h=$how '$2 == h && $4 == "refused" {$1 = $2 = $3 = $4 = ""; print}' \
			"$out/scan" | sed 's/^ *//')
		if [ $how = batch ]; then
			row "scan ms at $n flows, every entry read: kept / expired" "$k" "$e" ""
			row "  (top, --final, and watch where the kernel refuses map iterators" "" "" ""
			row "   or CLOSETRACE_DISABLE=scan-iter)" "" "" ""
			row "  watch's ticks so: slices a pass / longest ms" "$sl" "$smax" ""
			row "  whole pass, CPU share of one core at 1 scan/s" "$(awk -v k="$k" 'BEGIN{printf "%.1f%%", k/10}')" "" ""
		elif [ -n "$refused" ]; then
			row "scan ms at $n flows, the kernel's cut: refused" "-" "-" ""
			row "  ($refused)" "" "" ""
		else
			row "scan ms at $n flows, the kernel's cut: kept / expired" "$k" "$e" ""
			row "  whole pass, CPU share of one core at 1 scan/s" "$(awk -v k="$k" 'BEGIN{printf "%.1f%%", k/10}')" "" ""
			row "  watch's ticks: slices a pass / longest ms" "$sl" "$smax" ""
			row "  watch's CPU share at its 1 s tick (longest)" "$(awk -v k="$smax" 'BEGIN{printf "%.1f%%", k/10}')" "" ""
		fi
	done
done
fi

# --- 5b. scan, both ways in one run -----------------------------------------------------------
# where this kernel refuses map iterators, the cut is measured in a QEMU guest on Debian's
# own kernel (tests/vm/guest.sh): software emulation, so its ms are not this machine's, but
# both ways run there in one run, and their ratio is what the fallback costs
if want scanguest; then
say "flow-table scan in a QEMU guest (Debian's cloud kernel, software emulation)"
. "$top/tests/vm/guest.sh"
printf '%s\n' './ctbench scan 100000' './ctbench scan 1000000' >"$out/ginit"
if guest_kernel "$top/build/vm" >&2 && guest_initrd "$out/ginitrd" "$out/ginit" "$B" &&
	guest_run "$out/ginitrd" "$out/glog" 1800; then
	kver=$(sed -n 's/^GUEST kernel //p' "$out/glog")
	for n in 100000 1000000; do
		for k in keep expire; do
			b=$(awk -v n=$n -v k=$k '$1 == "scan" && $2 == "batch" && $3 == n && $4 == k {print $5}' "$out/glog")
			c=$(awk -v n=$n -v k=$k '$1 == "scan" && $2 == "cut" && $3 == n && $4 == k {print $5}' "$out/glog")
			row "guest scan ms at $n flows, $k: lookups (cut)" "$b" "$c" "$(ratio "$b" "$c")"
		done
		read -r bs bm < <(awk -v n=$n '$2 == "batch" && $3 == n && $4 == "slices" {print $5, $6}' "$out/glog")
		read -r cs cm < <(awk -v n=$n '$2 == "cut" && $3 == n && $4 == "slices" {print $5, $6}' "$out/glog")
		row "  watch's slices a pass: lookups (cut)" "$bs" "$cs" "$(ratio "$bs" "$cs")"
	done
	row "  (guest kernel $kver)" "" "" ""
else
	row "guest scan: the guest did not run" "-" "-" ""
fi
fi

# --- 6. metrics --------------------------------------------------------------------------
# a scrape renders the session's last snapshot: its cost depends on the series (interfaces,
# --metrics-ports), not on the flows; measured with a million flows in the table anyway
if want metrics; then
say "metrics scrape"
scrape_ms() {	# scrape_ms ARGS...: median ms of 21 scrapes, and the bytes of one
	local t
	ip netns exec $R "$CT" -v watch -i g1 -o none --table-size 2097152 --metrics 9464 "$@" \
		2>"$out/w" &
	WPID=$!
	wait_for "$out/w" watching 10
	ip netns exec $G "$B" gen g0 1000000 2000000 >/dev/null
	sleep 1.5	# a scan, then the snapshot it publishes
	for i in $(seq 21); do
		ip netns exec $R curl -s -o "$out/scrape" -w '%{time_total}\n' \
			http://127.0.0.1:9464/metrics
	done | sort -n | sed -n 11p >"$out/t"
	t=$(awk '{printf "%.2f", $1 * 1000}' "$out/t")
	flows=$(ip netns exec $R curl -s http://127.0.0.1:9464/metrics |
		awk '/^closetrace_flow_table_entries/ {print $2}')
	kill -INT $WPID; wait $WPID; WPID=
	echo "$t $(wc -c <"$out/scrape") $flows"
}
read -r t0 b0 f0 < <(scrape_ms)
read -r t1 b1 f1 < <(scrape_ms --metrics-ports "$(seq -s, 1 100)")
row "scrape ms (median of 21) at $f0 flows" "$t0" "" ""
row "  bytes per scrape" "$b0" "" ""
row "scrape ms with 100 --metrics-ports ($f1 flows)" "$t1" "" ""
row "  bytes per scrape" "$b1" "" ""
fi

# --- 7. memory -------------------------------------------------------------------------------
if want memory; then
say "memory"
ip netns exec $R "$CT" -v watch -i g1 >/dev/null 2>"$out/w" &
WPID=$!
wait_for "$out/w" watching 10
# the table and its two eviction rings, as the kernel accounts them
mem=$(bpftool -j map show | jq '[.[] | select(.name == "flows" or .name == "emb_ring" or .name == "est_ring")] | group_by(.name) | map(max_by(.bytes_memlock).bytes_memlock) | add')
rss=$(awk '/VmRSS/ {print $2}' /proc/$WPID/status)
kill -INT $WPID; wait $WPID; WPID=
# key and value as this build has them (closetrace check), and the kernel's element (a
# 48-byte header, key and value rounded to 8)
read -r kb vb < <("$CT" check 2>/dev/null | sed -nE 's/.*\(key ([0-9]+) B and value ([0-9]+) B.*/\1 \2/p')
row "bytes per flow: key + value (+ hash element)" "$((kb + vb))" \
	"$((48 + (kb + 7) / 8 * 8 + (vb + 7) / 8 * 8))" ""
row "flow table + rings memory at the default 131072 flows" "$((mem / 1048576)) MiB" "" ""
row "watch RSS" "$((rss / 1024)) MiB" "" ""
fi
# --- 8. replay -------------------------------------------------------------------------------
# 2 million small packets of 100 000 connections, 10 000 open at a time: the in-process
# engine, the BPF program through BPF_PROG_TEST_RUN, and tcptrace and argus (flow records
# written to a file, as it does with a capture) on the same file
if want replay; then
say "replay"
python3 "$top/tests/cli/pcapgen.py" small "$out/small.pcap" 2000000 100000
timed() {	# timed CMD...: M packets/s and max RSS MiB of one run
	/usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>&1
	awk '{ printf "%.2f %.0f", ($1 > 0 ? 2 / $1 : 0), $2 / 1024 }' "$out/time"
}
read -r ru mu < <(timed "$CT" replay -o json "$out/small.pcap")
read -r rb mb < <(timed "$CT" replay --engine bpf -o json "$out/small.pcap")
read -r rt mt < <(timed tcptrace -n "$out/small.pcap")
row "replay Mpps, 2M small pkts: user (bpf)" "$ru" "$rb" "$(ratio "$ru" "$rb")"
row "  max RSS MiB: user (bpf)" "$mu" "$mb" ""
row "replay Mpps: user (tcptrace -n)" "$ru" "$rt" "$(ratio "$ru" "$rt")"
row "  max RSS MiB: user (tcptrace -n)" "$mu" "$mt" ""
read -r ra ma < <(timed argus -r "$out/small.pcap" -w "$out/small.argus")
row "replay Mpps: user (argus -r -w)" "$ru" "$ra" "$(ratio "$ru" "$ra")"
row "  max RSS MiB: user (argus -r -w)" "$mu" "$ma" ""
row "  argus flow records (connections)" "$(ra -n -r "$out/small.argus" -s saddr 2>/dev/null | wc -l)" "100000" ""
fi
echo "(table written to build/bench.txt)" >&2
