"""Where a re-used market starts each year's solve: from a reference run's basis, or last year's.

Ensemble draws re-solve one built market. Warm-starting a year from the draw's own previous
year makes every draw pay for the same big year-to-year changes again. The *undrawn* scenario's
basis of the same year is usually closer while a draw stays near it, and farther once the draw
has drifted away.

:class:`ReferenceBases` holds those bases (recorded by :class:`BasisRecorder` during one run of
the undrawn scenario) and, for each draw, starts every year from the reference basis of that
year until a year started that way needs :data:`DRIFT_ITERATIONS` iterations or more; from then
on it leaves HiGHS to warm-start from the draw's previous year. The choice depends only on the
draw's own solves, so a draw's results do not depend on which draws a worker ran before it.
"""

from __future__ import annotations

from typing import Protocol

import highspy

from rareflow.engine.inputs import YearInputs

#: Iterations from a reference basis that mark a draw as drifted away from the reference run.
#: Chosen by replaying recorded draws, as the value that cut their simplex iterations most.
DRIFT_ITERATIONS = 50


class SolvingModel(Protocol):
    """What a start policy needs of the market it hooks into.

    :class:`~rareflow.engine.market.MarketModel` is one; a protocol keeps this module from
    importing the market that imports it.
    """

    @property
    def inputs(self) -> YearInputs | None:
        """The year being solved."""

    def basis(self) -> highspy.HighsBasis:
        """A copy of the current basis."""

    def restart(self, basis: highspy.HighsBasis | None = None) -> None:
        """Forget the solver state and, with ``basis``, start the next solve from it."""


class StartPolicy:
    """Hook a :class:`~rareflow.engine.market.MarketModel` calls around each solve."""

    def before_solve(self, model: SolvingModel) -> None:
        """Called just before HiGHS runs the year in ``model.inputs``."""

    def after_solve(self, model: SolvingModel, iterations: int) -> None:
        """Called after an optimal solve that took ``iterations`` simplex iterations."""


class BasisRecorder(StartPolicy):
    """Records the optimal basis of every solved year (for :class:`ReferenceBases`)."""

    def __init__(self) -> None:
        self.bases: dict[int, highspy.HighsBasis] = {}

    def after_solve(self, model: SolvingModel, iterations: int) -> None:
        """Keep a copy of the year's optimal basis."""
        if model.inputs is not None:
            self.bases[model.inputs.year] = model.basis()


class ReferenceBases(StartPolicy):
    """Start each year from the reference basis of that year until the draw drifts away."""

    def __init__(self, bases: dict[int, highspy.HighsBasis],
                 drift_iterations: int = DRIFT_ITERATIONS) -> None:
        self.bases = dict(bases)
        self.drift_iterations = drift_iterations
        self._following = True
        self._restarted = False

    @property
    def following(self) -> bool:
        """Whether the next year starts from its reference basis."""
        return self._following

    def begin_draw(self) -> None:
        """Follow the reference again: call before a draw's first year.

        That year then restarts from its reference basis, whatever the model solved before.
        """
        self._following = True

    def before_solve(self, model: SolvingModel) -> None:
        """Restart from the year's reference basis while the draw follows the reference."""
        year = model.inputs.year if model.inputs is not None else None
        basis = self.bases.get(year) if self._following and year is not None else None
        self._restarted = basis is not None
        if basis is not None:
            model.restart(basis)

    def after_solve(self, model: SolvingModel, iterations: int) -> None:
        """Stop following the reference once a restarted year needed many iterations."""
        if self._restarted and iterations >= self.drift_iterations:
            self._following = False
