import sys

from .discord_app.stopping import install

try:
    # First: a SIGTERM or Ctrl+C from here on stops cleanly (see bot/stopping.py), even while the
    # imports below or the notes are loading. Inside the try: a signal may land while the
    # handlers are being installed.
    install()
    from .cli.main import main

    code = main()
except KeyboardInterrupt:
    # Stopped before the command finished: a stopped bot is a normal end (0); any other
    # command was cut short (130, as a shell reports Ctrl+C).
    code = 0 if sys.argv[1:2] == ["run"] else 130
# CPython 3.11 marks a KeyboardInterrupt raised inside eval() of a string as unhandled even when
# it is caught (collections.namedtuple evals while discord.py imports), and the interpreter then
# ends by SIGINT instead of with `code`. Evaluating any string clears that mark.
exec("pass")
sys.exit(code)
