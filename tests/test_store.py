"""The model store (glo_teach.reference.store): SHA-256 manifest checked on load, weights that reproduce
their scores, a cache that loads instead of retraining, the retrain switch, keys of the settings, and
`glo-teach reference`."""

import dataclasses
import hashlib
import json
import shutil

import pytest
import torch

import glo_teach.reference.store as store
from glo_teach.cli import main
from glo_teach.reference import (
    InversionSettings,
    ManifestError,
    Protocol,
    find_codes,
    load_fit,
    load_test,
    read_json,
    store_key,
    table1_record,
    trained_models,
    verify_manifest,
)
from glo_teach.reference.score import score_codes
from glo_teach.reference.train import train_models

# every stage runs, nothing is learnt (as in test_reference.py)
TINY = Protocol(
    name="tiny",
    n_fit=64,
    n_scored=6,
    n_val=6,
    width=4,
    batch_size=32,
    vae_epochs=1,
    gan_steps=2,
    glo_epochs=1,
    inversion=InversionSettings(steps=3),
    sanity_n=4,
    extra_lap1_readings=(),
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty model cache, no committed reference folder, no retrain switch."""
    monkeypatch.setenv("GLO_TEACH_MODELS", str(tmp_path / "models"))
    monkeypatch.setattr(store, "REFERENCE_DIR", tmp_path / "no-reference")
    monkeypatch.delenv("GLO_TEACH_RETRAIN", raising=False)
    return tmp_path / "models"


def _counting_train(monkeypatch, fail_after: int | None = None) -> list:
    calls = []
    real = store.train_models

    def counting(*args, **kwargs):
        calls.append(1)
        if fail_after is not None and len(calls) > fail_after:
            raise AssertionError("the store retrained although the models were cached")
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "train_models", counting)
    return calls


def test_manifest_lists_the_sha256_of_every_file(cache):
    """Each listed hash is hashlib's SHA-256 of the file's bytes; the weights file is among them."""
    trained_models("mnist", TINY, device="cpu")
    folder = cache / store_key("mnist", TINY)
    manifest = verify_manifest(folder)
    assert (
        manifest["key"] == store_key("mnist", TINY)
        and manifest["dataset"] == "mnist"
        and manifest["seed"] == 0
    )
    assert "checkpoint.pt" in manifest["files"]
    for name, digest in manifest["files"].items():
        assert digest == hashlib.sha256((folder / name).read_bytes()).hexdigest()
    # the weights are the one checkpoint format: a dict read with weights_only=True
    state = torch.load(folder / "checkpoint.pt", weights_only=True)
    assert {"PCA", "VAE", "DCGAN", "GLO", "codes", "gaussian"} <= set(state)


def test_a_flipped_byte_or_a_missing_file_gives_a_clear_error(cache):
    trained_models("mnist", TINY, device="cpu")
    folder = cache / store_key("mnist", TINY)
    path = folder / "checkpoint.pt"
    expected = hashlib.sha256(path.read_bytes()).hexdigest()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    path.write_bytes(bytes(data))
    found = hashlib.sha256(bytes(data)).hexdigest()
    with pytest.raises(ManifestError) as err:
        trained_models("mnist", TINY, device="cpu")
    message = str(err.value)
    assert str(path) in message and expected in message and found in message
    assert (
        "GLO_TEACH_RETRAIN=1" in message and "glo-teach reference" in message
    )  # what to do
    path.unlink()
    with pytest.raises(ManifestError, match="no such file"):
        verify_manifest(folder)


def test_reloaded_weights_reproduce_their_scores(cache):
    """pSNR of codes found by score.py's functions, before saving and after loading: equal within 1e-4 dB."""
    models = train_models(load_fit("mnist", TINY), 32, TINY, "mse", "cpu", 0)
    x = load_test("mnist", 6).images
    before = {
        c: score_codes(models, x, find_codes(models, x, c, TINY.inversion))
        for c in ("mse", "lap1", "encoder")
    }
    store.save_models(models, cache / "saved", store._info("mnist", TINY, 0))
    loaded = store.load_models(cache / "saved", "cpu")
    for c, scores in before.items():
        after = score_codes(loaded, x, find_codes(loaded, x, c, TINY.inversion))
        assert set(after) == set(scores)
        for m in scores:
            assert (after[m] - scores[m]).abs().max() < 1e-4, (c, m)
    assert torch.equal(loaded["codes"].weight, models["codes"].weight.detach())
    assert torch.allclose(
        loaded["gaussian"].covariance_matrix,
        store.fit_gaussian(models["codes"]).covariance_matrix,
    )


def test_table1_record_stores_scores_that_fresh_weights_reproduce(cache, monkeypatch):
    """table1.json's per-image test scores (and each row's mean) come back from the reloaded weights, and a
    second call reads the record without training or scoring again."""
    result, _, folder = table1_record("mnist", TINY, device="cpu")
    record = read_json(folder / "table1.json")
    assert (
        record["command"][:2] == ["glo-teach", "reference"]
        and "train GLO" in record["seconds"]
    )
    loaded = store.load_models(folder, "cpu")
    x = load_test("mnist", TINY.n_scored).images
    live = score_codes(loaded, x, find_codes(loaded, x, "mse", TINY.inversion))
    rows = {(r["method"], r["codes"]): r for r in result.rows}
    for m, per_image in live.items():
        assert (
            per_image
            - torch.tensor(record["per_image_test"][f"{m} mse"], dtype=torch.float64)
        ).abs().max() < 1e-4
        assert abs(per_image.mean().item() - rows[m, "mse"]["test"]) < 1e-4
    _counting_train(monkeypatch, fail_after=0)
    monkeypatch.setattr(
        store, "run_table1", lambda *a, **k: pytest.fail("scored again")
    )
    again, _, _ = table1_record("mnist", TINY, device="cpu")
    assert again.rows == result.rows and set(again.samples) == {"VAE", "DCGAN", "GLO"}


def test_a_cache_hit_does_not_retrain(cache, monkeypatch):
    calls = _counting_train(monkeypatch, fail_after=1)
    first = trained_models("mnist", TINY, device="cpu")
    second = trained_models("mnist", TINY, device="cpu")  # would raise if it trained
    assert len(calls) == 1
    for name in ("VAE", "DCGAN", "GLO"):
        for a, b in zip(
            first[name].state_dict().values(), second[name].state_dict().values()
        ):
            assert torch.equal(a, b)


def test_the_retrain_switch_retrains(cache, monkeypatch):
    calls = _counting_train(monkeypatch)
    trained_models("mnist", TINY, device="cpu")
    trained_models("mnist", TINY, device="cpu", retrain=True)
    assert len(calls) == 2
    monkeypatch.setenv("GLO_TEACH_RETRAIN", "1")
    trained_models("mnist", TINY, device="cpu")
    assert len(calls) == 3
    monkeypatch.setenv("GLO_TEACH_RETRAIN", "maybe")
    with pytest.raises(ValueError, match="GLO_TEACH_RETRAIN"):
        trained_models("mnist", TINY, device="cpu")


def _changed(value):
    if value is None:  # max_steps: uncapped -> capped
        return 2
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, tuple):
        return () if value else ("level",)
    return {
        "coefficient": "level",
        "level": "coefficient",
        "adam": "sgd",
        "pca": "gaussian",
    }.get(value, value + "x")


