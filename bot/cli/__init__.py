"""The command line: `python -m bot ask|chat|check|report|run` (argument parsing in `main`)."""
