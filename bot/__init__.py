"""The Discord app, the command line and the configuration around the `knowledge` engine."""
