"""Load tests with siege, the three-scenario experiment, and its report."""
