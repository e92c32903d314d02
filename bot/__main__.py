import sys

# First: a SIGTERM or Ctrl+C from here on stops cleanly (see bot/stopping.py), even while the
# imports below or the notes are loading.
from .stopping import install

install()
try:
    from .cli import main

    code = main()
except KeyboardInterrupt:
    # Stopped before the command finished: a stopped bot is a normal end (0); any other
    # command was cut short (130, as a shell reports Ctrl+C).
    code = 0 if sys.argv[1:2] == ["run"] else 130
sys.exit(code)