def test_the_key_changes_with_every_setting_the_data_set_and_the_seed():
    key = store_key("mnist", TINY)
    assert (
        key == store_key("mnist", dataclasses.replace(TINY)) and len(key) == 16
    )  # a function of the settings
    assert (
        store_key("fashion-mnist", TINY) != key
        and store_key("mnist", TINY, seed=1) != key
    )
    for f in dataclasses.fields(Protocol):
        if f.name == "inversion":
            continue
        assert (
            store_key(
                "mnist",
                dataclasses.replace(TINY, **{f.name: _changed(getattr(TINY, f.name))}),
            )
            != key
        ), f.name
    for f in dataclasses.fields(InversionSettings):
        inv = dataclasses.replace(
            TINY.inversion, **{f.name: _changed(getattr(TINY.inversion, f.name))}
        )
        assert store_key("mnist", dataclasses.replace(TINY, inversion=inv)) != key, (
            f.name
        )
    assert (
        store_key("mnist", "smoke")
        != store_key("mnist", "cpu")
        != store_key("mnist", "reference")
    )


def test_the_training_key_sees_only_the_settings_that_change_the_weights():
    """Every scoring field (SCORING_FIELDS, inversion settings included) leaves the training key alone;
    every other field, the data set and the seed change it."""
    key = store.training_key("mnist", TINY)
    for f in dataclasses.fields(Protocol):
        if f.name == "inversion":
            changed = dataclasses.replace(
                TINY,
                inversion=dataclasses.replace(TINY.inversion, steps=4, dcgan_lr=1.0),
            )
        elif f.name == "extra_lap1_readings":
            changed = dataclasses.replace(TINY, extra_lap1_readings=("level",))
        else:
            changed = dataclasses.replace(
                TINY, **{f.name: _changed(getattr(TINY, f.name))}
            )
        assert (store.training_key("mnist", changed) == key) == (
            f.name in store.SCORING_FIELDS
        ), f.name
    assert (
        store.training_key("fashion-mnist", TINY)
        != key
        != store.training_key("mnist", TINY, seed=1)
    )


