"""The offline mirror: a synthetic Voice of Korea site that evolves day by day, served over HTTP.

``content`` writes the text, ``site`` decides which items exist on a day and what happened to them,
``render`` turns them into the pages of docs/design.md, ``server`` answers HTTP requests.
Everything it serves is synthetic sample data, marked as such on every page.
"""
