#!/usr/bin/env bash
# tshark_counts.sh CAPTURE - per TCP conversation and direction, the packet, SYN, SYN-ACK,
# FIN and RST counts tshark decodes, as TSV (stream, dir, src, sport, dst, dport, pkts, syn,
# synack, fin, rst). Direction A2B is from the sender of the conversation's first packet.
# The innermost IP header is used; TCP headers quoted inside ICMP errors are left out.
# Used to make the expected tables of captures that come without one.
set -euo pipefail
cap=${1:?usage: tshark_counts.sh CAPTURE}
tshark -r "$cap" -Y 'tcp and not icmp and not icmpv6' -T fields -E separator=/t \
	-E occurrence=l -e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst \
	-e ipv6.dst -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin \
	-e tcp.flags.reset 2>/dev/null |
awk -F'\t' -v OFS='\t' '
function on(x) { return x == "1" || x == "True" || x == "true" }
{
	s = $1; src = $3 != "" ? $3 : $2; dst = $6 != "" ? $6 : $5; sp = $4; dp = $7
	if (!(s in a)) { a[s] = src; ap[s] = sp; b[s] = dst; bp[s] = dp; seq[++n] = s }
	d = (src == a[s] && sp == ap[s]) ? "A2B" : "B2A"
	k = s SUBSEP d
	pk[k]++
	syn = on($8); ack = on($9)
	if (syn && !ack) sy[k]++
	if (syn && ack) sa[k]++
	if (on($10)) fi[k]++
	if (on($11)) rs[k]++
}
END {
	print "stream", "dir", "src", "sport", "dst", "dport", "pkts", "syn", "synack", "fin", "rst"
	for (i = 1; i <= n; i++) {
		s = seq[i]
		k = s SUBSEP "A2B"
		print s, "A2B", a[s], ap[s], b[s], bp[s], pk[k]+0, sy[k]+0, sa[k]+0, fi[k]+0, rs[k]+0
		k = s SUBSEP "B2A"
		print s, "B2A", b[s], bp[s], a[s], ap[s], pk[k]+0, sy[k]+0, sa[k]+0, fi[k]+0, rs[k]+0
	}
}'
