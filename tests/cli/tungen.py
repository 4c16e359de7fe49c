#!/usr/bin/env python3
"""tungen.py - writes captures of TCP connections inside tunnels, and of broken tunnels,
for test_tunnels.sh: each connection with real sequence numbers, each tunnel header as its
RFC (or 3GPP TS 29.281) lays it out.

usage: tungen.py KIND OUT
  vxlan      two tenants (VNI 100, 200) with the same inner addresses and ports: one ends
             gracefully, the other is refused; VNI 300 on Linux's port 8472, reset by its
             server; inner frames with an 802.1Q tag (VNI 400, graceful)
  geneve     Geneve with options: VNI 7 graceful and VNI 8 reset by the server, same inner
             addresses; VNI 9 carrying IPv6 directly (protocol 0x86DD), refused
  gtpu       GTP-U G-PDUs with a PDU session container extension: TEID 0x1001 uplink,
             0x2002 downlink, graceful; TEIDs 0x1003/0x2004 refused; echo requests between;
             TEIDs 0x1005/0x2006 from port 5906, answered from 2152 to 5906, reset by the
             server
  teredo     IPv6 in UDP: via a relay on port 32900 (no Teredo port: told by its content),
             with origin indications, graceful; via the server port 3544 with an
             authentication indicator, refused
  gre        GRE with key 5 and IPv4 inside, reset by the client; key 6 with Ethernet
             (transparent bridging) inside, graceful; no key, an MPLS label, then IPv4,
             refused
  erspan     ERSPAN type II (session 33) and type III with a platform subheader (session 44)
             mirroring a graceful close and a refused one
  vxlan-port VXLAN on port 4790, which is not VXLAN's: a graceful close (VNI 55)
  malformed  tunnels that must give no flow: VXLAN without its I flag, VXLAN cut short,
             an inner packet longer than its datagram, GTP-U echo and error indications
             carrying a TCP segment, Geneve version 1, GRE version 1, a Teredo indicator
             whose lengths run past the datagram, garbage to port 4789, VXLAN in VXLAN;
             then one good VXLAN connection (VNI 9, refused)
"""
import ipaddress
import struct
import sys

sys.path.insert(0, __import__("os").path.dirname(__file__))
from pcapgen import Pcap, csum  # noqa: E402

MAC_A = b"\x02\x00\x00\x00\x00\x0a"
MAC_B = b"\x02\x00\x00\x00\x00\x0b"


def ip4(src, dst, proto, payload, ttl=64, ident=1):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, ttl, proto, 0,
                    ipaddress.IPv4Address(src).packed, ipaddress.IPv4Address(dst).packed)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ip6(src, dst, nh, payload, hlim=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hlim,
                       ipaddress.IPv6Address(src).packed,
                       ipaddress.IPv6Address(dst).packed) + payload


def tcp(sport, dport, flags, seq, ack, payload=b""):
    bits = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}
    fl = sum(bits[c] for c in flags)
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, fl, 65535, 0, 0) + payload


def ippkt(src, dst, seg):
    """An IP packet of either family around a TCP segment."""
    if ":" in src:
        return ip6(src, dst, 6, seg)
    return ip4(src, dst, 6, seg)


def eth(payload, etype, vlan=None):
    tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
    return MAC_B + MAC_A + tag + struct.pack("!H", etype) + payload


def etype_of(pkt):
    return 0x86DD if pkt[0] >> 4 == 6 else 0x0800


def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def outer_udp(osrc, odst, sport, dport, payload):
    return eth(ip4(osrc, odst, 17, udp(sport, dport, payload)), 0x0800)


def outer_gre(osrc, odst, payload):
    return eth(ip4(osrc, odst, 47, payload), 0x0800)


def vxlan(vni, inner, flags=0x08):
    return struct.pack("!BBHI", flags, 0, 0, vni << 8) + inner


