"""Fault injection and request counters shared by the simulators, driven through a small control API.

A simulator installs `Knobs` on its Flask app; tests and people then steer it over HTTP under `/_sandbox/`:

    POST   /_sandbox/faults    {"status": 429, "retry_after": 2, "count": 3}   the next 3 requests
    POST   /_sandbox/faults    {"status": 503, "share": 0.1}                    10% of requests
    POST   /_sandbox/faults    {"latency_ms": 200}                              every request, slower
    DELETE /_sandbox/faults                                                     back to normal
    GET    /_sandbox/faults        {"faults": [...], "served": {"429": 3, "latency": 5}}   the faults in force, and
                                   how many requests each kind of fault has hit (an error status, or latency only)
    GET    /_sandbox/counters                                                   {"GET /rest/api/3/issue/<key>": 4}
    DELETE /_sandbox/counters                                                   reset

A simulator may also carry a `RateLimit`, a request budget (token bucket) for its tenant, served as

    POST   /_sandbox/rate-limit    {"rate": 10, "burst": 20}   10 requests a second, bursts of 20; past it, 429
    GET    /_sandbox/rate-limit                                {"rate": 10, "burst": 20}, or {"rate": null, ...}
    DELETE /_sandbox/rate-limit                                no limit (the default)
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, jsonify, request

CONTROL_PREFIX = "/_sandbox/"


@dataclass
class Fault:
    """What to do to matching requests: answer `status` (with Retry-After) and/or add latency."""

    status: int | None = None
    retry_after: int | None = None
    latency_ms: int = 0
    share: float = 1.0
    count: int | None = None  # None: until cleared
    path_prefix: str = ""


class Knobs:
    """Fault injection and counters for one simulator. Thread-safe; one instance per simulator."""

    def __init__(self, error_body: Callable[[int], Response], seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._counters: Counter[str] = Counter()
        self._served: Counter[str] = Counter()  # requests a fault hit, by status ("latency" for latency only)
        self._random = random.Random(seed)
        self._error_body = error_body

    # -- control ---------------------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        if fault.status is None and not fault.latency_ms:
            raise ValueError("a fault needs a status, a latency_ms, or both")
        if fault.status is not None and not 400 <= fault.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if not 0.0 < fault.share <= 1.0:
            raise ValueError("share must be in (0, 1]")
        if fault.count is not None and fault.count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        with self._lock:
            self._counters.clear()
            self._served.clear()

    def faults(self) -> list[dict[str, object]]:
        """The faults in force, as they were added (a counted fault with what is left of its count)."""
        with self._lock:
            return [dict(vars(fault)) for fault in self._faults]

    def faults_served(self) -> dict[str, int]:
        """How many requests the faults hit: by error status, and "latency" for those only slowed down."""
        with self._lock:
            return dict(self._served)

    # -- per request -----------------------------------------------------------------------------
    def count(self, key: str) -> None:
        with self._lock:
            self._counters[key] += 1

    def pick_fault(self, path: str) -> Fault | None:
        """The fault that applies to this request, consuming one of its `count` if it has one."""
        with self._lock:
            for fault in list(self._faults):
                if not path.startswith(fault.path_prefix):
                    continue
                if fault.share < 1.0 and self._random.random() >= fault.share:
                    continue
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count == 0:
                        self._faults.remove(fault)
                self._served[str(fault.status) if fault.status is not None else "latency"] += 1
                return fault
        return None

    def install(self, app: Flask, counter_key: Callable[[], str] | None = None) -> None:
        """Hook the knobs into `app`: count every request, apply faults, serve the control API."""

        def default_key() -> str:
            rule = request.url_rule.rule if request.url_rule is not None else request.path
            return f"{request.method} {rule}"

        key_of = counter_key or default_key

        @app.before_request
        def _apply_knobs() -> Response | None:
            if request.path.startswith(CONTROL_PREFIX):
                return None
            self.count(key_of())
            fault = self.pick_fault(request.path)
            if fault is None:
                return None
            if fault.latency_ms:
                time.sleep(fault.latency_ms / 1000)
            if fault.status is None:
                return None
            response = self._error_body(fault.status)
            response.status_code = fault.status
            if fault.retry_after is not None:
                response.headers["Retry-After"] = str(fault.retry_after)
            return response

        app.register_blueprint(self._control_blueprint())

    def _control_blueprint(self) -> Blueprint:
        bp = Blueprint(f"sandbox_knobs_{id(self)}", __name__, url_prefix=CONTROL_PREFIX.rstrip("/"))

        @bp.post("/faults")
        def add_fault() -> tuple[Response, int]:
            body = request.get_json(silent=True)
            if not isinstance(body, dict):
                return jsonify(error="body must be a JSON object"), 400
            allowed = set(Fault.__dataclass_fields__)
            unknown = set(body) - allowed
            if unknown:
                return jsonify(error=f"unknown fields: {sorted(unknown)}; allowed: {sorted(allowed)}"), 400
            try:
                self.add_fault(Fault(**body))
            except (TypeError, ValueError) as exc:
                return jsonify(error=str(exc)), 400
            return jsonify(ok=True), 201

        @bp.get("/faults")
        def list_faults() -> Response:
            return jsonify(faults=self.faults(), served=self.faults_served())

        @bp.delete("/faults")
        def clear_faults() -> tuple[str, int]:
            self.clear_faults()
            return "", 204

        @bp.get("/counters")
        def get_counters() -> Response:
            return jsonify(self.counters())

        @bp.delete("/counters")
        def reset_counters() -> tuple[str, int]:
            self.reset_counters()
            return "", 204

        return bp


@dataclass(frozen=True)
class Admission:
    """A rate limit's answer to one request: let through or not, and what the rate-limit headers say."""

    admitted: bool
    limit: int  # the burst: the most requests that may go at once
    remaining: int  # whole requests left in the budget after this one
    retry_after: float  # seconds until the next request would be let through (0 when admitted)


