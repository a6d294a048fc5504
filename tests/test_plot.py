"""glo_teach.plot: image strips that read at the page width; sliders where live."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402

from glo_teach.plot import (  # noqa: E402
    PAGE_WIDTH_IN,
    TITLE_HEIGHT_IN,
    interact,
    show_images,
    widgets_enabled,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _page_px(fontsize_pt: float, fig) -> float:
    """Height in page pixels of a ``fontsize_pt`` font in ``fig``, saved at its dpi and
    shown at most PAGE_WIDTH_IN * dpi pixels wide (the page scales a wider PNG down)."""
    shrink = min(1.0, PAGE_WIDTH_IN / fig.get_figwidth())
    return fontsize_pt * fig.dpi / 72 * shrink


@pytest.mark.parametrize(
    "n, nrow, scale", [(11, 11, 1.0), (26, 13, 1.0), (64, 16, 0.6), (1, 1, 2.0)]
)
def test_a_strips_title_and_row_labels_read_at_page_width(n, nrow, scale):
    """The axes carry the title and one label per row as passed; the figure is no wider
    than the page and keeps the aspect, so the title is drawn at >= 12 page px."""
    rows = -(-n // nrow)
    labels = [f"row {r}" for r in range(rows)]
    ax = show_images(
        torch.zeros(n, 1, 32, 32),
        nrow=nrow,
        title="a strip",
        scale=scale,
        row_labels=labels,
    )
    fig = ax.figure
    assert ax.get_title() == "a strip"
    assert [t.get_text() for t in ax.get_yticklabels()] == labels
    assert fig.get_figwidth() <= PAGE_WIDTH_IN + 1e-9
    grid_w, grid_h = nrow * 33 + 1, rows * 33 + 1  # image_grid: 1-pixel padding
    grid_height_in = fig.get_figheight() - TITLE_HEIGHT_IN
    assert grid_height_in / fig.get_figwidth() == pytest.approx(grid_h / grid_w)
    title_pt = FontProperties(size=ax.title.get_fontsize()).get_size_in_points()
    assert _page_px(title_pt, fig) >= 12
    # the row labels sit at the rows' centres, top to bottom
    ticks = ax.get_yticks()
    assert list(ticks) == sorted(ticks) and len(ticks) == rows
    assert ticks[0] == pytest.approx(1 + 31 / 2)


def test_without_row_labels_the_axes_are_off_and_given_axes_keep_their_figure():
    fig, ax = plt.subplots(figsize=(13, 3))
    out = show_images(torch.zeros(16, 1, 8, 8), nrow=16, title="given axes", ax=ax)
    assert out is ax and not ax.axison and ax.get_title() == "given axes"
    assert fig.get_figwidth() == 13  # the caller's layout is left alone


def test_row_labels_must_match_the_rows():
    with pytest.raises(ValueError, match="2 rows of 8 images need 2 labels, got 3"):
        show_images(torch.zeros(16, 1, 8, 8), nrow=8, row_labels=["a", "b", "c"])


def test_sliders_only_where_widgets_are_enabled(monkeypatch):
    calls = []
    monkeypatch.setattr("ipywidgets.interact", lambda f, **kw: calls.append(kw) or f)
    monkeypatch.setenv("GLO_TEACH_WIDGETS", "0")
    assert not widgets_enabled()
    assert interact(lambda t=0.5: None, t=(0.0, 1.0, 0.1)) is None and calls == []
    monkeypatch.delenv("GLO_TEACH_WIDGETS")
    assert widgets_enabled()
    interact(lambda t=0.5: None, t=(0.0, 1.0, 0.1))
    assert calls == [{"t": (0.0, 1.0, 0.1)}]
    monkeypatch.setenv("GLO_TEACH_WIDGETS", "maybe")
    with pytest.raises(ValueError, match="GLO_TEACH_WIDGETS must be 1 or 0"):
        widgets_enabled()
