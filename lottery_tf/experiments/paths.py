"""Where an experiment's files live.

    <root>/<name>_<hash>/config.json, model.json (a fit-based run's own architecture, if not a zoo model)
      replicate_<r>/replicate.json, rewind_weights.npz, summary.csv, tensorboard/
        level_<L>/mask.npz, weights_start.npz, weights_end.npz, metrics.json, checkpoints/
          branch_<name>_<hash>/  (the same files, for a control run off this level)
"""
import os


class RunFiles:
    """The files of one training run (a trunk level or a branch)."""

    def __init__(self, directory: str):
        self.dir = directory
        self.mask = os.path.join(directory, "mask.npz")
        self.weights_start = os.path.join(directory, "weights_start.npz")
        self.weights_end = os.path.join(directory, "weights_end.npz")
        self.metrics = os.path.join(directory, "metrics.json")
        self.checkpoints = os.path.join(directory, "checkpoints")


class ExperimentPaths:
    """File layout of one experiment."""

    def __init__(self, root: str, name: str):
        self.root = root
        self.name = name
        self.dir = os.path.join(root, name)
        self.config = os.path.join(self.dir, "config.json")
        self.architecture = os.path.join(self.dir, "model.json")

    def replicate(self, replicate: int) -> str:
        return os.path.join(self.dir, f"replicate_{replicate}")

    def replicate_info(self, replicate: int) -> str:
        return os.path.join(self.replicate(replicate), "replicate.json")

    def rewind_weights(self, replicate: int) -> str:
        return os.path.join(self.replicate(replicate), "rewind_weights.npz")

    def summary_csv(self, replicate: int) -> str:
        return os.path.join(self.replicate(replicate), "summary.csv")

    def tensorboard(self, replicate: int, run: str) -> str:
        return os.path.join(self.replicate(replicate), "tensorboard", run)

    def level(self, replicate: int, level: int) -> str:
        return os.path.join(self.replicate(replicate), f"level_{level}")

    def level_files(self, replicate: int, level: int) -> RunFiles:
        return RunFiles(self.level(replicate, level))

    def branch_files(self, replicate: int, level: int, branch: str) -> RunFiles:
        """`branch` is the branch folder name, `branch_<name>_<hash>`."""
        return RunFiles(os.path.join(self.level(replicate, level), branch))

    # Shorthands for the trunk's files.
    def mask(self, replicate: int, level: int) -> str:
        return self.level_files(replicate, level).mask

    def weights_start(self, replicate: int, level: int) -> str:
        return self.level_files(replicate, level).weights_start

    def weights_end(self, replicate: int, level: int) -> str:
        return self.level_files(replicate, level).weights_end

    def metrics(self, replicate: int, level: int) -> str:
        return self.level_files(replicate, level).metrics

    def checkpoints(self, replicate: int, level: int) -> str:
        return self.level_files(replicate, level).checkpoints
