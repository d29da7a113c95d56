"""Loaders: GIAS files and collaboration ties."""
