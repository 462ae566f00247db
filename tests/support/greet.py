# A server on 127.0.0.1 for tests: prints its port, then answers every connection with one
# line and closes it, until killed. What reaches it through a tunnel proves the tunnel.
import socket

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
while True:
    conn, _ = s.accept()
    with conn:
        conn.sendall(b"greetings from the far end\n")
