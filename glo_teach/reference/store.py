"""The model store: Table 1's trained models for a chapter, trained once and loaded ever after.

:func:`trained_models` hands back ``{"PCA", "VAE", "DCGAN", "GLO", "codes", "gaussian"}`` (the four models
of :func:`~glo_teach.reference.train.train_models`, GLO's learned codes and the Gaussian N(mu, Sigma)
fitted to them, Book: {eq}`glo-gaussian-fit`) for a data set and a budget or :class:`Protocol`, from the
first of:

1. the committed artefact folder ``reference/<dataset>/`` of a source checkout, when its manifest's key
   is the key asked for (same protocol, data set and seed);
2. the cache folder ``$GLO_TEACH_MODELS/<key>`` (default ``~/.cache/glo_teach/models/<key>``);
3. training at that protocol (resumable: each loop checkpoints under ``<cache>/<key>/training``), saved
   to the cache folder, so that the next call loads.

``GLO_TEACH_RETRAIN=1`` (or ``retrain=True``) skips 1 and 2 and trains afresh at the budget, into the
cache. :func:`table1_record` adds Table 1's scores (``table1.json``, :func:`~glo_teach.reference.run_table1`
on the stored models) to the same folder, and :func:`write_reference` builds such a folder anywhere
(``glo-teach reference``). Weights depend on the training settings alone (:func:`training_key`: every
field but :data:`SCORING_FIELDS`), so ``glo-teach reference`` into a folder whose weights have the asked
training settings re-scores them under the new scoring settings (and re-keys the folder) without training.

An artefact folder holds the weights in the one checkpoint format (``checkpoint.pt``, read with
``weights_only=True``), Table 1's files and ``manifest.json``: the key, the protocol, the data set, the seed
and the SHA-256 of every other file, checked on every load (:func:`verify_manifest`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path

import torch
from torch.distributions import MultivariateNormal

from .._env import env_switch
from ..baselines import PCA
from ..budgets import Budget, default_device
from ..checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from ..data import DATASETS
from ..data.files import checkout_data_dir, file_digest
from ..glo import fit_gaussian
from ..glo.codes import LatentCodes
from ..nets import DCGANGenerator
from ..vae import VAE
from .protocol import LATENT_DIMS, Protocol, get_protocol, glo_loss_kind, load_fit
from .report import Table1Result, read_json, result_from_json
from .run import _samples, run_table1
from .train import train_models

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "REFERENCE_DIR",
    "committed_tuning",
    "ManifestError",
    "SCORING_FIELDS",
    "store_key",
    "training_key",
    "models_dir",
    "retrain_requested",
    "model_folder",
    "save_models",
    "load_models",
    "write_manifest",
    "verify_manifest",
    "trained_models",
    "table1_record",
    "write_reference",
    "reference_command",
]

FORMAT_VERSION = (
    1  # bump when the layout of checkpoint.pt changes: every key changes with it
)
MANIFEST_NAME = "manifest.json"
_checkout = checkout_data_dir(Path(__file__).resolve().parents[2])
REFERENCE_DIR: Path | None = (
    None if _checkout is None else _checkout.parent / "reference"
)  # committed folders


def committed_tuning(dataset: str, budget: str) -> dict | None:
    """The committed record of ``glo-teach tune`` for a data set at a budget
    (``reference/tune/<dataset>-<budget>.json``), None when there is none (or no checkout)."""
    path = (
        None
        if REFERENCE_DIR is None
        else Path(REFERENCE_DIR) / "tune" / f"{dataset}-{budget}.json"
    )
    return json.loads(path.read_text()) if path is not None and path.is_file() else None


class ManifestError(RuntimeError):
    """An artefact file is missing or its SHA-256 is not the one its manifest recorded."""


def _protocol(budget: Budget | Protocol | str | None) -> Protocol:
    return budget if isinstance(budget, Protocol) else get_protocol(budget)


# Protocol fields that change only the scores, never the trained weights: the name, the scored and validation
# images, the inversion settings, the sanity check and the extra Lap1 readings
SCORING_FIELDS = (
    "name",
    "n_scored",
    "n_val",
    "inversion",
    "sanity_n",
    "extra_lap1_readings",
)


def training_key(
    dataset: str, budget: Budget | Protocol | str | None = None, seed: int = 0
) -> str:
    """:func:`store_key` of the training settings alone (every field but SCORING_FIELDS): two protocols with
    the same training key train the same weights, so a folder's checkpoint is re-scored, not retrained."""
    protocol = {
        k: v for k, v in asdict(_protocol(budget)).items() if k not in SCORING_FIELDS
    }
    return _digest(dataset, seed, "training", protocol)


