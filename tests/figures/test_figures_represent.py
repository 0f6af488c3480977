"""The representation figures: every text at least 9 pt, colour-blind-safe colours, a colour
bar in the cells' unit, the panels asked for, and one-line errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mnistlab.errors import MnistlabError
from mnistlab.figures import represent as figs


@pytest.fixture
def drawn(monkeypatch):
    """The figures handed to ``save_figure`` (then saved as usual)."""
    seen = []
    real = figs.save_figure

    def keep(fig, path, **kw):
        seen.append(fig)
        fig.canvas.draw()  # lay out the text as saved
        sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_fontsize"))
                 if hasattr(t, "get_text") and t.get_text().strip()]  # fmt: skip
        seen.append(sizes)
        return real(fig, path, **kw)

    monkeypatch.setattr(figs, "save_figure", keep)
    return seen


def _tables(n=120):
    rng = np.random.default_rng(0)
    ref = pd.DataFrame(rng.normal(size=(n, 3)), columns=["thickness", "slant", "width"])
    ref.insert(0, "index", np.arange(n))
    return ref, ref.assign(thickness=ref["thickness"] + 1)


def _check_fonts(drawn):
    sizes = drawn[1]
    assert sizes and min(sizes) >= figs.FONT, sorted(sizes)[:5]


def test_density_overlays_one_panel_per_metric(tmp_path, drawn):
    ref, smp = _tables()
    stats = pd.DataFrame({"wasserstein": [1.0], "mmd_pvalue": [0.001]}, index=["thickness"])
    path = figs.plot_density_overlays(ref, smp, tmp_path / "d.png", stats=stats)
    assert path.read_bytes()[:4] == b"\x89PNG"
    fig = drawn[0]
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["thickness: W1 1, MMD p 0.001", "slant", "width"]  # index left out
    colours = {line.get_color() for ax in fig.axes for line in ax.get_lines()}
    assert colours == set(figs.COLOURS)
    _check_fonts(drawn)


def test_density_overlays_of_a_constant_metric_fall_back_to_a_histogram(tmp_path):
    t = pd.DataFrame({"area": [3.0] * 10})
    assert figs.plot_density_overlays(t, t, tmp_path / "d.png").is_file()


def test_pair_plot_lower_triangle(tmp_path, drawn):
    ref, smp = _tables(3000)
    figs.plot_pair_plot(ref, smp, tmp_path / "p.png", metrics=["thickness", "slant", "width"],
                        max_points=500)  # fmt: skip
    fig = drawn[0]
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6  # 3 diagonal + 3 below it
    scatter = [c for ax in visible for c in ax.collections]
    assert max(len(c.get_offsets()) for c in scatter) == 500
    _check_fonts(drawn)


def test_heatmap_diverging_with_a_colour_bar_in_the_unit(tmp_path, drawn):
    values = np.array([[0.9, -0.2], [0.0, -0.8], [0.1, 0.3]])
    figs.plot_matrix_heatmap(values, ["z0", "z1", "z2"], ["thickness", "slant"], tmp_path / "h.png",
                             title="t", unit="partial correlation")  # fmt: skip
    fig = drawn[0]
    image = fig.axes[0].get_images()[0]
    assert image.get_cmap().name == "RdBu_r" and image.get_clim() == (-1.0, 1.0)
    assert fig.axes[1].get_ylabel() == "partial correlation"  # the colour bar
    cells = [t.get_text() for t in fig.axes[0].texts]
    assert cells == ["+0.90", "-0.20", "+0.00", "-0.80", "+0.10", "+0.30"]
    _check_fonts(drawn)


def test_heatmap_sequential_and_bad_labels(tmp_path, drawn):
    figs.plot_matrix_heatmap([[0.2, np.nan]], ["z0"], ["a", "b"], tmp_path / "m.png", title="t",
                             unit="nats", diverging=False, fmt="{:.2f}")  # fmt: skip
    image = drawn[0].axes[0].get_images()[0]
    assert image.get_cmap().name == "cividis" and image.get_clim() == (0.0, 0.2)
    assert [t.get_text() for t in drawn[0].axes[0].texts] == ["0.20"]  # NaN left blank
    with pytest.raises(MnistlabError, match="a 1 x 3 matrix expected, got shape"):
        figs.plot_matrix_heatmap([[0.2, 0.1]], ["z0"], ["a", "b", "c"], tmp_path / "x.png",
                                 title="t", unit="u")  # fmt: skip


def test_traversal_grid_and_metrics(tmp_path, drawn):
    images = np.zeros((2, 4, 28, 28), np.uint8)
    values = np.tile(np.linspace(-2, 2, 4), (2, 1))
    figs.plot_traversal_grid(images, values, tmp_path / "g.png", codes=["z3", "z5"])
    fig = drawn[0]
    assert len(fig.axes) == 8 and fig.axes[0].get_ylabel() == "z3"
    assert fig.axes[4].get_ylabel() == "z5" and fig.axes[1].get_xlabel() == "-0.67"
    _check_fonts(drawn)
    with pytest.raises(MnistlabError, match="traversal grid"):
        figs.plot_traversal_grid(images[0], values, tmp_path / "g.png")
    table = pd.DataFrame({"code": ["z0"] * 3 + ["z1"] * 3, "step": [0, 1, 2] * 2,
                          "area_mean": np.arange(6.0), "area_std": np.ones(6)})  # fmt: skip
    drawn.clear()
    figs.plot_traversal_metrics(table, tmp_path / "m.png", metrics=["area"])
    assert len(drawn[0].axes[0].get_lines()) == 2
    _check_fonts(drawn)
    with pytest.raises(MnistlabError, match="no column 'slant_mean'"):
        figs.plot_traversal_metrics(table, tmp_path / "m.png", metrics=["slant"])


def test_class_histogram(tmp_path, drawn):
    figs.plot_class_histogram({"reference": [0.5, 0.5], "samples": [1.0, 0.0]}, ["0", "1"],
                              tmp_path / "c.png")  # fmt: skip
    bars = drawn[0].axes[0].patches
    assert [round(b.get_height()) for b in bars] == [50, 50, 100, 0]
    _check_fonts(drawn)


def test_missing_columns_are_one_line(tmp_path):
    ref, smp = _tables()
    with pytest.raises(MnistlabError, match="no column 'area' to plot"):
        figs.plot_density_overlays(ref, smp, tmp_path / "d.png", metrics=["area"])
