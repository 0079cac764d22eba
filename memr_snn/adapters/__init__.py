"""Adapters to other tools (Lava, NIR); each imports its dependency lazily, inside its functions."""
