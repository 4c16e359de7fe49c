#!/usr/bin/env python3
"""pcapgen.py - writes the captures the CLI tests need: damaged ones (an unsupported link
type, a zero-length packet, a packet cut by the snap length, a corrupt record) and a large
one with many short TCP connections, streamed so that its size costs no memory here.

usage: pcapgen.py KIND OUT [ARG]
  bad-link OUT       one packet on an 802.11 link
  zero-len OUT       a refused connection, then a zero-length record, then another
  snap-cut OUT       a refused connection, then a SYN cut inside its IP header
  corrupt OUT        a refused connection, then a record claiming 200 MB
  big OUT MIB        at least MIB MiB of graceful connections with full-size data packets;
                     OUT "-" writes to standard output; the connection count goes to stderr
  refused OUT N      N refused connections (SYN, RST) on distinct client ports
  pressure OUT N     N connections open at once on three servers (ports 80, 443, 8080),
                     then reset by their servers; and 20 clients on port 25 whose SYN,
                     repeated 3 s later, is never answered: what a small flow table and a
                     short SYN timeout change
  storm OUT N        N orphan RSTs from distinct clients, to ports 443 and 80 of the
                     server, 1 ms apart; every 50th is followed by a refused connection
                     (port 8080); then 30 SYNs to port 25 that are never answered
  link OUT DLT       one refused connection on link type DLT (0 NULL, 1 Ethernet,
                     101 raw IP, 108 LOOP, 113 Linux SLL, 276 Linux SLL2, 228 IPv4)
  small OUT N FLOWS  N small packets (headers and at most 64 bytes of data) of FLOWS
                     connections, W = min(FLOWS, 10000) open at a time and interleaved,
                     5 us apart: 20 packets each (handshake, 7 requests of 64 bytes and
                     their ACKs, FIN both ways); every 10th is reset by its server
                     after its data instead. The replay speed benchmark's capture.
  mutate IN OUT SEED the capture IN (pcap or pcapng) damaged at random, SEED fixing how:
                     bits flipped in packet headers, packets cut short (down to 0
                     bytes), neighbours swapped (time steps back), packets repeated,
                     and for some seeds the file cut at a random byte
"""
import random
import struct
import sys

ETH = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp4(src, dst, sport, dport, flags, payload=b"", seq=1, ack=0, ttl=64):
    """An Ethernet/IPv4/TCP frame; flags as a string of S A F R P."""
    bits = {"F": 1, "S": 2, "R": 4, "P": 8, "A": 16}
    fl = sum(bits[c] for c in flags)
    th = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, fl, 65535, 0, 0)
    tot = 20 + len(th) + len(payload)
    ih = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, 1, 0, ttl, 6, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    ih = ih[:10] + struct.pack("!H", csum(ih)) + ih[12:]
    return ETH + ih + th + payload


class Pcap:
    def __init__(self, path, linktype=1, snaplen=65535):
        self.f = sys.stdout.buffer if path == "-" else open(path, "wb")
        self.size = 0
        self.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))
        self.t = 1700000000.0

    def write(self, b):
        self.f.write(b)
        self.size += len(b)

    def rec(self, data, wire=None, caplen=None, dt=0.001):
        self.t += dt
        sec = int(self.t)
        usec = int(round((self.t - sec) * 1e6))
        cl = len(data) if caplen is None else caplen
        self.write(struct.pack("<IIII", sec, usec, cl, len(data) if wire is None else wire))
        self.write(data)

    def close(self):
        self.f.close()


C, S = "10.1.0.1", "10.2.0.2"


def refused(p, port):
    p.rec(tcp4(C, S, port, 80, "S"))
    p.rec(tcp4(S, C, 80, port, "RA", ack=2))


def link_header(dlt, frame):
    """The packet of an Ethernet @frame as link type @dlt would carry it."""
    ip = frame[14:]
    if dlt == 1:
        return frame
    if dlt == 0:                                    # host order (little endian here)
        return struct.pack("<I", 2) + ip
    if dlt == 108:                                  # network order
        return struct.pack("!I", 2) + ip
    if dlt in (101, 228):
        return ip
    if dlt == 113:                                  # type, ARPHRD, addr len, addr, proto
        return struct.pack("!HHH8sH", 0, 1, 6, b"\x02" * 6 + b"\0\0", 0x0800) + ip
    if dlt == 276:                                  # proto, reserved, ifindex, ARPHRD, ...
        return struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 0, 6, b"\x02" * 6 + b"\0\0") + ip
    sys.exit("pcapgen.py: no header for link type %d" % dlt)


