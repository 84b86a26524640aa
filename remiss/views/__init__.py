"""Blueprints: thin views that load through access.py, validate a form, call the workflow and commit."""