def _digest(dataset: str, seed: int, field: str, protocol: dict) -> str:
    """First 16 hex digits of SHA-256 of the sorted JSON {format, dataset, seed, field: protocol}; an
    uncapped protocol's ``max_steps`` (None) is left out, so keys made before that field stay valid."""
    if protocol.get("max_steps", 0) is None:
        protocol = {k: v for k, v in protocol.items() if k != "max_steps"}
    settings = {
        "format": FORMAT_VERSION,
        "dataset": dataset,
        "seed": seed,
        field: protocol,
    }
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[
        :16
    ]


def store_key(
    dataset: str, budget: Budget | Protocol | str | None = None, seed: int = 0
) -> str:
    """The first 16 hex digits of SHA-256(JSON of {format, dataset, seed, every setting of the protocol}):
    any changed setting gives another key, hence another folder. An uncapped protocol (``max_steps`` None)
    leaves that field out, so its key is the one it had before the field existed."""
    return _digest(dataset, seed, "protocol", asdict(_protocol(budget)))


def models_dir() -> Path:
    """Where trained models are cached: ``$GLO_TEACH_MODELS``, else ``~/.cache/glo_teach/models``."""
    return Path(
        os.environ.get("GLO_TEACH_MODELS") or "~/.cache/glo_teach/models"
    ).expanduser()


def retrain_requested(retrain: bool | None = None) -> bool:
    """``retrain`` when given, else whether ``$GLO_TEACH_RETRAIN`` is 1 (true/yes/on)."""
    if retrain is not None:
        return bool(retrain)
    return bool(env_switch("GLO_TEACH_RETRAIN"))


def write_manifest(directory: str | Path, info: dict) -> Path:
    """``manifest.json``: ``info`` plus {"files": {name: SHA-256}} of every other file in ``directory``."""
    directory = Path(directory)
    files = {
        p.name: file_digest(p, "sha256")
        for p in sorted(directory.iterdir())
        if p.is_file() and p.name != MANIFEST_NAME and not p.name.startswith(".")
    }
    path = directory / MANIFEST_NAME
    tmp = path.with_name(".manifest.tmp")
    tmp.write_text(json.dumps({**info, "files": files}, indent=1))
    os.replace(tmp, path)
    return path


def verify_manifest(directory: str | Path) -> dict:
    """The manifest of ``directory`` after checking that every file it lists exists with its SHA-256.

    Raises :class:`ManifestError` naming the file, the expected and the found hash, and what to do.
    """
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    budget = manifest.get("protocol", {}).get("name", "<budget>")
    command = reference_command(manifest.get("dataset", "<dataset>"), budget, directory)
    todo = (
        f"delete {directory} to retrain it (or set GLO_TEACH_RETRAIN=1), restore it from git if it is "
        f"committed, or rebuild it with `{' '.join(command)}`"
    )
    if not path.is_file():
        raise ManifestError(f"{path} is missing: {todo}")
    for name, expected in manifest["files"].items():
        file = directory / name
        found = file_digest(file, "sha256") if file.is_file() else "no such file"
        if found != expected:
            raise ManifestError(
                f"artefact {file} does not match its manifest: expected SHA-256 {expected}, "
                f"found {found}; {todo}"
            )
    return manifest


def save_models(models: dict, directory: str | Path, info: dict) -> None:
    """Write the weights (``checkpoint.pt``, the one checkpoint format) and the manifest to ``directory``."""
    pca, codes = models["PCA"], models["codes"]
    gaussian = models.get("gaussian") or fit_gaussian(codes)
    state = {
        "format": FORMAT_VERSION,
        **info,
        "PCA": {
            **_cpu(
                {
                    "mean": pca.mean,
                    "components": pca.components,
                    "explained_variance": pca.explained_variance,
                }
            ),
            "image_shape": list(pca.image_shape),
        },
        "VAE": _cpu(models["VAE"].state_dict()),
        "DCGAN": _cpu(models["DCGAN"].state_dict()),
        "GLO": _cpu(models["GLO"].state_dict()),
        "codes": _cpu({"w": codes.weight})["w"],
        "gaussian": _cpu(
            {"mean": gaussian.mean, "covariance": gaussian.covariance_matrix}
        ),
    }
    save_checkpoint(directory, state)
    write_manifest(directory, info)


