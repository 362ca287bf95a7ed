"""rareflow.report: charts of results and self-contained HTML reports.

:func:`result_figures` and :func:`ensemble_figures` build the Plotly figures (also used by the
web dashboard); :func:`render_report` / :func:`write_report` put them, the answers table and the
provenance of the run into one HTML file that opens offline.
"""

from rareflow.report.figures import ensemble_figures, result_figures
from rareflow.report.html import render_report, write_report
from rareflow.report.provenance import ReportMeta

__all__ = ["ReportMeta", "ensemble_figures", "render_report", "result_figures", "write_report"]