def small_conn(i):
    """The 20 packets of connection @i, as (src, dst, sport, dport, flags, payload)."""
    cl = "10.%d.%d.%d" % (8 + i // 62500 % 200, i // 250 % 250, i % 250 + 1)
    port, sp, req = 1024 + i % 60000, 80, b"q" * 64
    up = lambda fl, d=b"": (cl, S, port, sp, fl, d)
    down = lambda fl, d=b"": (S, cl, sp, port, fl, d)
    pk = [up("S"), down("SA"), up("A")]
    for _ in range(7):
        pk += [up("PA", req), down("A")]
    if i % 10 == 9:
        pk += [down("RA"), up("RA"), up("RA")]
    else:
        pk += [up("FA"), down("FA"), up("A")]
    return pk


def small(p, n, flows):
    """n packets: connections started in order, min(flows, 10000) interleaved at a time."""
    window = min(flows, 10000)
    active = list(range(window))
    step = [0] * window
    nxt, sent, slot = window, 0, 0
    while sent < n and active:
        slot %= len(active)
        i = active[slot]
        p.rec(tcp4(*small_conn(i)[step[slot]]), dt=0.000005)
        sent += 1
        step[slot] += 1
        if step[slot] == 20:
            if nxt < flows:
                active[slot], step[slot] = nxt, 0
                nxt += 1
            else:
                del active[slot], step[slot]
                continue
        slot += 1
    p.close()


def read_packets(data):
    """(writer, packets) of a pcap or pcapng capture: packets as [ts, data, wirelen, extra],
    writer(packets) the file again."""
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1",
                 b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic[0] in (0xD4, 0x4D) else ">"
        pk, off = [], 24
        while off + 16 <= len(data):
            sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
            pk.append([(sec, frac), data[off + 16:off + 16 + incl], orig, None])
            off += 16 + incl

        def write(pkts):
            out = [data[:24]]
            for (sec, frac), d, orig, _ in pkts:
                out.append(struct.pack(e + "IIII", sec, frac, len(d), orig) + d)
            return b"".join(out)
        return write, pk
    if magic == b"\x0a\x0d\x0d\x0a":
        e = "<" if data[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        blocks, off = [], 0
        while off + 12 <= len(data):
            btype, blen = struct.unpack(e + "II", data[off:off + 8])
            if blen < 12 or off + blen > len(data):
                break
            body = data[off + 8:off + blen - 4]
            if btype == 6:      # enhanced packet block: a packet, options dropped
                ifid, hi, lo, cap, orig = struct.unpack(e + "IIIII", body[:20])
                blocks.append([(ifid, hi, lo), body[20:20 + cap], orig, "epb"])
            else:               # anything else goes through as it was
                blocks.append([None, data[off:off + blen], 0, "raw"])
            off += blen

        def write(pkts):
            out = []
            for ts, d, orig, kind in pkts:
                if kind == "raw":
                    out.append(d)
                    continue
                pad = b"\0" * (-len(d) % 4)
                body = struct.pack(e + "IIIII", ts[0], ts[1], ts[2], len(d), orig) + d + pad
                n = 12 + len(body)
                out.append(struct.pack(e + "II", 6, n) + body + struct.pack(e + "I", n))
            return b"".join(out)
        return write, blocks
    sys.exit("pcapgen.py: not a pcap or pcapng capture")


def mutate(src, out, seed):
    """Damage capture @src at random, reproducibly from @seed, into @out."""
    rnd = random.Random(seed)
    data = open(src, "rb").read()
    write, pk = read_packets(data)
    res = []
    for p in pk:
        if p[3] == "raw":
            res.append(p)
            continue
        d = bytearray(p[1])
        if d and rnd.random() < 0.2:            # header bits flipped
            for _ in range(rnd.randint(1, 3)):
                i = rnd.randrange(min(len(d), 80))
                d[i] ^= 1 << rnd.randrange(8)
        if d and rnd.random() < 0.05:           # cut short, as a snap length does
            d = d[:rnd.randrange(len(d))]
        res.append([p[0], bytes(d), p[2], p[3]])
        if rnd.random() < 0.02:                 # repeated
            res.append(list(res[-1]))
    for i in range(len(res) - 1):               # neighbours swapped: time steps back
        if res[i][3] != "raw" and res[i + 1][3] != "raw" and rnd.random() < 0.03:
            res[i], res[i + 1] = res[i + 1], res[i]
    b = write(res)
    if seed % 4 == 3 and len(b) > 64:           # the file cut anywhere
        b = b[:rnd.randrange(64, len(b))]
    open(out, "wb").write(b)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    if kind == "bad-link":
        p = Pcap(out, linktype=105)
        p.rec(b"\x00" * 40)
        p.close()
    elif kind == "zero-len":
        p = Pcap(out)
        refused(p, 40001)
        p.rec(b"")
        refused(p, 40002)
        p.close()
    elif kind == "snap-cut":
        p = Pcap(out)
        refused(p, 40001)
        f = tcp4(C, S, 40003, 80, "S")
        p.rec(f[:30], wire=len(f))
        p.close()
    elif kind == "corrupt":
        p = Pcap(out)
        refused(p, 40001)
        p.write(struct.pack("<IIII", 1700000001, 0, 200 << 20, 200 << 20))
        p.write(b"\x00" * 64)
        p.close()
    elif kind == "link":
        dlt = int(sys.argv[3])
        p = Pcap(out, linktype=dlt)
        p.rec(link_header(dlt, tcp4(C, S, 40001, 80, "S")))
        p.rec(link_header(dlt, tcp4(S, C, 80, 40001, "RA", ack=2)))
        p.close()
    elif kind == "refused":
        p = Pcap(out)
        for i in range(int(sys.argv[3])):
            refused(p, 20000 + i)
        p.close()
    elif kind == "storm":
        p = Pcap(out)
        for i in range(int(sys.argv[3])):
            cl = "10.5.%d.%d" % (i // 250 % 250, i % 250 + 1)
            p.rec(tcp4(cl, S, 30000 + i // 62500, (443, 80)[i % 2], "RA", seq=7, ack=7))
            if i % 50 == 49:
                p.rec(tcp4(C, S, 20000 + i // 50, 8080, "S"))
                p.rec(tcp4(S, C, 8080, 20000 + i // 50, "RA", ack=2))
        for i in range(30):
            p.rec(tcp4("10.6.0.%d" % (i + 1), S, 41000 + i, 25, "S"))
        p.close()
    elif kind == "pressure":
        n = int(sys.argv[3])
        p = Pcap(out)
        conns = [("10.3.%d.%d" % (i // 250, i % 250 + 1), 30000 + i % 20000, (80, 443, 8080)[i % 3])
                 for i in range(n)]
        for cl, port, sp in conns:
            p.rec(tcp4(cl, S, port, sp, "S"))
            p.rec(tcp4(S, cl, sp, port, "SA"))
            p.rec(tcp4(cl, S, port, sp, "A"))
        for i in range(20):
            p.rec(tcp4("10.4.0.%d" % (i + 1), S, 41000 + i, 25, "S"))
        p.rec(tcp4(C, S, 40999, 9, "S"), dt=3.0)
        for i in range(20):
            p.rec(tcp4("10.4.0.%d" % (i + 1), S, 41000 + i, 25, "S"))
        for cl, port, sp in conns:
            p.rec(tcp4(S, cl, sp, port, "RA", seq=2, ack=2))
        p.close()
    elif kind == "big":
        want = int(sys.argv[3]) << 20
        p = Pcap(out)
        data = b"x" * 1400
        n = 0
        # connections of 40 data packets each; 16 overlap at a time, ports cycle
        while p.size < want:
            port = 1024 + n % 60000
            cl = "10.%d.%d.1" % (n // 60000 % 250, n // 240 % 250)
            p.rec(tcp4(cl, S, port, 80, "S"))
            p.rec(tcp4(S, cl, 80, port, "SA"))
            p.rec(tcp4(cl, S, port, 80, "A"))
            for _ in range(40):
                p.rec(tcp4(S, cl, 80, port, "A", data), dt=0.0001)
            p.rec(tcp4(cl, S, port, 80, "FA"))
            p.rec(tcp4(S, cl, 80, port, "FA"))
            p.rec(tcp4(cl, S, port, 80, "A"))
            n += 1
        p.close()
        print(n, file=sys.stderr)
    elif kind == "mutate":
        mutate(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif kind == "small":
        small(Pcap(out), int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit("pcapgen.py: unknown kind %s" % kind)


if __name__ == "__main__":
    main()
