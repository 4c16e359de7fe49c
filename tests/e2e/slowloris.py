#!/usr/bin/env python3
# slowloris.py - a hostile local HTTP client for the tests: opens N connections to
# 127.0.0.1:PORT from the given source addresses in turn, sends each half a request's
# headers and holds them (with --drip, one more header byte a second, to look alive), until
# SIGTERM. Prints "connected N" once they are all open, and at the end "closed K": how many
# the server closed meanwhile.
import argparse, signal, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("n", type=int)
ap.add_argument("sources", help="comma-separated source addresses")
ap.add_argument("--drip", action="store_true")
a = ap.parse_args()

stop = False
def on_term(sig, frame):
    global stop
    stop = True
signal.signal(signal.SIGTERM, on_term)

socks = []
srcs = a.sources.split(",")
for i in range(a.n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((srcs[i % len(srcs)], 0))
    s.connect(("127.0.0.1", a.port))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow")
    s.setblocking(False)
    socks.append(s)
print("connected", len(socks), flush=True)
closed = set()
while not stop:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            if not s.recv(4096):
                closed.add(i)
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
        if a.drip and i not in closed:
            try:
                s.send(b"w")
            except OSError:
                closed.add(i)
    time.sleep(1 if a.drip else 0.2)
print("closed", len(closed), flush=True)
