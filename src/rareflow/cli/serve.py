"""``rareflow serve``: the local web dashboard."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click
from rich.console import Console

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="Interface to listen on. Anything but loopback exposes the dashboard, which "
                   "has no login, to your network.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535),
              help="TCP port.")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("rareflow-runs"), show_default=True, envvar="RAREFLOW_STORE",
              help="Run store folder (or set RAREFLOW_STORE).")
@click.option("--max-runs", default=2, show_default=True, type=click.IntRange(1, 8),
              help="Runs that may be in progress at once (each uses one CPU core).")
def serve_command(host: str, port: int, store_dir: Path, max_runs: int) -> None:
    """Start the web dashboard: pick a scenario, move policy levers, run, compare past runs."""
    import uvicorn

    from rareflow.web.app import LOOPBACK_HOSTS, create_app

    console = Console(stderr=True)
    allowed: tuple[str, ...] = LOOPBACK_HOSTS
    if not is_loopback(host):
        console.print(
            f"[bold red]WARNING:[/bold red] listening on [bold]{host}[/bold], not on loopback: "
            "anyone who can reach this machine can use the dashboard and start runs. There is "
            "no authentication. Use the default --host 127.0.0.1 unless you mean it."
        )
        allowed = ("*",)
    app = create_app(store_dir, max_active_runs=max_runs, allowed_hosts=allowed)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"rareflow dashboard on [bold]http://{shown}:{port}/[/bold] "
                  f"(runs stored in {store_dir}); Ctrl+C stops it")
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False,
                proxy_headers=False)