def geneve(vni, proto, inner, ver=0):
    opt = struct.pack("!HBB", 0x0102, 0x80, 1) + b"\x00\x00\x00\x01"
    return struct.pack("!BBHI", ver << 6 | len(opt) // 4, 0, proto, vni << 8) + opt + inner


def gtpu(teid, inner, mtype=255):
    # v1, PT, E: the optional word, then a PDU session container (1 word), then the end
    ext = struct.pack("!BBBB", 1, 0x10, 9, 0)
    opt = struct.pack("!HBB", 0, 0, 0x85)
    return struct.pack("!BBHI", 0x34, mtype, len(opt) + len(ext) + len(inner), teid) + \
        opt + ext + inner


def teredo_origin(inner):
    return struct.pack("!HHI", 0, 0x1234 ^ 0xFFFF, 0xC0000201 ^ 0xFFFFFFFF) + inner


def teredo_auth(inner, idlen=3, aulen=2):
    return struct.pack("!HBB", 1, idlen, aulen) + b"c" * idlen + b"a" * aulen + \
        b"\x11" * 8 + b"\x00" + inner


def gre(proto, inner, key=None, seq=None):
    flags = (0x2000 if key is not None else 0) | (0x1000 if seq is not None else 0)
    h = struct.pack("!HH", flags, proto)
    if key is not None:
        h += struct.pack("!I", key)
    if seq is not None:
        h += struct.pack("!I", seq)
    return h + inner


def erspan2(session, frame, seq):
    h = struct.pack("!BBBB", 0x10, 0, (session >> 8) & 3, session & 0xFF) + b"\x00" * 4
    return gre(0x88BE, h + frame, seq=seq)


def erspan3(session, frame, seq):
    h = struct.pack("!BBBB", 0x20, 0, (session >> 8) & 3, session & 0xFF) + \
        b"\x00" * 4 + struct.pack("!HBB", 0, 0, 0x01)
    return gre(0x22EB, h + b"\x00" * 8 + frame, seq=seq)


class Conn:
    """One TCP connection: packets as (from_client, segment) in order."""

    def __init__(self, c, s, cport, sport):
        self.c, self.s, self.cport, self.sport = c, s, cport, sport
        self.cseq, self.sseq = 1000, 5000
        self.pkts = []

    def send(self, from_client, flags, data=b""):
        if from_client:
            seg = tcp(self.cport, self.sport, flags, self.cseq, self.sseq if "A" in flags else 0,
                      data)
            self.cseq += len(data) + ("S" in flags) + ("F" in flags)
            pkt = ippkt(self.c, self.s, seg)
        else:
            seg = tcp(self.sport, self.cport, flags, self.sseq, self.cseq if "A" in flags else 0,
                      data)
            self.sseq += len(data) + ("S" in flags) + ("F" in flags)
            pkt = ippkt(self.s, self.c, seg)
        self.pkts.append((from_client, pkt))
        return self

    def graceful(self):
        self.send(1, "S").send(0, "SA").send(1, "A").send(1, "PA", b"GET / HTTP/1.1\r\n\r\n")
        self.send(0, "PA", b"HTTP/1.1 200 OK\r\n\r\n").send(1, "FA").send(0, "FA").send(1, "A")
        return self

    def refused(self):
        return self.send(1, "S").send(0, "RA")

    def reset_server(self):
        self.send(1, "S").send(0, "SA").send(1, "A").send(1, "PA", b"x" * 10)
        return self.send(0, "RA")

    def reset_client(self):
        self.send(1, "S").send(0, "SA").send(1, "A").send(0, "PA", b"y" * 10)
        return self.send(1, "RA")


def write(p, conn, wrap):
    """Each packet of @conn wrapped by wrap(from_client, ip_packet) into a frame."""
    for fc, pkt in conn.pkts:
        p.rec(wrap(fc, pkt))


V1, V2 = "10.0.0.1", "10.0.0.2"   # the tunnel endpoints (VTEPs, eNB and UPF, GRE peers)


def vx(vni, port=4789, vlan=None, flags=0x08):
    def wrap(fc, pkt):
        frame = eth(pkt, etype_of(pkt), vlan)
        return outer_udp(V1 if fc else V2, V2 if fc else V1, 49152 + vni, port,
                         vxlan(vni, frame, flags))
    return wrap


def k_vxlan(p):
    write(p, Conn("192.168.1.10", "192.168.1.20", 40000, 80).graceful(), vx(100))
    write(p, Conn("192.168.1.10", "192.168.1.20", 40000, 80).refused(), vx(200))
    write(p, Conn("172.16.0.5", "172.16.0.6", 41000, 443).reset_server(), vx(300, 8472))
    write(p, Conn("192.168.1.10", "192.168.1.20", 40001, 80).graceful(), vx(400, vlan=42))


def k_geneve(p):
    def gw(vni, proto_eth=True):
        def wrap(fc, pkt):
            inner = eth(pkt, etype_of(pkt)) if proto_eth else pkt
            proto = 0x6558 if proto_eth else etype_of(pkt)
            return outer_udp(V1 if fc else V2, V2 if fc else V1, 50000, 6081,
                             geneve(vni, proto, inner))
        return wrap
    write(p, Conn("10.1.1.1", "10.1.1.2", 33000, 8080).graceful(), gw(7))
    write(p, Conn("10.1.1.1", "10.1.1.2", 33000, 8080).reset_server(), gw(8))
    write(p, Conn("fd00::1", "fd00::2", 33001, 22).refused(), gw(9, False))


def k_gtpu(p):
    def gw(up, down, port=2152):
        def wrap(fc, pkt):
            # uplink eNB -> UPF and downlink, to port 2152 (or answered to @port)
            return outer_udp(V1 if fc else V2, V2 if fc else V1, port if fc else 2152,
                             2152 if fc else port, gtpu(up if fc else down, pkt))
        return wrap
    echo = outer_udp(V1, V2, 2152, 2152, struct.pack("!BBHIHBB", 0x32, 1, 4, 0, 7, 0, 0))
    p.rec(echo)
    write(p, Conn("10.45.0.2", "93.184.216.34", 51000, 80).graceful(), gw(0x1001, 0x2002))
    p.rec(echo)
    write(p, Conn("10.45.0.3", "93.184.216.34", 51001, 81).refused(), gw(0x1003, 0x2004))
    write(p, Conn("10.45.0.4", "93.184.216.34", 51002, 443).reset_server(),
          gw(0x1005, 0x2006, 5906))


def k_teredo(p):
    relay, client = "83.170.1.38", "192.168.2.16"

    def via_relay(fc, pkt):
        payload = pkt if fc else teredo_origin(pkt)
        return outer_udp(client if fc else relay, relay if fc else client,
                         3797 if fc else 32900, 32900 if fc else 3797, payload)

    def via_server(fc, pkt):
        payload = teredo_auth(pkt) if fc else pkt
        return outer_udp(client if fc else "65.55.158.80", "65.55.158.80" if fc else client,
                         3797 if fc else 3544, 3544 if fc else 3797, payload)
    write(p, Conn("2001:0:4137:9e50:8000:f12a:b9c8:2815", "2001:4860:0:2001::68", 1286,
                  80).graceful(), via_relay)
    write(p, Conn("2001:0:4137:9e50:8000:f12a:b9c8:2815", "2001:4860:0:2001::69", 1287,
                  80).refused(), via_server)


def k_gre(p):
    def keyed(key):
        def wrap(fc, pkt):
            return outer_gre(V1 if fc else V2, V2 if fc else V1, gre(etype_of(pkt), pkt, key))
        return wrap

    def teb(fc, pkt):
        return outer_gre(V1 if fc else V2, V2 if fc else V1,
                         gre(0x6558, eth(pkt, etype_of(pkt)), 6))

    def mpls(fc, pkt):
        label = struct.pack("!I", 1000 << 12 | 1 << 8 | 64)
        return outer_gre(V1 if fc else V2, V2 if fc else V1, gre(0x8847, label + pkt))
    write(p, Conn("192.168.7.1", "192.168.7.2", 45000, 25).reset_client(), keyed(5))
    write(p, Conn("192.168.7.1", "192.168.7.2", 45000, 25).graceful(), teb)
    write(p, Conn("192.168.7.1", "192.168.7.3", 45001, 110).refused(), mpls)


def k_erspan(p):
    seq = [0]

    def mirror(kind, session):
        def wrap(fc, pkt):
            seq[0] += 1
            frame = eth(pkt, etype_of(pkt))
            enc = erspan2 if kind == 2 else erspan3
            return outer_gre("10.20.0.1", "10.20.0.9", enc(session, frame, seq[0]))
        return wrap
    write(p, Conn("10.3.0.1", "10.3.0.2", 46000, 443).graceful(), mirror(2, 33))
    write(p, Conn("10.3.0.1", "10.3.0.3", 46001, 3306).refused(), mirror(3, 44))


def k_vxlan_port(p):
    write(p, Conn("192.168.9.1", "192.168.9.2", 40500, 80).graceful(), vx(55, 4790))


def k_malformed(p):
    syn = Conn("192.168.66.1", "192.168.66.2", 40666, 80).send(1, "S").pkts[0][1]
    frame = eth(syn, 0x0800)
    # VXLAN without the I flag
    p.rec(outer_udp(V1, V2, 50001, 4789, vxlan(66, frame, flags=0)))
    # VXLAN cut inside its own header, and inside the inner TCP header
    good = outer_udp(V1, V2, 50001, 4789, vxlan(66, frame))
    p.rec(good[:14 + 20 + 8 + 4])
    p.rec(good[:len(good) - 10])
    # the inner IPv4 packet says it is 40 bytes longer than what the datagram carries
    longer = bytearray(syn)
    struct.pack_into("!H", longer, 2, len(syn) + 40)
    p.rec(outer_udp(V1, V2, 50001, 4789, vxlan(66, eth(bytes(longer), 0x0800))))
    # GTP-U echo request and error indication that carry a TCP SYN
    for t in (1, 26):
        p.rec(outer_udp(V1, V2, 2152, 2152, gtpu(0x6666, syn, mtype=t)))
    # GTP-U whose length runs past the datagram
    g = bytearray(gtpu(0x6667, syn))
    struct.pack_into("!H", g, 2, 1400)
    p.rec(outer_udp(V1, V2, 2152, 2152, bytes(g)))
    # Geneve version 1
    p.rec(outer_udp(V1, V2, 50002, 6081, geneve(66, 0x6558, frame, ver=1)))
    # GRE version 1 (PPTP) and GRE with RFC 1701 routing
    g1 = bytearray(gre(0x0800, syn, 7))
    g1[1] |= 1
    p.rec(outer_gre(V1, V2, bytes(g1)))
    g2 = bytearray(gre(0x0800, syn))
    g2[0] |= 0x40
    p.rec(outer_gre(V1, V2, bytes(g2)))
    # a Teredo authentication indicator whose lengths run past the datagram
    syn6 = Conn("2001:0:4137:9e50::1", "2001:db8::66", 40667, 80).send(1, "S").pkts[0][1]
    bad = bytearray(teredo_auth(syn6))
    bad[2], bad[3] = 250, 250
    p.rec(outer_udp("192.168.2.16", "65.55.158.80", 3797, 3544, bytes(bad)))
    # IPv6 to a relay's port that is not Teredo's: no address in 2001::/32
    plain6 = Conn("2001:db8::1", "2001:db8::2", 40668, 80).send(1, "S").pkts[0][1]
    p.rec(outer_udp("192.168.2.16", "83.170.1.38", 3797, 32900, plain6))
    # garbage to port 4789
    p.rec(outer_udp(V1, V2, 50003, 4789, bytes(range(256)) * 2))
    # VXLAN inside VXLAN: the outer one is opened, not the inner
    inner_vx = eth(ip4("10.7.0.1", "10.7.0.2", 17,
                       udp(50004, 4789, vxlan(67, frame))), 0x0800)
    p.rec(outer_udp(V1, V2, 50005, 4789, vxlan(68, inner_vx)))
    # and one good connection, which must be there
    write(p, Conn("192.168.66.1", "192.168.66.2", 40669, 80).refused(), vx(9))


KINDS = {
    "vxlan": k_vxlan, "geneve": k_geneve, "gtpu": k_gtpu, "teredo": k_teredo,
    "gre": k_gre, "erspan": k_erspan, "vxlan-port": k_vxlan_port, "malformed": k_malformed,
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in KINDS:
        sys.exit(__doc__)
    p = Pcap(sys.argv[2])
    KINDS[sys.argv[1]](p)
    p.close()


if __name__ == "__main__":
    main()
