"""The old name of :mod:`glo_teach.reference` (Table 1 split by concept: protocol, train, score, tune, report).

Kept only so that code written against ``glo_teach.table1`` keeps importing; new code imports
``glo_teach.reference``. The old ``SANITY_STEPS_FACTOR`` is gone: the sanity check uses the real
images' inversion settings (``Protocol.inversion``).
"""

from .reference import *  # noqa: F401,F403
from .reference import GLO_SETTINGS, LATENT_DIMS, PAPER, ROWS, SANITY_DB, Table1Result  # noqa: F401
from .reference import __all__  # noqa: F401
