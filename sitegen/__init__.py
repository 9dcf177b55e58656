"""sitegen: a static-site generator and edge-cached frontend for a conference archive."""

# The one place the version is written (pyproject.toml reads it from here):
# asking importlib.metadata costs a tenth of a second at every start.
__version__ = "0.1.0"
