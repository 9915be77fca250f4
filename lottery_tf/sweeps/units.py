"""Units of work of a sweep, and how they are split into shards.

A unit is either a replicate's trunk (lottery levels 0..L, run in order) or one
branch run (branch, arguments, replicate, level), which is ready once its trunk
level's metrics.json exists. Units are named by a stable id, the same in every
worker and on every machine, so claims and records under `<experiment>/sweep/`
refer to the same unit everywhere.
"""
import dataclasses
import hashlib
import json

from lottery_tf.sweeps.spec import Sweep


@dataclasses.dataclass(frozen=True)
class Unit:
    """One unit of work; `branch` is None for a trunk."""

    replicate: int
    level: int  # trunk: its last level; branch: the trunk level it branches off
    branch: str | None = None
    args: tuple = ()  # sorted (name, value) pairs, hashable

    @property
    def is_trunk(self) -> bool:
        return self.branch is None

    @property
    def id(self) -> str:
        if self.is_trunk:
            return f"trunk_r{self.replicate}"
        canonical = json.dumps(dict(self.args), sort_keys=True, default=str)
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
        return f"branch_r{self.replicate}_l{self.level}_{self.branch}_{digest}"

    @property
    def cost(self) -> int:
        """Trainings in the unit (a trunk trains every level), for balancing shards."""
        return self.level + 1 if self.is_trunk else 1

    def describe(self) -> str:
        if self.is_trunk:
            return f"replicate {self.replicate} trunk (levels 0-{self.level})"
        args = ",".join(f"{key}={value}" for key, value in self.args)
        return f"replicate {self.replicate} level {self.level} {self.branch}" + (f"[{args}]" if args else "")

    def to_json(self) -> dict:
        return {"id": self.id, "replicate": self.replicate, "level": self.level,
                "branch": self.branch, "args": dict(self.args)}


def expand(sweep: Sweep) -> list[Unit]:
    """Every unit of the sweep: trunks first, then branch runs by level (lowest first, since
    those become ready first), replicate and the sweep file's branch order."""
    trunks = [Unit(replicate, sweep.config.levels) for replicate in sweep.replicates]
    runs = [(level, replicate, index, Unit(replicate, level, spec.name, tuple(sorted(spec.args.items()))))
            for index, spec in enumerate(sweep.branches)
            for replicate in sweep.replicates for level in spec.levels]
    unique = list(dict.fromkeys(unit for *_, unit in sorted(runs, key=lambda run: run[:3])))
    return trunks + unique


def shard(units: list[Unit], index: int, count: int) -> list[Unit]:
    """The units of shard `index` of `count`: each unit in turn (trunks first, the largest)
    goes to the shard with the fewest trainings so far, so shards are balanced and every
    worker computes the same split."""
    loads = [0] * count
    owner = {}
    for unit in sorted(units, key=lambda u: -u.cost):  # stable: equal costs keep their order
        target = loads.index(min(loads))
        owner[unit] = target
        loads[target] += unit.cost
    return [unit for unit in units if owner[unit] == index]
