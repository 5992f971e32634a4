"""Alias number configurations: none, redirect, queue, IVR, contact center, conference."""
