"""The shared core: settings, errors and the data model (reports, sections, passages).

Imported by `ingest`, `retrieval` and `ui`; imports none of them."""