def load_models(
    directory: str | Path, device: torch.device | str | None = None
) -> dict:
    """The models :func:`save_models` wrote, after :func:`verify_manifest`, on ``device`` and in eval mode."""
    manifest = verify_manifest(directory)
    device = torch.device(device) if device is not None else default_device()
    state = load_checkpoint(directory)
    if state is None or state.get("format") != FORMAT_VERSION:
        raise ManifestError(
            f"{Path(directory) / CHECKPOINT_NAME} is not a format-{FORMAT_VERSION} model checkpoint "
            f"(found {None if state is None else state.get('format')}); delete {directory} to retrain"
        )
    d, w = LATENT_DIMS[manifest["dataset"]], manifest["protocol"]["width"]
    c, s = state["PCA"]["image_shape"][:2]
    pca = PCA(d)
    pca.mean, pca.components = state["PCA"]["mean"], state["PCA"]["components"]
    pca.explained_variance, pca.image_shape = (
        state["PCA"]["explained_variance"],
        tuple(state["PCA"]["image_shape"]),
    )
    nets = {
        "VAE": VAE(d, c, s, w),
        "DCGAN": DCGANGenerator(d, c, s, w),
        "GLO": DCGANGenerator(d, c, s, w),
    }
    for name, net in nets.items():
        net.load_state_dict(state[name])
        nets[name] = net.to(device).eval()
    codes = LatentCodes(*state["codes"].shape)
    codes.weight.data.copy_(state["codes"])
    g = state["gaussian"]
    gaussian = MultivariateNormal(
        g["mean"].to(device), covariance_matrix=g["covariance"].to(device)
    )
    return {"PCA": pca, **nets, "codes": codes.to(device), "gaussian": gaussian}


