"""run_clm harness: train causal LMs with versioned logs, and compare, reproduce and plot the versions."""

__version__ = "0.1.0"
