"""Thousands of loopback sockets that change on command, for tests/scale.rs.

Usage: churn.py SOCKETS. Opens about SOCKETS sockets (listeners, bound UDP sockets and both
ends of loopback connections), forks a helper that receives passed descriptors, then reads one
command per line on stdin and answers one line on stdout once done:
  step SEED   one tick's worth of adversarial churn (below)  -> "pids P1 P2 ..."
It exits when stdin closes; the helper and any forked holder die with it.

A step, with SEED picking what: closes a few hundred sockets and opens as many new ones;
closes a listener and binds its port again at once (same port, new socket); moves a socket to
another descriptor number (same socket, new fd); passes a socket to the helper over a Unix
socket and closes its own copy (the owner changes, the socket does not); forks a child that
keeps every socket (shared owners) or ends the one forked before.
"""

import array
import ctypes
import os
import random
import resource
import signal
import socket
import sys

PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL(None, use_errno=True)


def die_with_parent():
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def reply(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def listener(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


def udp():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(("::1", 0))
    return s


class Churn:
    def __init__(self, count):
        self.server = listener()
        self.server.listen(4096)
        self.held = []
        self.forked = None
        parent_end, helper_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.helper = os.fork()
        if self.helper == 0:
            die_with_parent()
            parent_end.close()
            self.keep_passed(helper_end)
        helper_end.close()
        self.to_helper = parent_end
        self.open(count)

    def keep_passed(self, channel):
        """The helper: holds every descriptor it is sent, acknowledging each."""
        kept = []
        while True:
            fds = array.array("i")
            msg, ancdata, _, _ = channel.recvmsg(1, socket.CMSG_LEN(fds.itemsize))
            if not msg:
                os._exit(0)
            for level, kind, data in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
            kept.extend(fds)
            channel.sendall(b"k")

    def open(self, count):
        """About `count` new sockets: a fifth listeners, a fifth UDP, the rest connection ends."""
        listeners = count // 5
        udps = count // 5
        for _ in range(listeners):
            self.held.append(listener())
        for _ in range(udps):
            self.held.append(udp())
        port = self.server.getsockname()[1]
        pairs = (count - listeners - udps) // 2
        while pairs > 0:
            batch = min(pairs, 512)
            clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(batch)]
            self.held.extend(clients)
            self.held.extend(self.server.accept()[0] for _ in range(batch))
            pairs -= batch

    def step(self, seed):
        rng = random.Random(seed)
        # Closed and replaced.
        rng.shuffle(self.held)
        gone = rng.randrange(50, 400)
        for s in self.held[:gone]:
            s.close()
        del self.held[:gone]
        self.open(gone)  # appended: the newest sockets are last
        # A listener closed and its port bound again at once. One opened in this step: no
        # forked child shares it, so its port is free the moment it is closed.
        for i in range(len(self.held) - 1, -1, -1):
            s = self.held[i]
            if s.type == socket.SOCK_STREAM and s.getsockopt(
                socket.SOL_SOCKET, socket.SO_ACCEPTCONN
            ):
                port = s.getsockname()[1]
                s.close()
                self.held[i] = listener(port)
                break
        # The same socket under another descriptor number.
        victim = self.held.pop(rng.randrange(len(self.held)))
        self.held.append(socket.socket(fileno=os.dup(victim.fileno())))
        victim.close()
        # A socket passed to the helper, this copy closed.
        passed = self.held.pop(rng.randrange(len(self.held)))
        self.to_helper.sendmsg(
            [b"p"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [passed.fileno()]))]
        )
        self.to_helper.recv(1)
        passed.close()
        # A fork that shares every socket, or its end.
        if self.forked is None:
            self.forked = os.fork()
            if self.forked == 0:
                die_with_parent()
                signal.pause()
                os._exit(0)
        else:
            os.kill(self.forked, signal.SIGKILL)
            os.waitpid(self.forked, 0)
            self.forked = None
        pids = [os.getpid(), self.helper] + ([self.forked] if self.forked else [])
        return "pids " + " ".join(map(str, pids))


def main():
    count = int(sys.argv[1])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 1024
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    churn = Churn(count)
    reply("ready " + str(len(churn.held)))
    for line in sys.stdin:
        words = line.split()
        if words and words[0] == "step":
            reply(churn.step(int(words[1])))
    os.kill(churn.helper, signal.SIGKILL)


if __name__ == "__main__":
    main()
