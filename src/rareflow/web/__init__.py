"""rareflow.web: the local dashboard behind ``rareflow serve``.

``app`` (routes), ``levers`` and ``derive`` (what an analyst may change and how it becomes a
validated scenario), ``jobs`` (runs in worker processes), ``views`` (JSON for the page),
``guard`` (request limits and security headers), ``assets`` and ``static/`` (the page).
"""
