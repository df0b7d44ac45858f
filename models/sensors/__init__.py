"""Sensor anomaly detection and failure warning: window keeper, LSTM forecaster, baselines, monitor."""
