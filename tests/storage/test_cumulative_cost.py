"""Cumulative cost: a run's own training plus the training that produced its mask."""
import pytest

from lottery_tf.storage import cumulative_cost as cc


def _run(level, iterations, dense, sparse, start_step=0, **extra):
    return {"level": level, "start_step": start_step, "end_step": start_step + iterations,
            "train_iterations": iterations, "train_flops_dense": dense, "train_flops_sparse": sparse,
            **extra}


# A replicate's trunk: level 0 dense (100 it), levels 1-2 rewound to step 10 (90 it each).
TRUNK = {0: _run(0, 100, 1000.0, 1000.0), 1: _run(1, 90, 900.0, 720.0, start_step=10),
         2: _run(2, 90, 900.0, 576.0, start_step=10)}


def test_a_trunk_level_costs_every_level_up_to_it():
    assert cc.trunk_cost_through(TRUNK, -1) == cc.ZERO
    assert cc.cumulative_cost(TRUNK[0], TRUNK) == cc.Cost(100, 1000.0, 1000.0)
    assert cc.cumulative_cost(TRUNK[2], TRUNK) == cc.Cost(280, 2800.0, 2296.0)
    assert cc.trunk_cost_through(TRUNK, 2) == cc.Cost(280, 2800.0, 2296.0)


def test_a_branch_adds_what_made_its_mask_to_its_own_training():
    reinit = _run(2, 90, 900.0, 576.0, start_step=10, branch="reinit")
    one_shot = _run(2, 90, 900.0, 576.0, start_step=10, branch="one_shot", mask_from=cc.DENSE)
    random_prune = _run(2, 90, 900.0, 576.0, start_step=10, branch="random_prune", mask_from=cc.NONE)
    at_init = _run(2, 100, 1000.0, 640.0, branch="prune_at_init", mask_from=cc.NONE)
    # reinit uses level 2's mask: levels 0 and 1 made it.
    assert cc.cumulative_cost(reinit, TRUNK) == cc.Cost(280, 2800.0, 2296.0)
    # one_shot prunes the trained dense network: level 0 only.
    assert cc.cumulative_cost(one_shot, TRUNK) == cc.Cost(190, 1900.0, 1576.0)
    # A random mask costs nothing; its start (step 10 of the dense run) costs 10 dense iterations.
    assert cc.cumulative_cost(random_prune, TRUNK) == cc.Cost(100, 1000.0, 676.0)
    assert cc.cumulative_cost(at_init, TRUNK) == cc.Cost(100, 1000.0, 640.0)


def test_a_recorded_cumulative_cost_is_taken_as_recorded():
    recorded = {**TRUNK[1], **cc.Cost(5, 50.0, 40.0).as_metrics()}
    assert cc.cumulative_cost(recorded, TRUNK) == cc.Cost(5, 50.0, 40.0)
    # ... and ends the walk down the trunk for the levels above it.
    assert cc.trunk_cost_through({**TRUNK, 1: recorded}, 2) == cc.Cost(95, 950.0, 616.0)


def test_old_runs_recover_iterations_and_leave_flops_unknown():
    old = {0: {"level": 0, "start_step": 0, "end_step": 100}, 1: {"level": 1, "start_step": 10,
                                                                  "final_step": 100}}
    assert cc.cumulative_cost(old[1], old) == cc.Cost(190, None, None)
    # A branch stored before `mask_from` was recorded: the built-in branch's source.
    old_one_shot = {"level": 1, "start_step": 10, "end_step": 100, "branch": "one_shot"}
    assert cc.cumulative_cost(old_one_shot, old).iterations == 190
    # An unknown branch's source, or a missing trunk level, is unknown: never a smaller sum.
    assert cc.cumulative_cost({**old_one_shot, "branch": "mine"}, old) == cc.UNKNOWN
    assert cc.cumulative_cost(TRUNK[2], {2: TRUNK[2]}).iterations is None


def test_unknown_mask_source_is_refused():
    with pytest.raises(ValueError, match="mask_from must be one of"):
        cc.prior_cost("magic", 1, 0, TRUNK)
