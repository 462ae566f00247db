# A listener on 127.0.0.1 for tests: prints its port, then holds it until killed.
import socket
import time

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
print(s.getsockname()[1], flush=True)
time.sleep(300)
