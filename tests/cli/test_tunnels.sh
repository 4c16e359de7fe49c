#!/usr/bin/env bash
# test_tunnels.sh - TCP inside tunnels, on captures tungen.py writes: every close with its
# tunnel (type, id, outer addresses), two tenants with the same inner addresses kept apart,
# broken tunnels giving no flow, --tunnel-port and --no-decap, the filter fields, top's
# grouping by tunnel; each with the in-process engine and, as root, with the BPF program
# itself (BPF_PROG_TEST_RUN), which must agree byte for byte.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
CT=${CLOSETRACE:-$here/../../build/closetrace}
d=$T_DIR

for k in vxlan geneve gtpu teredo gre erspan vxlan-port malformed; do
	python3 "$here/tungen.py" "$k" "$d/$k.pcap" || { echo "not ok 1 - tungen.py $k"; exit 1; }
done

engines=(user)
if [ "$(id -u)" = 0 ]; then
	engines+=(bpf)
elif [ "${CLOSETRACE_REQUIRE_PRIV:-0}" = 1 ]; then
	check "the BPF engine needs root (CLOSETRACE_REQUIRE_PRIV=1)" false
else
	echo "# the BPF engine's half skipped: needs root"
fi

# closes KIND [OPTIONS...]: one line a close: close clt_ip:port srv_ip:port tunnel
closes() {
	local k=$1
	shift
	"$CT" replay --all -o json "$@" "$d/$k.pcap" 2>/dev/null |
		jq -r 'select(.type == "close") | "\(.close) \(.clt_ip):\(.clt_port) \(.srv_ip):\(.srv_port) " +
			(if .tunnel then "\(.tunnel.type)/\(.tunnel.id // "-")/\(.tunnel.id_srv // "-") \(.tunnel.src)>\(.tunnel.dst)" else "none" end)'
}

# expect KIND WANT [OPTIONS...]: the closes are WANT (lines), in order
expect() {
	local got
	got=$(closes "$1" "${@:3}") || return 1
	if [ "$got" != "$2" ]; then
		diff <(echo "$2") <(echo "$got")
		return 1
	fi
}

vxlan_want="graceful 192.168.1.10:40000 192.168.1.20:80 vxlan/100/- 10.0.0.1>10.0.0.2
refused 192.168.1.10:40000 192.168.1.20:80 vxlan/200/- 10.0.0.1>10.0.0.2
reset-server 172.16.0.5:41000 172.16.0.6:443 vxlan/300/- 10.0.0.1>10.0.0.2
graceful 192.168.1.10:40001 192.168.1.20:80 vxlan/400/- 10.0.0.1>10.0.0.2"
geneve_want="graceful 10.1.1.1:33000 10.1.1.2:8080 geneve/7/- 10.0.0.1>10.0.0.2
reset-server 10.1.1.1:33000 10.1.1.2:8080 geneve/8/- 10.0.0.1>10.0.0.2
refused fd00::1:33001 fd00::2:22 geneve/9/- 10.0.0.1>10.0.0.2"
gtpu_want="graceful 10.45.0.2:51000 93.184.216.34:80 gtpu/4097/8194 10.0.0.1>10.0.0.2
refused 10.45.0.3:51001 93.184.216.34:81 gtpu/4099/8196 10.0.0.1>10.0.0.2
reset-server 10.45.0.4:51002 93.184.216.34:443 gtpu/4101/8198 10.0.0.1>10.0.0.2"
teredo_want="graceful 2001:0:4137:9e50:8000:f12a:b9c8:2815:1286 2001:4860:0:2001::68:80 teredo/-/- 192.168.2.16>83.170.1.38
refused 2001:0:4137:9e50:8000:f12a:b9c8:2815:1287 2001:4860:0:2001::69:80 teredo/-/- 192.168.2.16>65.55.158.80"
gre_want="reset-client 192.168.7.1:45000 192.168.7.2:25 gre/5/- 10.0.0.1>10.0.0.2
graceful 192.168.7.1:45000 192.168.7.2:25 gre/6/- 10.0.0.1>10.0.0.2
refused 192.168.7.1:45001 192.168.7.3:110 gre/0/- 10.0.0.1>10.0.0.2"
erspan_want="graceful 10.3.0.1:46000 10.3.0.2:443 erspan/33/- 10.20.0.1>10.20.0.9
refused 10.3.0.1:46001 10.3.0.3:3306 erspan/44/- 10.20.0.1>10.20.0.9"
malformed_want="refused 192.168.66.1:40669 192.168.66.2:80 vxlan/9/- 10.0.0.1>10.0.0.2"

for e in "${engines[@]}"; do
	o=(--engine "$e")
	check "$e: VXLAN: two tenants on the same inner addresses stay two flows (VNI 100 graceful, 200 refused); Linux's port 8472; inner VLAN" \
		expect vxlan "$vxlan_want" "${o[@]}"
	check "$e: Geneve with options: two tenants (VNI 7, 8); IPv6 carried directly (VNI 9)" \
		expect geneve "$geneve_want" "${o[@]}"
	check "$e: GTP-U with extension headers: one flow per connection, the TEID of each direction; answers from 2152 to another port" \
		expect gtpu "$gtpu_want" "${o[@]}"
	check "$e: Teredo through a relay on no Teredo port (origin indications), and through the server's port (authentication)" \
		expect teredo "$teredo_want" "${o[@]}"
	check "$e: GRE keyed (IPv4 inside, Ethernet inside) and unkeyed with MPLS inside" \
		expect gre "$gre_want" "${o[@]}"
	check "$e: ERSPAN II and III (platform subheader) as a mirror source, by session" \
		expect erspan "$erspan_want" "${o[@]}"
	check "$e: broken tunnels make no flow; the one good connection after them is there" \
		expect malformed "$malformed_want" "${o[@]}"
	check "$e: VXLAN on a port that is not VXLAN's is not opened" \
		expect vxlan-port "" "${o[@]}"
	check "$e: ... and is with --tunnel-port vxlan=4790" \
		expect vxlan-port "graceful 192.168.9.1:40500 192.168.9.2:80 vxlan/55/- 10.0.0.1>10.0.0.2" \
		--tunnel-port vxlan=4790 "${o[@]}"
	check "$e: --tunnel-port vxlan=4790 replaces VXLAN's default ports" \
		expect vxlan "" --tunnel-port vxlan=4790 "${o[@]}"
	check "$e: --tunnel-port vxlan=4789 keeps 4789 alone: VNI 300 on 8472 goes" \
		expect vxlan "$(grep -v 'vxlan/300' <<<"$vxlan_want")" --tunnel-port vxlan=4789 "${o[@]}"
	check "$e: --tunnel-port gre=off leaves GRE closed, ERSPAN open" \
		expect gre "" --tunnel-port gre=off "${o[@]}"
	check "$e: --no-decap: no tunnel opened" expect gtpu "" --no-decap "${o[@]}"
