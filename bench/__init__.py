"""Benchmarks of the knowledge engine against peer search engines (not part of the test suite)."""
