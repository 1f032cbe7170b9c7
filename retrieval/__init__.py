"""Retrieval: load the index, search it (dense + keyword), fuse, rerank, abstain,
highlight, export and evaluate. Imports ingest, never the UI."""
