"""The core every layer may import: the run configuration with its use profiles and tuning settings,
errors, the run-folder layout, the EAN check digit and the units of the products.

It imports no other package of the project.
"""
