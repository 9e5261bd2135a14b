"""The core every layer may import: use profiles and tuning settings, errors, the run-folder layout.

It imports no other package of the project.
"""
