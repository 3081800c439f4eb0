"""Helpers for jobs (upstream ``lava.lib``)."""
