"""The on-disk format of an index: every file's name, the typed manifest, and one
writer and one reader for each kind of file, side by side. The build (ingest/index.py)
writes an index only through this package and the search (retrieval/store.py) opens
one only through it; no other module names an index file.

    CURRENT                 name of the live build (replaced atomically)   build.py
    build.lock              held (flock) by the one build that may run     ingest/build_dir.py
    builds/<build id>/      one build: which segments are live, and what spans them
        manifest.json       schema, model, versions, corpus hashes, the live   manifest.py
                            segments with the reports deleted from each, counts,
                            the size and checksum of every file, failures
        keyword/            the tantivy BM25 index of the live passages       keyword.py
        vocab.txt/.npy      the corpus's words and their float16 vectors      build.py
        lexicon.json        word document counts, learned short forms, places build.py
        stats.json          the statistics the lexicon is learned from        build.py
    segments/<segment id>/  immutable parts shared by builds                   segment.py
        passages.sqlite     reports, passages, per-report statistics         passages_db.py
        vectors.npy, rowids.npy, sentences.npy (or sentences.codes.npy and
        sentences.sq.npy), stats.json
    cache/vectors.sqlite    embeddings keyed by (model, text hash)            vector_cache.py

Names and paths: layout.py (IndexPaths). Writing a build: BuildFolder, SegmentWriter,
KeywordWriter, write_vocab / write_lexicon / write_stats, then commit_build(folder,
manifest). Reading one: current_build_dir, verify_build (→ Manifest, every listed file
checked), SegmentReader, KeywordSearch, read_vocab / read_lexicon / read_stats."""

from ingest.index_format.build import (
    BuildFolder,
    LexiconFile,
    commit_build,
    current_build_dir,
    listed_segments,
    read_lexicon,
    read_stats,
    read_vocab,
    verify_build,
    write_lexicon,
    write_stats,
    write_vocab,
)
from ingest.index_format.keyword import (
    KeywordSearch,
    KeywordWriter,
    phrase,
)
from ingest.index_format.layout import (
    SCHEMA_VERSION,
    IndexPaths,
    is_tmp,
    new_id,
)
from ingest.index_format.manifest import (
    REBUILD,
    VERIFY_LIMIT,
    CorpusFile,
    Counts,
    Manifest,
    SegmentEntry,
    read_manifest,
)
from ingest.index_format.segment import (
    SENTENCE_CODE_KINDS,
    SegmentReader,
    SegmentReport,
    SegmentWriter,
    SentenceVectors,
)
from ingest.index_format.vector_cache import VectorCache

__all__ = [
    "SCHEMA_VERSION", "IndexPaths", "is_tmp", "new_id",
    "REBUILD", "VERIFY_LIMIT", "Counts", "CorpusFile", "Manifest", "SegmentEntry",
    "read_manifest",
    "KeywordSearch", "KeywordWriter", "phrase",
    "BuildFolder", "LexiconFile", "commit_build", "current_build_dir", "listed_segments",
    "read_lexicon", "read_stats", "read_vocab", "verify_build", "write_lexicon",
    "write_stats", "write_vocab",
    "SENTENCE_CODE_KINDS", "SegmentReader", "SegmentReport", "SegmentWriter",
    "SentenceVectors",
    "VectorCache",
]
