"""Models that are not in the zoo, run through `--config.model.name=examples.<module>:build`."""
