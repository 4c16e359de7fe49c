#!/usr/bin/env bash
# test_tunnels_live.sh - closetrace on an underlay interface sees the connections inside
# Linux's own VXLAN devices. Two tenants, each a pair of namespaces made for the test with
# the same inner addresses (10.200.0.1 and 10.200.0.2), are joined by VXLAN devices
# (VNI 42 and 43) whose UDP travels over the veth c0 -- s0 (netns.sh). closetrace watches
# s0 in tc mode. Tenant 42 reaches a server (graceful, and a reset by the server); tenant
# 43 has none (refused): each close comes with its VNI and the underlay addresses. Then
# --no-decap sees none of them. Geneve the same way where the kernel has it. Everything
# made is removed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../cli/lib.sh"
. "$here/netns.sh"
TEN=()
teardown() {
	local n
	ns_teardown
	for n in "${TEN[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$T_DIR"
}
trap teardown EXIT
CT=${CLOSETRACE:-$here/../../build/closetrace}
DRIVE=$here/../../build/tests/tcpdrive
need_root
d=$T_DIR
IN_C=10.200.0.1 IN_S=10.200.0.2

command -v jq >/dev/null || { echo "not ok 1 - jq is missing (make deps)"; exit 1; }
check "namespaces and the underlay veth are set up" ns_setup

