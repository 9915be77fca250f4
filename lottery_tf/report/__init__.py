"""Reports of stored experiments: tables and Frankle & Carbin style figures.

`experiments` finds stored experiments, `collect` reads their runs, `aggregate`
summarizes over replicates, `figures` and `tables` draw and tabulate, and
`build` runs the `report` command.
"""
