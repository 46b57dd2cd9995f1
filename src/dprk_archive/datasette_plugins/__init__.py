"""Datasette plugins for the published site, loaded with `datasette --plugins-dir` (see serve.py).

Each module is self-contained (stdlib, Datasette, markupsafe) because Datasette loads the files in this
folder by path, not as a package: `publish` can ship the folder without installing dprk_archive.
"""
