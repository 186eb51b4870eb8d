"""Fault injection and request counters shared by the simulators, driven through a small control API.

A simulator installs `Knobs` on its Flask app; tests and people then steer it over HTTP under `/_sandbox/`:

    POST   /_sandbox/faults    {"status": 429, "retry_after": 2, "count": 3}   the next 3 requests
    POST   /_sandbox/faults    {"status": 503, "share": 0.1}                    10% of requests
    POST   /_sandbox/faults    {"latency_ms": 200}                              every request, slower
    DELETE /_sandbox/faults                                                     back to normal
    GET    /_sandbox/counters                                                   {"GET /rest/api/3/issue/<key>": 4}
    DELETE /_sandbox/counters                                                   reset
"""

from __future__ import annotations

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
