"""Drift statistics (PSI, KS, Jensen–Shannon, adversarial validation) and online concept-drift detectors."""
