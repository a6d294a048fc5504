"""Table 1 of the GLO paper under a written reference protocol, one module per concept.

- :mod:`~glo_teach.reference.protocol`: every setting (one frozen :class:`Protocol` per budget) and the
  three parts of the data (fit, validation carved from the training split, test);
- :mod:`~glo_teach.reference.train`: the four models fitted to the same images;
- :mod:`~glo_teach.reference.score`: code finding (one procedure for every model, one
  :class:`InversionSettings` for real images and the sanity check) and scores with standard errors;
- :mod:`~glo_teach.reference.tune`: settings chosen on validation images only;
- :mod:`~glo_teach.reference.report`: CSV, Markdown, the deviations table, the inversion curve, figures;
- :mod:`~glo_teach.reference.run`: :func:`run_table1`, all of it end to end;
- :mod:`~glo_teach.reference.store`: the trained models for a chapter (committed ``reference/<dataset>/``,
  else trained at the budget and cached under a key of the settings), with a SHA-256 manifest.
"""

from .protocol import (
    LATENT_DIMS,
    N_SAMPLES,
    PAPER,
    PROTOCOLS,
    ROWS,
    SANITY_DB,
    VALIDATION_RESERVED,
    VALIDATION_SEED,
    InversionSettings,
    Protocol,
    fit_positions,
    get_protocol,
    load_fit,
    load_test,
    load_validation,
    validation_positions,
)
from .report import (
    Table1Result,
    curve_markdown,
    deviations,
    deviations_markdown,
    per_class_markdown,
    read_json,
    result_from_json,
    to_markdown,
    write_csv,
)
from .run import run_table1
from .score import find_codes, inversion_curve, mean_se, sanity_check
from .store import (
    ManifestError,
    load_models,
    model_folder,
    reference_command,
    save_models,
    store_key,
    table1_record,
    trained_models,
    verify_manifest,
    write_reference,
)

GLO_SETTINGS = PROTOCOLS[
    "reference"
].glo_settings()  # GLO's optimiser in every chapter: Adam for θ, projected SGD for z

__all__ = [
    "LATENT_DIMS",
    "N_SAMPLES",
    "PAPER",
    "PROTOCOLS",
    "ROWS",
    "SANITY_DB",
    "VALIDATION_RESERVED",
    "VALIDATION_SEED",
    "GLO_SETTINGS",
    "InversionSettings",
    "Protocol",
    "Table1Result",
    "curve_markdown",
    "deviations",
    "deviations_markdown",
    "find_codes",
    "fit_positions",
    "get_protocol",
    "inversion_curve",
    "load_fit",
    "load_test",
    "load_validation",
    "mean_se",
    "per_class_markdown",
    "read_json",
    "result_from_json",
    "run_table1",
    "sanity_check",
    "to_markdown",
    "validation_positions",
    "write_csv",
    "ManifestError",
    "load_models",
    "model_folder",
    "reference_command",
    "save_models",
    "store_key",
    "table1_record",
    "trained_models",
    "verify_manifest",
    "write_reference",
]
