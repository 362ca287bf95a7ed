"""The CLI's one exit-status rule, and the one place that turns errors into it.

* **0** - the command did its work and found nothing wrong.
* **1** - the command ran, and its result is a problem: an ensemble with failed draws, a
  bundled scenario that does not load (``scenarios list``), an aborted confirmation.
* **2** - bad input or usage: an unknown option or scenario, an invalid scenario file or data
  override (the same for ``scenarios check``, ``data check``, ``run`` and ``ensemble``), years
  outside the world's range, a scenario whose year has no market solution, a run store that
  cannot be used (missing, foreign, locked, corrupt), an unreachable ``--scheduler``.

:class:`RareflowGroup` (the ``rareflow`` group's class) catches the errors of the last kind from
every command and prints them as one ``error:`` line on stderr, with rich markup escaped, so
no user input reaches the terminal as a traceback.
"""

from __future__ import annotations

from typing import Any, NoReturn

import click
from rich.console import Console
from rich.text import Text

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_BAD_INPUT = 2

#: The rule as shown at the end of ``rareflow --help``.
EXIT_RULE = (
    "Exit status: 0 ok; 1 the command ran and found a problem (e.g. failed ensemble draws); "
    "2 bad input or usage (invalid scenario, data or years, unusable run store, unreachable "
    "scheduler, a year with no market solution)."
)


class BadInput(click.ClickException):
    """A one-line refusal of the user's input, with exit status 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        """Print ``error: message`` on stderr, the markup in the message shown as written."""
        print_error(self.format_message())


def print_error(message: str) -> None:
    """``error: message`` on stderr; ``message`` is plain text, never rich markup."""
    one_line = "; ".join(part.strip() for part in message.splitlines() if part.strip())
    Console(stderr=True, highlight=False).print(
        Text.assemble(("error: ", "red"), one_line), soft_wrap=True
    )


def fail(message: str) -> NoReturn:
    """Refuse the user's input: print ``message`` as one error line and exit with status 2."""
    raise BadInput(message)


def _bad_input_types() -> tuple[type[BaseException], ...]:
    """Error classes that mean bad input (imported late, to keep ``--help`` fast)."""
    from rareflow.engine.diagnostics import InfeasibleYearError
    from rareflow.model.errors import DataError
    from rareflow.runs.ensemble.driver import SchedulerUnreachableError
    from rareflow.runs.infeasible import InfeasibleScenarioError
    from rareflow.store.errors import StoreError

    return (DataError, StoreError, InfeasibleScenarioError, InfeasibleYearError,
            SchedulerUnreachableError)


def _message(error: BaseException) -> str:
    from rareflow.store.errors import StoreError

    text = str(error)
    return f"run store: {text}" if isinstance(error, StoreError) else text


class RareflowGroup(click.Group):
    """A click group whose commands share the exit-status rule of this module."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; bad input becomes one error line and exit status 2."""
        try:
            return super().invoke(ctx)
        except click.ClickException as error:
            if type(error) is click.ClickException:  # a plain refusal is bad input too
                raise BadInput(error.message) from None
            raise
        except (click.exceptions.Exit, click.Abort):  # --help, --version, a declined prompt
            raise
        except Exception as error:
            if isinstance(error, _bad_input_types()):
                raise BadInput(_message(error)) from None
            raise
