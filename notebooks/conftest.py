"""The notebooks run in the test suite once, from tests/notebooks/test_notebooks.py: it executes
each one against a shared demo database and checks the plots it draws. nbmake (`--nbmake` in
the pytest options) would run them a second time without looking at their outputs, so it skips
this folder."""

collect_ignore_glob = ["*.ipynb"]