class RateLimit:
    """One tenant's request budget: `rate` requests a second, saved up to `burst`. Off until configured;
    configuring starts the bucket full. Thread-safe; the clock is injectable so tests need no sleeps."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._rate: float | None = None
        self._burst = 0
        self._tokens = 0.0
        self._updated = 0.0

    @property
    def settings(self) -> dict[str, float | int | None]:
        with self._lock:
            return {"rate": self._rate, "burst": self._burst if self._rate is not None else None}

    def configure(self, rate: float | None, burst: int | None = None) -> None:
        """`rate` requests a second with bursts of `burst` (default: the rate, at least 1); None: no limit."""
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or not rate > 0):
            raise ValueError("rate must be a number of requests a second above 0")
        if burst is not None and (isinstance(burst, bool) or not isinstance(burst, int) or burst < 1):
            raise ValueError("burst must be a whole number of requests, at least 1")
        with self._lock:
            self._rate = float(rate) if rate is not None else None
            self._burst = burst if burst is not None else max(1, math.ceil(rate or 1))
            self._tokens = float(self._burst)
            self._updated = self._clock()

    def admit(self) -> Admission | None:
        """Take a token for one request; None when no limit is set."""
        with self._lock:
            if self._rate is None:
                return None
            now = self._clock()
            self._tokens = min(float(self._burst), self._tokens + (now - self._updated) * self._rate)
            self._updated = now
            if self._tokens >= 1:
                self._tokens -= 1
                return Admission(True, self._burst, math.floor(self._tokens), 0.0)
            return Admission(False, self._burst, 0, (1 - self._tokens) / self._rate)

    def blueprint(self, name: str) -> Blueprint:
        """The control API: POST/GET/DELETE `/_sandbox/rate-limit`."""
        bp = Blueprint(name, __name__, url_prefix=CONTROL_PREFIX.rstrip("/"))

        @bp.post("/rate-limit")
        def set_limit() -> tuple[Response, int]:
            body = request.get_json(silent=True)
            if not isinstance(body, dict) or "rate" not in body:
                return jsonify(error='body must be {"rate": <requests a second>, "burst": <requests>}'), 400
            unknown = set(body) - {"rate", "burst"}
            if unknown:
                return jsonify(error=f"unknown fields: {sorted(unknown)}; allowed: ['burst', 'rate']"), 400
            try:
                self.configure(body["rate"], body.get("burst"))
            except ValueError as exc:
                return jsonify(error=str(exc)), 400
            return jsonify(self.settings), 200

        @bp.get("/rate-limit")
        def get_limit() -> Response:
            return jsonify(self.settings)

        @bp.delete("/rate-limit")
        def clear_limit() -> tuple[str, int]:
            self.configure(None)
            return "", 204

        return bp
