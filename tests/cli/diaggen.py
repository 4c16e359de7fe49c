#!/usr/bin/env python3
"""diaggen.py - captures for the rules of `closetrace diagnose`: for each rule one that
must fire it and one, close to it, that must not. Every capture carries the same normal
background (web sessions from a few clients, health checks), so a rule must stand out from
traffic, not from silence. Real TCP: sequence and acknowledgement numbers as a stack
writes them, retransmissions where a stack would make them.

usage: diaggen.py SCENARIO OUT
  normal            the background alone (web sessions, health checks): 4 minutes
  web               the web sessions alone, no health checks
  refused           + 20 refusals by 10.2.0.3:1194 from 4 clients
  refused-quiet     + 2 refusals (a typo, not a down service)
  unanswered        + 8 connections to 10.2.0.4:5432 whose SYN, sent 3 times, is never
                    answered
  unanswered-quiet  + 10 connections whose first SYN is lost, its retransmission answered
  resets            + 20 sessions of 10.2.0.5:8443, 5 s apart, each ended by the
                    server's RST after its reply (SO_LINGER 0)
  resets-quiet      + 20 such sessions, 2 of them reset by the server, the rest closed
  interrupt         + 5 downloads from 10.2.0.7:80 the client gives up: its FIN, then
                    its RSTs while the server still sends
  interrupt-quiet   + 5 downloads completed
  storm             + 30 connections to 10.2.0.6:6379 open together (10 clients), all
                    reset by the server within 40 ms, then refused for 5 s, then served
  storm-quiet       + 400 short sessions of 10.2.0.6:6379, 20 a second, each reset by
                    the server after its reply: an application that resets, no crash
  storm-young       + 30 clients served at once by 10.2.0.6:6379, each reset by the
                    server 5 ms after its reply: young sessions, no crash
  mass-close        + the 30 connections of "storm" ended by the server's FINs at once
  mass-close-quiet  + 500 sessions, 50 a second, each closed by the server first
  orphan            + 10 RSTs from 10.2.0.8:443 for no connection
  orphan-quiet      + 1 such RST
  scan              + one client refused by 20 ports of 10.2.0.9 within 2 s
  scan-quiet        + one client refused by 3 ports of 10.2.0.9
  sweep             + one client's SYNs to port 22 of 30 hosts, sent twice, unanswered
  sweep-quiet       + the same to 5 hosts
  refused-path      + 10.2.0.10 serves :443 (its packets at TTL 57 here), and 10 of its
                    clients are refused on :8443 by RSTs at TTL 250: a firewall's REJECT
  refused-path-quiet  the same refusals at TTL 57: the host itself refuses
  path-reset        + 12 sessions of 10.2.0.11:443 (TTL 57), each reset in the server's
                    name, after its reply, by a RST at TTL 61: a device on the path
  path-reset-quiet  the same RSTs at TTL 57: the server resets (resets-sessions)
  spike             + a refusal of 10.2.0.3:1194 every 30 s, then 40 in 10 s
  spike-quiet       + the same 48 refusals spread evenly over the 4 minutes
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcapgen import Pcap, tcp4  # noqa: E402

T0 = 1700000000.0
LENGTH = 240.0
WEB = "10.2.0.2"


class Conn:
    """One TCP connection's packets, (time, frame), with the numbers a stack would use."""

    def __init__(self, out, cli, cport, srv, sport, sttl=64):
        self.out, self.cli, self.cport, self.srv, self.sport = out, cli, cport, srv, sport
        self.sttl = sttl        # the server's packets' TTL as they arrive here
        self.cseq, self.sseq = 1000 + cport * 7, 50000 + cport * 13
        self.cack = self.sack = 0

    def _c(self, t, flags, data=b""):
        self.out.append((t, tcp4(self.cli, self.srv, self.cport, self.sport, flags, data,
                                 seq=self.cseq, ack=self.cack if "A" in flags else 0)))
        self.cseq += len(data) + ("S" in flags) + ("F" in flags)

    def _s(self, t, flags, data=b"", ttl=None):
        self.out.append((t, tcp4(self.srv, self.cli, self.sport, self.cport, flags, data,
                                 seq=self.sseq, ack=self.sack if "A" in flags else 0,
                                 ttl=self.sttl if ttl is None else ttl)))
        self.sseq += len(data) + ("S" in flags) + ("F" in flags)

    def syn(self, t, again=False):
        if again:
            self.cseq -= 1
        self._c(t, "S")

    def synack(self, t):
        self.sack = self.cseq
        self._s(t, "SA")
        self.cack = self.sseq

    def handshake(self, t):
        self.syn(t)
        self.synack(t + 0.0002)
        self._c(t + 0.0004, "A")
        return t + 0.0004

    def c_data(self, t, n):
        self._c(t, "PA", b"q" * n)
        self.sack = self.cseq
        self._s(t + 0.0002, "A")

    def s_data(self, t, n):
        self._s(t, "PA", b"r" * n)
        self.cack = self.sseq
        self._c(t + 0.0002, "A")

    def c_fin(self, t):
        self._c(t, "FA")
        self.sack = self.cseq

    def s_fin(self, t):
        self._s(t, "FA")
        self.cack = self.sseq

    def c_ack(self, t):
        self._c(t, "A")

    def s_ack(self, t):
        self._s(t, "A")

    def c_rst(self, t):
        self._c(t, "RA")

    def s_rst(self, t, ttl=None):
        self._s(t, "RA", ttl=ttl)

    def close_server_first(self, t):
        """The server's FIN, the client's, the last ACK: 0.4 ms."""
        self.s_fin(t)
        self.c_fin(t + 0.0002)
        self.s_ack(t + 0.0004)

    def close_client_first(self, t):
        self.c_fin(t)
        self.s_fin(t + 0.0002)
        self.c_ack(t + 0.0004)

    def refused(self, t, ttl=None):
        self.syn(t)
        self.sack = self.cseq
        self.out.append((t + 0.0002, tcp4(self.srv, self.cli, self.sport, self.cport, "RA",
                                          seq=0, ack=self.sack,
                                          ttl=self.sttl if ttl is None else ttl)))