def model_folder(
    dataset: str,
    budget: Budget | Protocol | str | None = None,
    seed: int = 0,
    retrain: bool | None = None,
) -> Path:
    """The folder :func:`trained_models` reads: the committed one when its key matches (and no retrain is
    asked for), else the cache folder of the key (which may not exist yet)."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {dataset!r}")
    key = store_key(dataset, budget, seed)
    committed = None if REFERENCE_DIR is None else Path(REFERENCE_DIR) / dataset
    if (
        not retrain_requested(retrain)
        and committed is not None
        and _key(committed) == key
    ):
        return committed
    return models_dir() / key


def trained_models(
    dataset: str = "mnist",
    budget: Budget | Protocol | str | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    retrain: bool | None = None,
) -> dict:
    """Table 1's models on ``dataset`` at ``budget`` (a budget, ``"reference"`` or a Protocol): loaded from the
    committed or cached folder, else trained (resuming a killed run) and cached. See the module docstring."""
    folder = model_folder(dataset, budget, seed, retrain)
    if retrain_requested(retrain) or not (folder / CHECKPOINT_NAME).is_file():
        return _train_into(
            folder,
            dataset,
            _protocol(budget),
            seed,
            device,
            fresh=retrain_requested(retrain),
        )
    return load_models(folder, device)


def table1_record(
    dataset: str = "mnist",
    budget: Budget | Protocol | str | None = None,
    seed: int = 0,
    device: torch.device | str | None = None,
    retrain: bool | None = None,
) -> tuple[Table1Result, dict, Path]:
    """(Table 1's result with samples, the models, their folder): scores read from the folder's
    ``table1.json``, written there first by :func:`~glo_teach.reference.run_table1` when absent."""
    models = trained_models(
        dataset, budget, seed, device, retrain
    )  # trains (or retrains) when needed
    folder = model_folder(dataset, budget, seed, retrain)
    if not (folder / "table1.json").is_file() or retrain_requested(retrain):
        _score_into(folder, dataset, _protocol(budget), seed, models)
    verify_manifest(folder)
    record = read_json(folder / "table1.json")
    samples = _samples(models, min(record["n_scored"]["test"], 1000), seed)
    return result_from_json(record, samples), models, folder


def write_reference(
    dataset: str,
    budget: Budget | Protocol | str | None,
    out: str | Path,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> Table1Result:
    """Train (or resume) Table 1's models into ``out``, score them there and write the manifest: the artefact
    folder of ``glo-teach reference``, ready to be committed as ``reference/<dataset>/``."""
    out = Path(out)
    protocol = _protocol(budget)
    models = _train_into(
        out, dataset, protocol, seed, device, fresh=False
    )  # or loads a finished one
    return _score_into(out, dataset, protocol, seed, models)


def reference_command(dataset: str, budget: str, out: str | Path) -> list[str]:
    """The command line that rebuilds an artefact folder."""
    return [
        "glo-teach",
        "reference",
        "--dataset",
        dataset,
        "--budget",
        str(budget),
        "--out",
        str(out),
    ]


def _info(dataset: str, protocol: Protocol, seed: int) -> dict:
    return {
        "format": FORMAT_VERSION,
        "key": store_key(dataset, protocol, seed),
        "dataset": dataset,
        "seed": seed,
        "protocol": asdict(protocol),
    }


def _key(folder: Path) -> str | None:
    path = folder / MANIFEST_NAME
    return json.loads(path.read_text()).get("key") if path.is_file() else None


def _training_key(folder: Path) -> str | None:
    """The training key of the weights in ``folder`` (from its manifest's protocol), None without one."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    m = json.loads(path.read_text())
    if m.get("format") != FORMAT_VERSION or "protocol" not in m:
        return None
    return training_key(m["dataset"], Protocol.from_dict(m["protocol"]), m["seed"])


def _train_into(
    folder: Path, dataset: str, protocol: Protocol, seed: int, device, fresh: bool
) -> dict:
    """Train at ``protocol`` with checkpoints in ``folder/training`` (removed when done), save, return the models."""
    folder.mkdir(parents=True, exist_ok=True)
    info = _info(dataset, protocol, seed)
    trained = training_key(dataset, protocol, seed)
    with _locked(folder):
        if (
            not fresh
            and (folder / CHECKPOINT_NAME).is_file()
            and _training_key(folder) == trained
        ):
            verify_manifest(folder)
            return load_models(
                folder, device
            )  # these weights (scoring settings may differ: re-scored by the caller)
        training, marker = folder / "training", folder / "training" / "key"
        if fresh or (
            marker.is_file() and marker.read_text() != trained
        ):  # no resuming other training settings
            shutil.rmtree(training, ignore_errors=True)
        training.mkdir(parents=True, exist_ok=True)
        marker.write_text(trained)
        seconds: dict[str, float] = {}
        device = torch.device(device) if device is not None else default_device()
        models = train_models(
            load_fit(dataset, protocol),
            LATENT_DIMS[dataset],
            protocol,
            glo_loss_kind(dataset),
            device,
            seed,
            seconds,
            checkpoint_root=training,
        )
        models["gaussian"] = fit_gaussian(models["codes"])
        for stale in (
            "table1.json",
            "table1.csv",
            "table1.md",
        ):  # scores of other weights
            (folder / stale).unlink(missing_ok=True)
        save_models(models, folder, {**info, "seconds": seconds})
        shutil.rmtree(training, ignore_errors=True)
    return load_models(
        folder, device
    )  # what every later reader gets, so the scores are of these


def _score_into(
    folder: Path, dataset: str, protocol: Protocol, seed: int, models: dict
) -> Table1Result:
    """Score ``models`` (trained with ``protocol``'s training settings) into ``folder``; its manifest then
    carries ``protocol``'s key (the training wall times are kept)."""
    info = {
        **json.loads((folder / MANIFEST_NAME).read_text()),
        **_info(dataset, protocol, seed),
    }
    with _locked(folder):
        result = run_table1(
            dataset,
            protocol,
            folder,
            seed=seed,
            models=models,
            seconds=info.get("seconds"),
            command=reference_command(dataset, protocol.name, folder),
            tuning=committed_tuning(dataset, protocol.name),
            codes_dir=folder / "codes",  # a killed search resumes; removed once scored
        )
        shutil.rmtree(folder / "codes", ignore_errors=True)
        write_manifest(folder, {k: v for k, v in info.items() if k != "files"})
    return result


@contextlib.contextmanager
def _locked(folder: Path):
    """An exclusive lock for ``folder`` (two chapters built at once train a key once), held on a file in the
    temporary directory so that no artefact folder carries it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    name = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"glo_teach-{name}.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _cpu(state: dict) -> dict:
    """Detached CPU copies that own their storage (torch.save writes a view's whole storage: PCA's
    components are 32 rows of a 1024 x 1024 SVD factor)."""
    return {k: v.detach().cpu().clone() for k, v in state.items()}
