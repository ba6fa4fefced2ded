#!/usr/bin/env python3
"""Measures `inkling serve` under the hostile clients of issue 17, on a loopback port:
  1. the server's resident memory while a client sends a 64 MiB chunked body;
  2. the time to answer a completion whose prompt is 64 KiB of digits;
  3. /health latency while 40 slow clients hold connections open.
usage: server_hostile.py INKLING_CLI MODEL [extra serve args...]
Prints one line per figure. Every socket has a timeout; the server is stopped at the end."""
import re
import socket
import statistics
import subprocess
import sys
import time


def rss_kib(pid, key="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def start(cli, model, extra):
    p = subprocess.Popen([cli, "serve", "-m", model, "--port", "0", *extra],
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = p.stderr.readline()
        m = re.search(r"serving on http://[^:]+:(\d+)/", line)
        if m:
            return p, int(m.group(1))
    p.kill()
    raise SystemExit("server did not start")


def request(port, raw, timeout=60.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(raw)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
    except OSError:
        pass
    s.close()
    return out


def head(method, path, port, extra=""):
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n{extra}\r\n".encode()


def chunked_body(port, pid):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(head("POST", "/v1/completions", port,
                   "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"))
    s.sendall(b'b\r\n{"prompt":"\r\n')
    piece = b"a" * 65536
    chunk = b"%x\r\n" % len(piece) + piece + b"\r\n"
    sent = 0
    peak = rss_kib(pid)
    try:
        for _ in range(1024):
            s.sendall(chunk)
            sent += len(piece)
            peak = max(peak, rss_kib(pid))
        s.sendall(b'2\r\n"}\r\n0\r\n\r\n')
    except OSError:
        pass
    answer = b""
    try:
        answer = s.recv(200)
    except OSError:
        pass
    s.close()
    time.sleep(0.5)
    peak = max(peak, rss_kib(pid))
    status = answer.split(b"\r\n", 1)[0].decode(errors="replace") or "(connection reset)"
    return sent, peak, status


def digits_prompt(port):
    body = ('{"prompt": "' + "0123456789" * 6554 + '", "max_tokens": 1}').encode()
    t = time.time()
    answer = request(port, head("POST", "/v1/completions", port,
                                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n") + body, timeout=600)
    return time.time() - t, answer.split(b"\r\n", 1)[0].decode(errors="replace")


def slow_clients(port, n=40, probes=20):
    slow = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
        s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(s)
    time.sleep(0.2)
    times, failed = [], 0
    for _ in range(probes):
        t = time.time()
        try:
            r = request(port, head("GET", "/health", port), timeout=5)
            if not r.startswith(b"HTTP/1.1 200"):
                failed += 1
        except OSError:
            failed += 1
        times.append(time.time() - t)
    for s in slow:
        s.close()
    return times, failed


def main():
    cli, model, extra = sys.argv[1], sys.argv[2], sys.argv[3:]
    p, port = start(cli, model, extra)
    try:
        base = rss_kib(p.pid)
        sent, peak, status = chunked_body(port, p.pid)
        print(f"64 MiB chunked body: server RSS {base / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB; "
              f"client got {sent / 1048576:.1f} MiB out; answer: {status}")
        secs, status = digits_prompt(port)
        print(f"64 KiB of digits as a prompt: answered in {secs:.3f} s: {status}")
        times, failed = slow_clients(port)
        print(f"/health under 40 slow clients: median {statistics.median(times) * 1000:.1f} ms, "
              f"max {max(times) * 1000:.1f} ms, {failed} of {len(times)} failed (5 s limit)")
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


if __name__ == "__main__":
    main()
