"""The report's plots, read back through matplotlib's own objects (not pixels): every
series its own colour, line style and marker, the legend off the data, axes from 0, whole
replica ticks, the CPU limit and the HPA target drawn from what the run recorded, the
scale-down window marked, titles that say what happened, throughput and failures drawn,
150 dpi. From the sample results (tests/fixtures/results: made-up numbers of the right
shape), as `fab report` loads them."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from PIL import Image  # noqa: E402

from gourmetops.load import plots  # noqa: E402
from gourmetops.load.report import load  # noqa: E402

SAMPLE = Path(__file__).parent / "fixtures" / "results" / "experiment-sample"


@pytest.fixture
def data():
    return load(SAMPLE)


@pytest.fixture(autouse=True)
def _closed():
    yield
    plt.close("all")


def _hlines(ax) -> dict[float, str]:
    """Horizontal lines across the axes (y constant, x in axes coordinates 0..1) by y."""
    found = {}
    for line in ax.get_lines():
        ys = set(line.get_ydata())
        if len(ys) == 1 and list(line.get_xdata()) == [0, 1]:
            found[float(ys.pop())] = line.get_color()
    return found


def _texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def test_replicas_and_cpu_every_series_visible_from_zero_with_limit_and_target(data):
    fig = plots.replicas_cpu(plt, data)
    ax_rep, ax_cpu = fig.axes
    series = [line for line in ax_rep.get_lines() if line.get_label() in plots_names(data)]
    looks = {(line.get_color(), line.get_linestyle(), line.get_marker()) for line in series}
    assert len(series) == len(looks) == 4  # no two series look alike
    assert {c for c, _, _ in looks} <= set(plots.PALETTE)
    assert ax_rep.get_ylim()[0] == 0 and ax_cpu.get_ylim()[0] == 0
    assert ax_cpu.get_ylim()[1] > 500  # the limit line is inside the plot
    assert isinstance(ax_rep.yaxis.get_major_locator(), MaxNLocator)
    assert all(float(t).is_integer() for t in ax_rep.get_yticks())
    assert _hlines(ax_cpu) == {500.0: plots.LIMIT_COLOUR, 150.0: plots.TARGET_COLOUR}
    assert _texts(ax_cpu) == [
        "CPU limit per pod (500m)",
        "HPA target: 150m per pod on average (50% of the 300m request)",
    ]
    # the legend is the figure's, below the axes, not on the data
    assert ax_rep.get_legend() is None and ax_cpu.get_legend() is None
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == 4
    fig.canvas.draw()
    legend_box = fig.legends[0].get_window_extent()
    for ax in fig.axes:
        assert not legend_box.overlaps(ax.get_window_extent())
    assert ax_rep.get_title(loc="left") == "Replicas: the HPA went from 2 to 6 replicas within 25 s"
    assert ax_cpu.get_title(loc="left") == (
        "CPU: with 1 replica, the busiest pod ran at its 500m limit"
    )


def plots_names(data) -> list[str]:
    return [s["name"] for s in data["scenarios"]]


def test_scale_down_marks_the_window_whole_ticks_from_zero_and_says_what_happened(data):
    fig = plots.scale_down(plt, data)
    (ax,) = fig.axes
    spans = [p for p in ax.patches if isinstance(p, Rectangle)]  # axvspan's patch
    assert len(spans) == 1
    span = spans[0]
    assert (span.get_x(), span.get_x() + span.get_width()) == (0, 300)  # the recorded window
    assert ax.get_ylim()[0] == 0
    assert all(float(t).is_integer() for t in ax.get_yticks())
    assert _hlines(ax) == {2.0: "#555555"}  # the HPA minimum
    assert ax.get_title(loc="left") == (
        "The HPA held 6 replicas for 300 s after the load, then scaled back to 2 by 330 s"
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "HPA scale-down stabilization window (300 s)"
    fig.canvas.draw()  # the legend sits beside the axes, not on the steps
    assert not ax.get_legend().get_window_extent().overlaps(ax.get_window_extent())


def test_throughput_and_failures_are_drawn_per_scenario(data):
    fig = plots.throughput_failures(plt, data)
    ax_rate, ax_failed = fig.axes
    assert [round(b.get_width(), 2) for b in ax_rate.patches] == [13.83, 77.26, 40.8, 71.14]
    assert [b.get_width() for b in ax_failed.patches] == [37, 0, 3, 0]
    assert ax_rate.get_xlim()[0] == 0 and ax_failed.get_xlim()[0] == 0
    assert fig.get_suptitle() == (
        "Throughput and failures: most served: 6 replicas (77.3/s); most failed: 1 replica (37)"
    )
    ticks = [t.get_text() for t in ax_rate.get_yticklabels()]
    assert ticks[0] == "1 replica"  # top to bottom in run order (the axes share y)


def test_pngs_are_150_dpi_and_old_results_draw_without_the_recorded_lines(sample_report):
    """The PNGs `fab report` drew (conftest's sample_report). Results from before the CPU
    limit and HPA target were recorded still draw: no limit/target lines, the window at
    Kubernetes' default 300 s."""
    results = sample_report
    for png in ("replicas_cpu.png", "scale_down.png", "response_time.png",
                "throughput_failures.png"):  # fmt: skip
        with Image.open(results / png) as image:
            assert [round(d) for d in image.info["dpi"]] == [150, 150], png
    data = load(SAMPLE)
    del data["app"]
    ax_cpu = plots.replicas_cpu(plt, data).axes[1]
    assert _hlines(ax_cpu) == {} and _texts(ax_cpu) == []
    assert ax_cpu.get_title(loc="left") == ("CPU: the busiest pod peaked at 500m (with 1 replica)")
    window = plots.scale_down(plt, data).axes[0].get_legend().get_texts()[0].get_text()
    assert window == "HPA scale-down stabilization window (300 s)"