# tenant TYPE ID: a pair of namespaces (client, server side) joined by a TYPE device of id
# ID whose underlay is c0 -- s0; the same inner addresses for every tenant
tenant() {
	local type=$1 id=$2 nc ns ext
	nc=ct-tc$id-${NS_C#ct-c-} ns=ct-ts$id-${NS_S#ct-s-}
	ip netns add "$nc" && ip netns add "$ns" || return 1
	TEN+=("$nc" "$ns")
	if [ "$type" = vxlan ]; then
		ext="dstport 4789"
		ip -n "$NS_C" link add t$id type vxlan id "$id" local "$C4" remote "$S4" $ext dev c0 &&
			ip -n "$NS_S" link add t$id type vxlan id "$id" local "$S4" remote "$C4" $ext dev s0 ||
			return 1
	else
		ip -n "$NS_C" link add t$id type geneve id "$id" remote "$S4" &&
			ip -n "$NS_S" link add t$id type geneve id "$id" remote "$C4" || return 1
	fi
	# the device moves into the tenant's namespace; its UDP socket stays on the underlay
	ip -n "$NS_C" link set t$id netns "$nc" && ip -n "$NS_S" link set t$id netns "$ns" || return 1
	for n in "$nc" "$ns"; do
		ip -n "$n" link set lo up
		ip -n "$n" link set t$id up
	done
	ip -n "$nc" addr add "$IN_C/24" dev t$id && ip -n "$ns" addr add "$IN_S/24" dev t$id
	# no ARP across the tunnel: only the test's own frames
	ip -n "$nc" neigh add "$IN_S" lladdr "$(ip -n "$ns" -br link show t$id | awk '{print $3}')" \
		dev t$id nud permanent &&
		ip -n "$ns" neigh add "$IN_C" lladdr "$(ip -n "$nc" -br link show t$id | awk '{print $3}')" \
			dev t$id nud permanent
}

# closes FILE: "close clt srv:port type/id src>dst" a close
closes() {
	jq -r 'select(.type == "close") | "\(.close) \(.clt_ip) \(.srv_ip):\(.srv_port) " +
		(if .tunnel then "\(.tunnel.type)/\(.tunnel.id) \(.tunnel.src)>\(.tunnel.dst)" else "none" end)' "$1" | sort
}

MPORT=$((20000 + RANDOM % 20000))
scrape() { ip netns exec "$NS_S" curl -s --max-time 5 "http://127.0.0.1:$MPORT/metrics"; }

# run NAME CLIENT_A CLIENT_B ARGS...: a watch of s0 (with metrics on the server side's
# loopback) while tenant A makes a graceful close and a server reset and tenant B is
# refused; its closes in $d/NAME.closes, its last scrape in $d/NAME.prom
run() {
	local name=$1 a=$2 b=$3
	shift 3
	ns_start "$name" ip netns exec "$NS_S" "$CT" -v watch -i s0 --all -o json \
		--metrics "127.0.0.1:$MPORT" "$@" || return 1
	ip netns exec "$a" "$DRIVE" client graceful "$IN_S" 42001 &&
		ip netns exec "$a" "$DRIVE" client reset-server "$IN_S" 42002 &&
		ip netns exec "$b" "$DRIVE" client refused "$IN_S" 43001 || return 1
	# the metrics are published once a second
	sleep 1.5
	scrape >"$d/$name.prom"
	ns_stop
	closes "$d/$name.out" >"$d/$name.closes"
}

# metric FILE SERIES: its value in the scrape
metric() { awk -v s="$2" '$1 == s {print $2}' "$1"; }

check "tenant 42: VXLAN devices over c0 -- s0" tenant vxlan 42
check "tenant 43: VXLAN devices with the same inner addresses" tenant vxlan 43
T42C=${TEN[0]} T42S=${TEN[1]} T43C=${TEN[2]}
ns_bg "$T42S" "$DRIVE" server "$IN_S" >"$d/server.out"
check "the server of tenant 42 listens (tenant 43 has none)" wait_for "$d/server.out" ready 5

want="graceful $IN_C $IN_S:8001 vxlan/42 $C4>$S4
refused $IN_C $IN_S:8009 vxlan/43 $C4>$S4
reset-server $IN_C $IN_S:8002 vxlan/42 $C4>$S4"
check "watch -i s0, the underlay, while the tenants connect" run vx "$T42C" "$T43C"
# same_closes NAME WANT: the closes of run NAME are WANT
same_closes() { diff <(echo "$2") "$d/$1.closes"; }
# prom_is NAME SERIES VALUE: the scrape of run NAME has SERIES at VALUE
prom_is() {
	local v
	v=$(awk -v s="$2" '$1 == s {print $2}' "$d/$1.prom")
	[ "$v" = "$3" ] || { echo "$2 is '$v', not $3"; return 1; }
}
# prom_pos NAME SERIES: ... above 0
prom_pos() {
	local v
	v=$(awk -v s="$2" '$1 == s {print $2}' "$d/$1.prom")
	[ -n "$v" ] && [ "$v" -gt 0 ] || { echo "$2 is '$v'"; return 1; }
}
check "each close inside VXLAN with its VNI and the underlay's addresses: graceful and reset-server in 42, refused in 43" \
	same_closes vx "$want"
check "metrics: TCP segments counted under vxlan" \
	prom_pos vx 'closetrace_tunnel_segments_total{iface="s0",type="vxlan"}'
check "metrics: none under geneve" \
	prom_is vx 'closetrace_tunnel_segments_total{iface="s0",type="geneve"}' 0
for k in graceful refused reset-server; do
	check "metrics: 1 $k close inside VXLAN" \
		prom_is vx "closetrace_tunnel_closes_total{iface=\"s0\",type=\"vxlan\",close=\"$k\"}" 1
done
check "--no-decap: watched again" run nodecap "$T42C" "$T43C" --no-decap
check "... no TCP close is seen: the underlay's packets are UDP to it" test ! -s "$d/nodecap.closes"
check "... and no segment decapsulated" \
	prom_is nodecap 'closetrace_tunnel_segments_total{iface="s0",type="vxlan"}' 0
check "the watches left no program behind" none_loaded

# Geneve, where the kernel has it
if ip link add ct-gnprobe type geneve id 1 remote 127.0.0.2 2>/dev/null; then
	ip link del ct-gnprobe
	check "tenant 44: Geneve devices" tenant geneve 44
	check "tenant 45: Geneve devices" tenant geneve 45
	ns_bg "${TEN[5]}" "$DRIVE" server "$IN_S" >"$d/server44.out"
	wait_for "$d/server44.out" ready 5
	check "watch -i s0 while the Geneve tenants connect" run gn "${TEN[4]}" "${TEN[6]}"
	check "each close inside Geneve with its VNI" \
		same_closes gn "$(sed 's|vxlan/42|geneve/44|; s|vxlan/43|geneve/45|' <<<"$want")"
else
	echo "# geneve: this kernel has no geneve driver, its live part is not run (captures and test_bpf cover Geneve)"
fi

done_testing
