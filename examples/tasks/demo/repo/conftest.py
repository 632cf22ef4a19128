# Lets plain `pytest` (not only `python3 -m pytest`) import textstats from the
# repository root: pytest puts this file's directory on sys.path.
