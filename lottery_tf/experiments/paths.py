"""Where an experiment's files live: `<root>/<name>_<hash>/replicate_<r>/level_<L>/`."""
import os


class ExperimentPaths:
    """File layout of one experiment."""

    def __init__(self, root: str, name: str):
        self.root = root
        self.name = name
        self.dir = os.path.join(root, name)
        self.config = os.path.join(self.dir, "config.json")

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

    def mask(self, replicate: int, level: int) -> str:
        return os.path.join(self.level(replicate, level), "mask.npz")

    def weights_start(self, replicate: int, level: int) -> str:
        return os.path.join(self.level(replicate, level), "weights_start.npz")

    def weights_end(self, replicate: int, level: int) -> str:
        return os.path.join(self.level(replicate, level), "weights_end.npz")

    def metrics(self, replicate: int, level: int) -> str:
        return os.path.join(self.level(replicate, level), "metrics.json")

    def checkpoints(self, replicate: int, level: int) -> str:
        return os.path.join(self.level(replicate, level), "checkpoints")