def test_new_scoring_settings_rescore_a_folder_without_retraining(
    cache, monkeypatch, tmp_path
):
    """`glo-teach reference` into a folder whose weights have the asked training settings re-scores them
    (no training call) and the manifest then carries the new key; other training settings retrain."""
    out = tmp_path / "ref"
    store.write_reference("mnist", TINY, out, device="cpu")
    weights = (out / "checkpoint.pt").read_bytes()
    rescored = dataclasses.replace(
        TINY, inversion=dataclasses.replace(TINY.inversion, steps=5)
    )
    calls = _counting_train(monkeypatch, fail_after=0)
    store.write_reference("mnist", rescored, out, device="cpu")
    manifest = verify_manifest(out)
    assert (
        manifest["key"] == store_key("mnist", rescored) != store_key("mnist", TINY)
        and not calls
    )
    assert (out / "checkpoint.pt").read_bytes() == weights and manifest["seconds"][
        "train VAE"
    ] > 0
    assert (
        json.loads((out / "table1.json").read_text())["protocol"]["inversion"]["steps"]
        == 5
    )
    with pytest.raises(
        AssertionError, match="retrained"
    ):  # other training settings: a training call
        store.write_reference(
            "mnist", dataclasses.replace(TINY, gan_steps=3), out, device="cpu"
        )


def test_a_committed_folder_is_used_only_for_its_own_key(cache, monkeypatch, tmp_path):
    committed = tmp_path / "reference"
    store.write_reference("mnist", TINY, committed / "mnist", device="cpu")
    monkeypatch.setattr(store, "REFERENCE_DIR", committed)
    assert store.model_folder("mnist", TINY) == committed / "mnist"
    _counting_train(monkeypatch, fail_after=0)
    trained_models("mnist", TINY, device="cpu")  # loads the committed weights
    other = dataclasses.replace(TINY, gan_steps=3)
    assert store.model_folder("mnist", other) == cache / store_key("mnist", other)
    assert store.model_folder("mnist", TINY, retrain=True) == cache / store_key(
        "mnist", TINY
    )


def test_cli_reference_writes_a_verified_artefact_folder(cache, tmp_path):
    out = tmp_path / "ref-mnist"
    assert (
        main(
            ["reference", "--dataset", "mnist", "--budget", "smoke", "--out", str(out)]
        )
        == 0
    )
    manifest = verify_manifest(out)
    assert {
        "checkpoint.pt",
        "table1.json",
        "table1.csv",
        "table1.md",
        "samples.png",
    } <= set(manifest["files"])
    assert {p.name for p in out.iterdir()} == set(manifest["files"]) | {
        "manifest.json"
    }  # nothing else to commit
    assert (
        manifest["key"] == store_key("mnist", "smoke")
        and manifest["protocol"]["name"] == "smoke"
    )
    record = json.loads((out / "table1.json").read_text())
    assert record["command"] == [
        "glo-teach",
        "reference",
        "--dataset",
        "mnist",
        "--budget",
        "smoke",
        "--out",
        str(out),
    ]
    assert record["seed"] == 0 and record["seconds"]["total"] > 0 and "commit" in record
    assert (
        all(r["test_se"] > 0 for r in record["rows"])
        and record["n_scored"]["test"] == 32
    )
    assert len(record["per_image_test"]["GLO mse"]) == 32