done

# the two engines agree on every field of every record
if [ "${#engines[@]}" = 2 ]; then
	same() {
		cmp <("$CT" replay --all -o json --engine user "$d/$1.pcap" 2>/dev/null) \
			<("$CT" replay --all -o json --engine bpf "$d/$1.pcap" 2>/dev/null)
	}
	for k in vxlan geneve gtpu teredo gre erspan malformed; do
		check "$k: the BPF program and the in-process engine write the same records" same "$k"
	done
fi

# --no-decap counts the tunnels' packets as other, not as TCP (-v's packet line)
check "decapsulated, VXLAN's 23 packets are TCP" \
	sh -c "'$CT' -v replay '$d/vxlan.pcap' 2>&1 >/dev/null | grep -q '23 packets, 23 TCP, 0 other'"
check "--no-decap: they are other" \
	sh -c "'$CT' -v replay --no-decap '$d/vxlan.pcap' 2>&1 >/dev/null | grep -q '23 packets, 0 TCP, 23 other'"
# malformed: a header cut (VXLAN's, an inner TCP one), lengths past what carries them (an
# inner IP packet, GTP-U's), Teredo's indicator: 5; not tunnels' user data: 9
check "broken tunnels: 5 malformed, 9 other, the good connection's 2 packets TCP" \
	sh -c "'$CT' -v replay '$d/malformed.pcap' 2>&1 >/dev/null | grep -q '^closetrace: 16 packets, 2 TCP, 9 other, 0 fragments, 5 malformed, 1 flows'"

# the filter fields
filt() {
	local k=$1 f=$2 want=$3 n
	n=$(closes "$k" -f "$f" | wc -l)
	[ "$n" = "$want" ] || { echo "-f '$f' on $k: $n closes, not $want"; return 1; }
}
check "filter: tunnel = vxlan and tunnel.id = 200 picks one tenant's refusal" \
	filt vxlan 'tunnel = vxlan and tunnel.id = 200 and close = refused' 1
check "filter: tunnel.id matches either of GTP-U's TEIDs (8194, a downlink one)" \
	filt gtpu 'tunnel.id = 8194' 1
check "filter: tunnel.ip matches an outer address (the ERSPAN collector)" \
	filt erspan 'tunnel.ip = 10.20.0.9' 2
check "filter: tunnel.ip in a prefix, != none" filt teredo 'tunnel.ip in 83.170.0.0/16' 1
check "filter: tunnel = none outside tunnels" filt vxlan 'tunnel = none' 0
check "filter: tunnel = gtp-u is gtpu" filt gtpu 'tunnel = gtp-u' 3
check "filter: an unknown tunnel type is refused, naming the types" \
	sh -c "'$CT' replay -f 'tunnel = vxlann' '$d/vxlan.pcap' 2>&1 | grep -q \"unknown tunnel 'vxlann'; one of none vxlan geneve gtpu teredo gre erspan\""

# diagnose keeps the tenants' servers apart: the refusal is 1 of 1 in VNI 200, not 1 of 2
check "diagnose names the server in its tunnel: 1 of 1 refused in vxlan:200" \
	sh -c "'$CT' diagnose --min-closes 1 -o json '$d/vxlan.pcap' 2>/dev/null | jq -r 'select(.rule == \"refused\") | .summary' |
		grep -qx '192.168.1.20:80 in vxlan:200 refuses connections: 1 of 1 attempts refused (REJ), from 1 client (zones 192.168.1.0/24 1)'"

# top groups by tunnel: each tenant a row
toprows() {
	"$CT" top -r "$d/vxlan.pcap" -b -g tunnel 2>/dev/null | awk '/^TUNNEL/ {t = 1; next} t && NF {print $1, $2}' | sort
}
got=$(toprows)
check "top -g tunnel: a row per VNI (tenant), one connection each" \
	test "$got" = "vxlan:100 1
vxlan:200 1
vxlan:300 1
vxlan:400 1"

# option errors
check "--tunnel-port refuses an unknown type" \
	sh -c "'$CT' replay --tunnel-port foo=1 '$d/vxlan.pcap' 2>&1 | grep -q 'unknown tunnel type foo'"
check "--tunnel-port refuses a port out of range" \
	sh -c "'$CT' replay --tunnel-port vxlan=70000 '$d/vxlan.pcap' 2>&1 | grep -q 'vxlan=70000: a port is 1 to 65535'"
check "--tunnel-port refuses a port for GRE" \
	sh -c "'$CT' replay --tunnel-port gre=5 '$d/vxlan.pcap' 2>&1 | grep -q 'gre has no port'"

done_testing
