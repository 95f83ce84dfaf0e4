"""Free TCP ports on loopback for the processes the harness starts."""

import socket


def free_port(address: str = "127.0.0.1") -> int:
    """Return a TCP port on ``address`` that is free right now.

    The port is released before it is returned, so another process could
    take it in between; for a throwaway test server that race is acceptable.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((address, 0))
        return sock.getsockname()[1]
