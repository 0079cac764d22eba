"""Adapters to other simulators and formats (Lava, NIR), at the edge of the package.

Each adapter imports its dependency lazily, inside functions; the core never needs them.
"""
