"""Analyses of trained networks (e.g. linear mode connectivity, `lmc`)."""
