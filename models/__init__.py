"""Pure ML with no I/O: estimators with learn_one/predict_one or fit/predict, artifacts with save/load."""
