"""Where an experiment's files live.

    <root>/<name>_<hash>/config.json, model.json (a fit-based run's own architecture, if not a zoo model)
      replicate_<r>/replicate.json, rewind_weights.npz, summary.csv
        level_<L>/mask.npz, weights_start.npz, weights_end.npz, weights_early_stop.npz,
                  early_bird_mask.npz (early-bird's draw), metrics.json, checkpoints/
          branch_<name>_<hash>/  (the same files, for a control run off this level)
      tensorboard/                 TensorBoard's logdir; run names are short:
        rep<r>/level_<LL>/ticket             a trunk level's curves and HParams session
        rep<r>/level_<LL>/<name>_<hash>      a branch's (named like its results folder)
        rep<r>/summary/ticket, .../<name>_<hash>   headline figures by level
        report/                              the report's figures as images

Experiments stored before this layout keep `replicate_<r>/tensorboard/`;
TensorBoard still reads them.
"""
import hashlib
import json
import os


class RunFiles:
    """The files of one training run (a trunk level or a branch)."""

    def __init__(self, directory: str):
        self.dir = directory
        self.mask = os.path.join(directory, "mask.npz")
        self.weights_start = os.path.join(directory, "weights_start.npz")
        self.weights_end = os.path.join(directory, "weights_end.npz")
        # The weights at the early-stop step (minimum validation loss).
        self.weights_early_stop = os.path.join(directory, "weights_early_stop.npz")
        # The mask early-bird drew where it stopped the run (what the next level prunes to).
        self.early_bird_mask = os.path.join(directory, "early_bird_mask.npz")
        self.metrics = os.path.join(directory, "metrics.json")
        self.checkpoints = os.path.join(directory, "checkpoints")


TICKET_RUN = "ticket"


def branch_folder(name: str, args: dict) -> str:
    """`branch_<name>_<hash>`: a branch run's folder, named by its name, seed and arguments."""
    canonical = json.dumps({"branch": name, **args}, sort_keys=True)
    return f"branch_{name}_{hashlib.sha256(canonical.encode()).hexdigest()[:10]}"


def tensorboard_run_name(branch_folder: str | None) -> str:
    """`ticket` for the trunk; `<name>_<hash>` for the branch folder `branch_<name>_<hash>`."""
    return TICKET_RUN if not branch_folder else branch_folder.removeprefix("branch_")


class ExperimentPaths:
    """File layout of one experiment."""

    def __init__(self, root: str, name: str):
        self.root = root
        self.name = name
        self.dir = os.path.join(root, name)
        self.config = os.path.join(self.dir, "config.json")
        self.architecture = os.path.join(self.dir, "model.json")

    @classmethod
    def of(cls, experiment_dir: str) -> "ExperimentPaths":
        """The layout of the experiment stored in `experiment_dir` (<root>/<name>)."""
        return cls(os.path.dirname(experiment_dir.rstrip("/")), os.path.basename(experiment_dir.rstrip("/")))

    def replicate(self, replicate: int) -> str:
        return os.path.join(self.dir, f"replicate_{replicate}")

    def replicate_info(self, replicate: int) -> str:
        return os.path.join(self.replicate(replicate), "replicate.json")

    def rewind_weights(self, replicate: int) -> str:
        return os.path.join(self.replicate(replicate), "rewind_weights.npz")

    def summary_csv(self, replicate: int) -> str:
        return os.path.join(self.replicate(replicate), "summary.csv")

    @property
    def tensorboard_root(self) -> str:
        """TensorBoard's logdir for this experiment."""
        return os.path.join(self.dir, "tensorboard")

    def tensorboard_run(self, replicate: int, level: int, run: str) -> str:
        """A training run's TensorBoard folder, `rep<r>/level_<LL>/<run>`.

        `run` is `ticket` for the trunk, else `tensorboard_run_name(branch folder)`.
        """
        return os.path.join(self.tensorboard_root, f"rep{replicate}", f"level_{level:02d}", run)

    def tensorboard_summary(self, replicate: int, run: str) -> str:
        """The by-level summary run of the trunk (`ticket`) or of one branch."""
        return os.path.join(self.tensorboard_root, f"rep{replicate}", "summary", run)

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
