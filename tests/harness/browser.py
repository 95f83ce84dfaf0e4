"""Headless Chromium (Debian's `chromium` package) driven over its DevTools protocol.

A tiny client of our own: Chromium's remote-debugging WebSocket (RFC 6455, text frames
only) and the few CDP commands the tests need (Page.navigate, Runtime.evaluate,
Input.insertText). No Playwright and no browser download: the browser is the apt package
scripts/install-system-packages.sh installs.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

#: Debian's chromium package: the real binary behind the /usr/bin/chromium launcher script.
BINARIES = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")


def chromium_binary() -> str:
    for path in BINARIES:
        if os.access(path, os.X_OK):
            return path
    raise FileNotFoundError("chromium is missing: run scripts/install-system-packages.sh (apt package 'chromium')")


class WebSocket:
    """A WebSocket client for text messages (what CDP speaks)."""

    def __init__(self, url: str, timeout: float = 30):
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            head += chunk
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(f"DevTools refused the WebSocket: {head.decode(errors='replace').splitlines()[0]}")

    def _exact(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            data += chunk
        return data

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        header = bytes([0x80 | opcode])
        size = len(payload)
        if size < 126:
            header += bytes([0x80 | size])
        elif size < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", size)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", size)
        mask = os.urandom(4)  # a client masks every frame
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def send(self, text: str) -> None:
        self._send_frame(0x1, text.encode())

    def receive(self) -> str:
        message = b""
        while True:
            first, second = self._exact(2)
            opcode, size = first & 0x0F, second & 0x7F
            if size == 126:
                size = struct.unpack("!H", self._exact(2))[0]
            elif size == 127:
                size = struct.unpack("!Q", self._exact(8))[0]
            mask = self._exact(4) if second & 0x80 else None
            payload = self._exact(size)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x9:  # ping
                self._send_frame(0xA, payload)
                continue
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0x1, 0x0):
                message += payload
                if first & 0x80:  # FIN
                    return message.decode()

    def close(self) -> None:
        try:
            self._send_frame(0x8, b"")
        finally:
            self.sock.close()


class Page:
    """One tab, driven with CDP commands."""

    def __init__(self, ws_url: str):
        self.ws = WebSocket(ws_url)
        self._next_id = 0
        self.events: list[dict] = []

    def command(self, method: str, **params) -> dict:
        self._next_id += 1
        ident = self._next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.command("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]!r}: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def navigate(self, url: str, timeout: float = 60) -> None:
        self.command("Page.enable")
        self.command("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'", timeout, f"{url} loaded")

    def wait_for(self, expression: str, timeout: float = 30, what: str | None = None):
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout} s for {what or expression}")
            time.sleep(0.2)

    def click(self, selector: str, timeout: float = 30) -> None:
        """Wait for ``selector`` and click it (a DOM click event, as React listens for)."""
        found = json.dumps(selector)
        self.wait_for(f"document.querySelector({found}) !== null", timeout, selector)
        self.evaluate(f"document.querySelector({found}).scrollIntoView(); document.querySelector({found}).click()")

    def type_into(self, selector: str, text: str, timeout: float = 30) -> None:
        """Focus ``selector``, clear it and type ``text`` as keyboard input."""
        found = json.dumps(selector)
        self.wait_for(f"document.querySelector({found}) !== null", timeout, selector)
        self.evaluate(f"(() => {{ const e = document.querySelector({found}); e.focus(); e.select(); }})()")
        self.command("Input.insertText", text=text)

    def close(self) -> None:
        self.ws.close()


class Chromium:
    """``with Chromium() as browser: page = browser.page()``: a headless browser with a
    fresh profile, gone (with its profile) on exit."""

    def __init__(self):
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        self.log_path = self.profile.parent / f"{self.profile.name}.log"
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def __enter__(self) -> Chromium:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [chromium_binary(), *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-address=127.0.0.1",
                 "--remote-debugging-port=0", "about:blank"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while self.port is None:
            match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", self.log_path.read_text(errors="replace"))
            if match:
                self.port = int(match.group(1))
            elif self.process.poll() is not None or time.monotonic() > deadline:
                output = self.log_path.read_text(errors="replace")[-3000:]
                self.__exit__()
                raise RuntimeError(f"chromium did not start its DevTools endpoint:\n{output}")
            else:
                time.sleep(0.1)
        return self

    def page(self) -> Page:
        targets = requests.get(f"http://127.0.0.1:{self.port}/json/list", timeout=10).json()
        page = next(t for t in targets if t["type"] == "page")
        return Page(page["webSocketDebuggerUrl"])

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)
