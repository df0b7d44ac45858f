"""Fraud detection on payments: features, online and batch models, blending, reasons, fairness, evaluation."""
