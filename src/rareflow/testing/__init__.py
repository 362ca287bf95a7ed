"""rareflow.testing: worlds and results for tests, examples and scaling studies.

Importable by users, never by rareflow's own modules:

* :mod:`rareflow.testing.worlds`: :func:`tiny_world` (four regions, every stage and sector),
  :func:`random_world` (random but valid, for property tests and scaling studies) and
  ``scaled_world`` (a larger world made from a given one);
* :mod:`rareflow.testing.elements`: :func:`individual_elements`, a world's grouped heavy rare
  earths split so that it tracks all 17 rare earths one by one;
* :mod:`rareflow.testing.results`: :func:`empty_result`, a zero-filled dataset that follows the
  result contract, :func:`synthetic_result` (the same, filled with seeded random numbers), and
  :func:`put` and :func:`ship` to set a case's few numbers.
"""

from rareflow.testing.elements import individual_elements
from rareflow.testing.results import empty_result, put, ship, synthetic_result
from rareflow.testing.worlds import random_world, tiny_world

__all__ = ["empty_result", "individual_elements", "put", "random_world", "ship", "synthetic_result",
           "tiny_world"]
