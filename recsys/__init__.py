"""Recommendation library: catalogue, encoders, item store, CF scorer, blender. No chat in here."""
