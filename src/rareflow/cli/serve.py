"""``rareflow serve``: the local web dashboard."""

from __future__ import annotations

import errno
import ipaddress
import socket
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape

from rareflow.cli.errors import fail
from rareflow.cli.options import store_option

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050
#: Hosts that listen on every interface.
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def served_names(host: str, server_names: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Host headers the dashboard accepts when it listens on ``host``.

    Always the loopback names and ``server_names``; plus ``host`` itself when it is one address
    or name, or this machine's host names when it is a wildcard (``0.0.0.0``, ``::``). Never
    ``*``: a Host header check stops other web pages reaching the server by DNS rebinding.
    """
    from rareflow.web.app import LOOPBACK_HOSTS

    names = [*LOOPBACK_HOSTS, *server_names]
    bare = host.strip("[]")
    if bare in WILDCARDS:
        names += [socket.gethostname(), socket.getfqdn()]
    else:
        names.append(f"[{bare}]" if ":" in bare else bare)
    return tuple(dict.fromkeys(name for name in names if name))


def port_problem(host: str, port: int) -> str | None:
    """Why the dashboard cannot listen on ``host``:``port`` (None when a test bind succeeds).

    Binds and closes a socket on each address ``host`` resolves to, with ``SO_REUSEADDR`` as
    uvicorn sets it, so a port left in TIME_WAIT by an earlier server counts as free and one
    another program listens on does not. Only a port in use or one this user may not open is
    reported; other bind errors (an address of another machine) are left to the server.
    """
    bare = host.strip("[]") or None
    try:
        addresses = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        return f"cannot resolve --host {host}: {error.strerror or error}"
    for family, kind, protocol, _, address in addresses:
        with socket.socket(family, kind, protocol) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno not in (errno.EADDRINUSE, errno.EACCES):
                    continue
                reason = error.strerror or str(error)
                return (f"cannot listen on port {port} of {host}: {reason} (another program, "
                        "perhaps another 'rareflow serve', uses it); pick another with --port")
    return None


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Interface to listen on. Anything but loopback exposes the dashboard, which "
                   "has no login, to your network, and needs --allow-remote.")
@click.option("--allow-remote", is_flag=True,
              help="Allow a --host other than loopback (the dashboard has no authentication).")
@click.option("--server-name", "server_names", multiple=True, metavar="NAME",
              help="Another host name the dashboard is reached by (checked against the Host "
                   "header; repeatable).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port.")
@store_option
@click.option("--max-runs", default=2, show_default=True, type=click.IntRange(1, 8),
              help="Runs that may be in progress at once (each uses one CPU core).")
def serve_command(host: str, allow_remote: bool, server_names: tuple[str, ...], port: int,
                  store_dir: Path, max_runs: int) -> None:
    """Start the web dashboard: pick a scenario, move policy levers, run, compare past runs."""
    import uvicorn

    from rareflow.web.app import create_app

    console = Console(stderr=True)
    if not is_loopback(host):
        if not allow_remote:
            raise click.UsageError(
                f"--host {host} is not loopback: anyone who can reach this machine could use "
                "the dashboard, which has no authentication; add --allow-remote if you mean it"
            )
        console.print(
            f"[bold red]WARNING:[/bold red] listening on [bold]{escape(host)}[/bold], not on "
            "loopback: anyone who can reach this machine can use the dashboard and start runs. "
            "There is no authentication. Use the default --host 127.0.0.1 unless you mean it."
        )
    problem = port_problem(host, port)
    if problem is not None:
        fail(problem)
    allowed = served_names(host, server_names)
    app = create_app(store_dir, max_active_runs=max_runs, allowed_hosts=allowed)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"rareflow dashboard on [bold]{escape(f'http://{shown}:{port}/')}[/bold] "
                  f"(runs stored in {escape(str(store_dir))}; accepted host names: "
                  f"{escape(', '.join(allowed))}); Ctrl+C stops it")
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False,
                proxy_headers=False)
