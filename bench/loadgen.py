"""A small asyncio HTTP/1.1 load generator: N requests from C concurrent clients, per-request
latency measured from the first byte sent to the last byte received (connect included, as a
client of a `sync` gunicorn worker pays it on every request)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Result:
    latencies_ms: list[float]
    statuses: Counter[int]
    seconds: float
    bodies: list[bytes]

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def per_second(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return 0.0
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def summary(self) -> dict[str, float | int | dict[str, int]]:
        return {
            "requests": self.count,
            "seconds": round(self.seconds, 3),
            "per_second": round(self.per_second, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "max_ms": round(max(self.latencies_ms, default=0.0), 1),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else 0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


async def _one(host: str, port: int, request: Request) -> tuple[float, int, bytes]:
    head = [f"{request.method} {request.path} HTTP/1.1", f"Host: {host}:{port}",
            "Connection: close", f"Content-Length: {len(request.body)}"]  # fmt: skip
    head += [f"{k}: {v}" for k, v in request.headers.items()]
    payload = ("\r\n".join(head) + "\r\n\r\n").encode() + request.body
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(payload)
    await writer.drain()
    raw = await reader.read()  # the server closes the connection after the response
    elapsed = (time.perf_counter() - start) * 1000
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    status = int(status_line.split()[1]) if status_line else 0
    body = rest.partition(b"\r\n\r\n")[2]
    return elapsed, status, body


async def _run(host: str, port: int, make: Callable[[int], Request], total: int, clients: int,
               keep_bodies: bool) -> Result:  # fmt: skip
    counter = iter(range(total))
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    bodies: list[bytes] = []

    async def client() -> None:
        for index in counter:
            elapsed, status, body = await _one(host, port, make(index))
            latencies.append(elapsed)
            statuses[status] += 1
            if keep_bodies:
                bodies.append(body)

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return Result(latencies, statuses, time.perf_counter() - start, bodies)


def run(host: str, port: int, make: Callable[[int], Request], *, total: int, clients: int,
        keep_bodies: bool = False) -> Result:  # fmt: skip
    return asyncio.run(_run(host, port, make, total, clients, keep_bodies))
