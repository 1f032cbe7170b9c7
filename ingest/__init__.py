"""Ingestion: read reports, clean them, find their sections, split them into passages,
embed them and build the search index. Knows nothing of retrieval or the UI."""
