"""The investigators' daily report: warehouse and lake frames → summaries → one HTML page.

`data.py` loads and summarises, `charts.py` and `html.py` render (testable from hand-made
frames), `cost.py` reads what the day's run cost from the Dagster instance, and `assets.py`
only loads, calls `render_report` and writes the file.
"""
