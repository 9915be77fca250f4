"""Reports of stored experiments: tables and Frankle & Carbin style figures.

`collect` reads an experiment's runs (through `lottery_tf.storage.catalog` and `runs`), `aggregate`
summarizes over replicates, `figures` and `tables` draw and tabulate, and
`build` runs the `report` command.
"""
