"""Sweeps: one experiment's replicates and branches, split into units many workers share."""
