"""Test support: a recording fake adapter and a harness that drives the whole desk."""