class Ports:
    """Client ports, never used twice in a capture."""

    def __init__(self):
        self.n = 20000

    def __call__(self):
        self.n += 1
        return self.n


def graceful(out, port, cli, srv, sport, t, req=200, resp=1200, server_first=False):
    c = Conn(out, cli, port, srv, sport)
    t = c.handshake(t)
    c.c_data(t + 0.001, req)
    c.s_data(t + 0.005, resp)
    if server_first:
        c.close_server_first(t + 0.006)
    else:
        c.close_client_first(t + 0.006)


def background(out, port, checks=True):
    """Web sessions from 6 clients, one every 1.5 s; a health check of :8080 every 10 s."""
    t = 0.5
    i = 0
    while t < LENGTH - 2:
        graceful(out, port(), "10.1.0.%d" % (10 + i % 6), WEB, 80, t)
        t += 1.5
        i += 1
    t = 0.7
    while checks and t < LENGTH - 2:
        c = Conn(out, "10.1.0.250", port(), WEB, 8080)
        c.handshake(t)
        c.close_client_first(t + 0.001)
        t += 10


def refusals(out, port, times, srv="10.2.0.3", sport=1194):
    for i, t in enumerate(times):
        Conn(out, "10.1.1.%d" % (1 + i % 4), port(), srv, sport).refused(t)


def unanswered(out, port, n, answered_after_one):
    for i in range(n):
        t = 20 + i * 7
        c = Conn(out, "10.1.2.%d" % (1 + i % 3), port(), "10.2.0.4", 5432)
        c.syn(t)
        c.syn(t + 1, again=True)
        if answered_after_one:
            c.synack(t + 1.0002)
            c.c_ack(t + 1.0004)
            c.c_data(t + 1.01, 100)
            c.s_data(t + 1.02, 300)
            c.close_client_first(t + 1.03)
        else:
            c.syn(t + 3, again=True)


def resets(out, port, n, which, srv="10.2.0.5", sport=8443, every=5.0, start=10.0):
    for i in range(n):
        t = start + i * every
        c = Conn(out, "10.1.3.%d" % (1 + i % 5), port(), srv, sport)
        t = c.handshake(t)
        c.c_data(t + 0.001, 150)
        c.s_data(t + 0.003, 900)
        if which(i):
            c.s_rst(t + 0.004)
        else:
            c.close_client_first(t + 0.004)


def download(out, port, i, interrupted):
    t = 30 + i * 20
    c = Conn(out, "10.1.4.%d" % (1 + i), port(), "10.2.0.7", 80)
    t = c.handshake(t)
    c.c_data(t + 0.001, 120)
    for k in range(6):
        c.s_data(t + 0.01 + k * 0.01, 1400)
    if interrupted:
        c.c_fin(t + 0.08)
        c._s(t + 0.081, "PA", b"r" * 1400)      # still sending: the client gave up
        c.c_rst(t + 0.0812)
        c._s(t + 0.082, "PA", b"r" * 1400)
        c.c_rst(t + 0.0822)
    else:
        c.close_server_first(t + 0.08)


def crash(out, port, by_rst):
    """30 connections open together, ended at once at 60 s; refused until 65 s; served."""
    conns = []
    for i in range(30):
        t = 10 + i * 1.3
        c = Conn(out, "10.1.5.%d" % (1 + i % 10), port(), "10.2.0.6", 6379)
        t = c.handshake(t)
        c.c_data(t + 0.001, 40)
        c.s_data(t + 0.002, 8)
        conns.append(c)
    for i, c in enumerate(conns):
        t = 60 + i * 0.0013
        if by_rst:
            c.s_rst(t)
        else:
            c.s_fin(t)
            c.c_fin(t + 0.0003)
            c.s_ack(t + 0.0005)
    for i in range(10):
        Conn(out, "10.1.5.%d" % (1 + i % 10), port(), "10.2.0.6", 6379).refused(60.5 + i * 0.45)
    for i in range(10):
        graceful(out, port(), "10.1.5.%d" % (1 + i), "10.2.0.6", 6379, 66 + i * 2, 40, 8)


