"""Tests of the sfc command line, its demo script and the README examples."""
