"""Compatibility: the branch records now live in `lottery_tf.experiments.branches.registry`.

README shows `branch_registry.register(Branch(...))`; that keeps working through
these re-exports (the same objects, so a branch registered here is registered there).
"""
from lottery_tf.experiments.branches.registry import (
    BRANCHES,
    Branch,
    BranchArgument,
    applicable_args,
    describe_args,
    flag_arguments,
    get,
    register,
)
from lottery_tf.storage.paths import branch_folder

__all__ = ["BRANCHES", "Branch", "BranchArgument", "applicable_args", "branch_folder", "describe_args",
           "flag_arguments", "get", "register"]