def served_at_once(out, port):
    for i in range(30):
        t = 40 + i * 0.0007
        c = Conn(out, "10.1.6.%d" % (1 + i), port(), "10.2.0.6", 6379)
        t = c.handshake(t)
        c.c_data(t + 0.001, 40)
        c.s_data(t + 0.003, 8)
        c.s_rst(t + 0.008)


def short_sessions(out, port, n, rate, by_rst):
    for i in range(n):
        t = 40 + i / rate
        c = Conn(out, "10.1.6.%d" % (1 + i % 20), port(), "10.2.0.6", 6379)
        t = c.handshake(t)
        c.c_data(t + 0.001, 40)
        c.s_data(t + 0.002, 8)
        if by_rst:
            c.s_rst(t + 0.003)
        else:
            c.close_server_first(t + 0.003)


def orphans(out, port, n):
    for i in range(n):
        p = port()
        out.append((50 + i * 2, tcp4("10.2.0.8", "10.1.7.%d" % (1 + i % 5), 443, p, "R",
                                     seq=777 + i)))


def scan(out, port, nports):
    for i in range(nports):
        Conn(out, "10.1.8.66", port(), "10.2.0.9", 20 + i * 3).refused(100 + i * 0.1)


def sweep(out, port, nhosts):
    for i in range(nhosts):
        c = Conn(out, "10.1.8.77", port(), "10.3.0.%d" % (1 + i), 22)
        c.syn(100 + i * 0.2)
        c.syn(101 + i * 0.2, again=True)


def refusals_on_path(out, port, refuse_ttl):
    """10.2.0.10 serves :443 to 10 clients; they are refused on :8443 at @refuse_ttl."""
    for i in range(10):
        c = Conn(out, "10.1.9.%d" % (1 + i), port(), "10.2.0.10", 443, sttl=57)
        t = c.handshake(20 + i * 6)
        c.c_data(t + 0.001, 300)
        c.s_data(t + 0.004, 2000)
        c.close_client_first(t + 0.005)
        Conn(out, "10.1.9.%d" % (1 + i), port(), "10.2.0.10", 8443, sttl=57).refused(
            22 + i * 6, ttl=refuse_ttl)


def path_reset(out, port, rst_ttl):
    for i in range(12):
        c = Conn(out, "10.1.10.%d" % (1 + i % 6), port(), "10.2.0.11", 443, sttl=57)
        t = c.handshake(15 + i * 9)
        c.c_data(t + 0.001, 300)
        c.s_data(t + 0.004, 2000)
        c.s_rst(t + 5, ttl=rst_ttl)     # idle, then reset in the server's name


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    kind, path = sys.argv[1], sys.argv[2]
    out, port = [], Ports()
    background(out, port, kind != "web")
    if kind in ("normal", "web"):
        pass
    elif kind == "refused":
        refusals(out, port, [30 + i * 3 for i in range(20)])
    elif kind == "refused-quiet":
        refusals(out, port, [30, 90])
    elif kind in ("unanswered", "unanswered-quiet"):
        unanswered(out, port, 8 if kind == "unanswered" else 10, kind != "unanswered")
    elif kind == "resets":
        resets(out, port, 20, lambda i: True)
    elif kind == "resets-quiet":
        resets(out, port, 20, lambda i: i in (4, 13))
    elif kind in ("interrupt", "interrupt-quiet"):
        for i in range(5):
            download(out, port, i, kind == "interrupt")
    elif kind == "storm":
        crash(out, port, True)
    elif kind == "storm-quiet":
        short_sessions(out, port, 400, 20, True)
    elif kind == "storm-young":
        served_at_once(out, port)
    elif kind == "mass-close":
        crash(out, port, False)
    elif kind == "mass-close-quiet":
        short_sessions(out, port, 500, 50, False)
    elif kind == "orphan":
        orphans(out, port, 10)
    elif kind == "orphan-quiet":
        orphans(out, port, 1)
    elif kind == "scan":
        scan(out, port, 20)
    elif kind == "scan-quiet":
        scan(out, port, 3)
    elif kind in ("sweep", "sweep-quiet"):
        sweep(out, port, 30 if kind == "sweep" else 5)
    elif kind in ("refused-path", "refused-path-quiet"):
        refusals_on_path(out, port, 250 if kind == "refused-path" else 57)
    elif kind in ("path-reset", "path-reset-quiet"):
        path_reset(out, port, 61 if kind == "path-reset" else 57)
    elif kind == "spike":
        refusals(out, port, [5 + i * 30 for i in range(8)] + [180 + i * 0.25 for i in range(40)])
    elif kind == "spike-quiet":
        refusals(out, port, [3 + i * 4.9 for i in range(48)])
    else:
        sys.exit("diaggen.py: no scenario %s\n%s" % (kind, __doc__))
    out.sort(key=lambda x: x[0])
    p = Pcap(path)
    for t, frame in out:
        p.t = T0 + t
        p.rec(frame, dt=0)
    p.close()


if __name__ == "__main__":
    main()