def test_a_killed_training_resumes_and_other_settings_never_resume_it(
    cache, monkeypatch, tmp_path
):
    """Each loop checkpoints under <folder>/training: a rerun after a kill continues from there (the training
    folder is removed once the weights are saved); a leftover of other settings is wiped, not resumed."""
    import glo_teach.glo.train as glo_train

    real_train, real_load = store.train_models, glo_train.load_checkpoint
    resumed = []

    def killed_after_training(*args, checkpoint_root=None, **kwargs):
        real_train(*args, checkpoint_root=checkpoint_root, **kwargs)
        raise KeyboardInterrupt  # killed after the loops, before the weights were saved

    def recording_load(
        directory, *a, **k
    ):  # GLO's loop: did it find a checkpoint to resume?
        state = real_load(directory, *a, **k)
        resumed.append(state is not None)
        return state

    def kill(folder):
        monkeypatch.setattr(store, "train_models", killed_after_training)
        with pytest.raises(KeyboardInterrupt):
            store.write_reference("mnist", TINY, folder, device="cpu")
        monkeypatch.setattr(store, "train_models", real_train)
        assert {p.name for p in (folder / "training").iterdir()} == {
            "key",
            "vae",
            "dcgan",
            "glo",
        }
        resumed.clear()

    monkeypatch.setattr(glo_train, "load_checkpoint", recording_load)
    kill(tmp_path / "a")
    store.write_reference("mnist", TINY, tmp_path / "a", device="cpu")
    assert resumed == [True] and not (tmp_path / "a" / "training").exists()
    assert verify_manifest(tmp_path / "a")["key"] == store_key("mnist", TINY)
    kill(tmp_path / "b")
    (tmp_path / "b" / "training" / "key").write_text(
        "another key"
    )  # a leftover of other settings
    store.write_reference("mnist", TINY, tmp_path / "b", device="cpu")
    assert resumed == [False]  # started afresh


def test_a_killed_code_search_resumes_where_it_stopped_and_scores_as_an_unbroken_one(
    cache, monkeypatch, tmp_path
):
    """Scoring saves each model's codes under <folder>/codes/<codes>-<split> as soon as they are found: a run
    killed during the code search reruns only the searches it had not finished, its Table 1 equals one
    scored without a break from the same weights, and the codes folder is gone once the manifest is written."""
    import glo_teach.reference.score as score

    real_invert, calls = score.invert, []

    def counting_invert(*args, **kwargs):
        calls.append(1)
        if kill_at is not None and len(calls) == kill_at:
            raise KeyboardInterrupt  # killed in the middle of the code search
        return real_invert(*args, **kwargs)

    monkeypatch.setattr(score, "invert", counting_invert)
    folder = tmp_path / "killed"
    kill_at = None
    store.write_reference("mnist", TINY, folder, device="cpu")
    # 3 models x 2 halves x 2 splits, and the sanity check's search (not saved: 64 images)
    total = len(calls)
    assert total == 13 and not (folder / "codes").exists()
    unbroken = read_json(folder / "table1.json")["rows"]

    calls.clear()  # the same folder again: its weights load, its scores are redone
    kill_at = 7  # after six searches: the MSE half of both splits, then nothing of the Lap1 half
    with pytest.raises(KeyboardInterrupt):
        store.write_reference("mnist", TINY, folder, device="cpu")
    saved = sorted(p.parent.name for p in (folder / "codes").rglob("checkpoint.pt"))
    assert saved == ["mse-test", "mse-train"]
    calls.clear()
    kill_at = None
    store.write_reference("mnist", TINY, folder, device="cpu")
    assert len(calls) == total - 6  # the six finished searches were loaded, not rerun
    assert read_json(folder / "table1.json")["rows"] == unbroken
    assert not (folder / "codes").exists()
    verify_manifest(folder)


