#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hold received pages elsewhere than in the socket: a receiver that
splices what it receives into a pipe. The pipe takes a reference on each
page fragment the data sits in (skb_splice_bits(); data in an skb's
locked head is copied instead), the socket then frees its skbs,
and page_pool gets its pages back with a reference it does not own: the
provider counts them lost (pages-lost, mp_huge_release outcome=lost).
The pipe is drained before the receiver ends, dropping those references.

usage: splice_hold.py serve PORT     receive one connection; print the
                                     bytes spliced and the bytes read
       splice_hold.py send ADDR PORT BYTES
"""

import fcntl
import os
import select
import socket
import sys
import time

F_SETPIPE_SZ = 1031
PIPE_BYTES = 1 << 20


def serve(port):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(('0.0.0.0', port))
    ls.listen(1)
    ls.settimeout(60)
    conn, _ = ls.accept()
    conn.settimeout(60)
    rd, wr = os.pipe()
    fcntl.fcntl(wr, F_SETPIPE_SZ, PIPE_BYTES)
    spliced = 0
    # splice until the pipe is full (each skb's data takes a slot of it)
    # or the sender is done
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not select.select([conn], [], [], 1)[0]:
            continue
        try:
            n = os.splice(conn.fileno(), wr, PIPE_BYTES,
                          flags=os.SPLICE_F_NONBLOCK)
        except BlockingIOError:
            break               # the pipe is full
        if not n:
            break
        spliced += n
    os.close(wr)
    while os.read(rd, 65536):
        pass
    os.close(rd)
    read = 0
    while True:
        data = conn.recv(1 << 16)
        if not data:
            break
        read += len(data)
    conn.close()
    print(f'spliced {spliced} read {read}', flush=True)


def send(addr, port, nbytes):
    with socket.create_connection((addr, port), timeout=60) as s:
        chunk = b'x' * 65536
        left = nbytes
        while left > 0:
            left -= s.send(chunk[:min(left, len(chunk))])
        s.shutdown(socket.SHUT_WR)
        while s.recv(4096):
            pass


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'serve':
        serve(int(sys.argv[2]))
    elif len(sys.argv) == 5 and sys.argv[1] == 'send':
        send(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
