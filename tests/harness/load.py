"""A client loop that counts answers while something changes under it (rotation, renewal).

    with RequestLoop([url_a, url_b], headers, at_least=1000) as loop:
        ...                             # rotate keys, swap a certificate
    assert loop.failures() == []         # every answer counted, none but 200

Requests go round the URLs until stopped and, after that, until at least ``at_least``
answers were counted (bounded by ``max_seconds``). A request that raised counts as 0.
``session`` makes the requests.Session the loop uses (e.g. one mounting a retry policy).
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import requests


class RequestLoop:
    def __init__(self, urls: list[str], headers: dict, *, at_least: int = 0, max_seconds: float = 300,
                 verify: bool | str = True, session: Callable[[], requests.Session] = requests.Session):
        self.urls, self.headers, self.at_least = urls, headers, at_least
        self._session = session
        self.max_seconds, self.verify = max_seconds, verify
        self.answers: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = self._session()
        deadline = time.monotonic() + self.max_seconds
        while time.monotonic() < deadline and not (self._stop.is_set() and len(self.answers) >= self.at_least):
            for url in self.urls:
                try:
                    self.answers.append(session.get(url, headers=self.headers, timeout=5, verify=self.verify).status_code)
                except requests.RequestException:
                    self.answers.append(0)

    def failures(self, ok: tuple[int, ...] = (200,)) -> list[int]:
        return [answer for answer in self.answers if answer not in ok]

    def __enter__(self) -> "RequestLoop":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
