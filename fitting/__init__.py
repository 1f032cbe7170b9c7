"""Fitting and evaluation, apart from serving: cross-validation, calibration of the
ranker, the abstainer and the relevance words, evaluation harnesses, the quality floors
and the `reportqa-fit` command. Imports `retrieval`, `ingest` and `core`; none of them
imports it. Serving reads only the fitted JSON in retrieval/data/."""
