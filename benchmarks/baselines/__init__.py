"""Baselines measured in the same run, on the same servers: the floors a turn cannot beat."""
