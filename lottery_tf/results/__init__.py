"""Reading stored results: files only, no training code, no dataset.

`catalog` finds experiments under a root (by folder name or config hash) and
their replicates and levels; `runs` reads the finished runs of the trunk and
of the branches. `report`, `export` and the training commands' tables read
results through here, so they work while an experiment is still running.
"""