def test_saved_codes_are_reused_only_for_the_same_inputs(monkeypatch, tmp_path):
    """The key of a saved search covers the weights, the images, the start, the settings and the seed: a
    change of any of them searches again; the same inputs load the saved codes bit for bit."""
    import glo_teach.reference.score as score

    models = train_models(load_fit("mnist", TINY), 32, TINY, "mse", "cpu", 0)
    x, inv = load_test("mnist", 4).images, InversionSettings(steps=2)
    first = find_codes(models, x, "mse", inv, resume_dir=tmp_path / "saved")
    saved = torch.load(tmp_path / "saved" / "checkpoint.pt", weights_only=True)
    assert set(saved) == {"VAE", "DCGAN", "GLO"}  # PCA's projection is not a search
    real_invert, ran = score.invert, []

    def spy(*args, **kwargs):
        ran.append(1)
        return real_invert(*args, **kwargs)

    monkeypatch.setattr(score, "invert", spy)

    def searches(models=models, x=x, inv=inv, seed=0) -> int:
        """How many searches a rerun makes on a fresh copy of the saved codes."""
        copy = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(tmp_path / "saved", copy)
        ran.clear()
        z = find_codes(models, x, "mse", inv, seed=seed, resume_dir=copy)
        if not ran:
            assert all(torch.equal(first[m], z[m]) for m in first)
        return len(ran)

    assert searches() == 0
    assert searches(x=x.flip(-1)) == 3
    assert searches(inv=InversionSettings(steps=3)) == 3
    assert searches(inv=InversionSettings(steps=2, glo_lr=0.3)) == 1  # GLO's step size
    assert searches(seed=1) == 3
    with torch.no_grad():
        next(models["DCGAN"].parameters()).add_(0.01)  # only the DCGAN's weights change
    assert searches() == 1


def test_the_weights_file_holds_no_more_than_the_weights(cache):
    """torch.save writes a view's whole storage: the checkpoint must store PCA's d x P components, not the
    P x P SVD factor they are rows of (8 MB of float64 at 32 x 32 pixels)."""
    trained_models("mnist", TINY, device="cpu")
    path = cache / store_key("mnist", TINY) / "checkpoint.pt"
    state = torch.load(path, weights_only=True)

    def nbytes(v):
        return (
            v.numel() * v.element_size()
            if isinstance(v, torch.Tensor)
            else sum(nbytes(x) for x in v.values())
            if isinstance(v, dict)
            else 0
        )

    assert (
        path.stat().st_size < 1.1 * nbytes(state) + 100_000
    )  # tensors plus the pickle's bookkeeping


@pytest.mark.skipif(
    store.REFERENCE_DIR is None or not any(store.REFERENCE_DIR.glob("*/manifest.json")),
    reason="no committed reference folder",
)
def test_committed_reference_folders_verify_and_reproduce_their_scores():
    """Every committed reference/<dataset>/: checksums verify; the weights give the stored test pSNR of its
    first 4 scored images again (codes by MSE), the mean within the standard error of those 4."""
    for manifest_path in sorted(store.REFERENCE_DIR.glob("*/manifest.json")):
        folder = manifest_path.parent
        verify_manifest(folder)
        record = read_json(folder / "table1.json")
        models = store.load_models(folder, "cpu")
        protocol = Protocol.from_dict(record["protocol"])
        x = load_test(record["dataset"], record["n_scored"]["test"]).images[:4]
        live = score_codes(
            models,
            x,
            find_codes(models, x, "mse", protocol.inversion, seed=record["seed"]),
        )
        for m, per_image in live.items():
            stored = torch.tensor(
                record["per_image_test"][f"{m} mse"][:4], dtype=torch.float64
            )
            assert abs(per_image.mean() - stored.mean()) <= per_image.std() / 2, (
                folder.name,
                m,
            )


def test_table1_training_obeys_the_protocols_step_cap(monkeypatch):
    """Protocol.max_steps reaches the VAE and GLO loops of train_models (gan_steps caps the DCGAN): with
    max_steps=1 each loop takes one optimiser step although an epoch of TINY's 64 images takes two."""
    import glo_teach.reference.train as train_module

    steps = {}
    for name in ("train_vae", "train_glo"):
        real = getattr(train_module, name)

        def recording(*args, _real=real, _name=name, **kwargs):
            out = _real(*args, **kwargs)
            steps[_name] = len(out[-1]["loss"])
            return out

        monkeypatch.setattr(train_module, name, recording)
    fit = load_fit("mnist", TINY)
    train_models(fit, 32, dataclasses.replace(TINY, max_steps=1), "mse", "cpu", seed=0)
    assert steps == {"train_vae": 1, "train_glo": 1}
    train_models(fit, 32, TINY, "mse", "cpu", seed=0)
    assert steps == {
        "train_vae": 2,
        "train_glo": 2,
    }  # uncapped: one epoch of 64 images in batches of 32
