"""experiment.json's one model: `fab experiment` builds and writes it, `fab report` reads and
draws from it (after validation, from the model's own dump, never from the raw file).

    {"started": "2026-12-01T16:22:37Z", "url": "http://.../test", "concurrency": 10,
     "duration": 30,
     "scenarios": [{"name": "1 replica", "started": 12.4, "result": {<SiegeResult>},
                    "samples": [{"t": 5.0, "replicas": 1, "pods": {"pod": {"cpu": "250m",
                                 "memory": "211Mi"}}}],
                    "siege_stderr_tail": ["..."]}],
     "pause": {"started": 75.2, "samples": [...]},
     "scale_down": {"started": 151.0, "outcome": "scaled_down", "reached": true,
                    "scaled_up": true, "peak": 6, "min": 2, "seconds": 300.0, "samples": [...]},
     "timing": {"defaults": "metrics every 15s, ...",
                "first_scale_up": {"expected_within": 70.0, "observed": 35.0,
                                   "verdict": "as expected", "why": ""},
                "back_to_minimum": {"expected_from": 285.0, "expected_within": 345.0,
                                    "observed": 300.0, "verdict": "as expected", "why": ""}},
     "app": {"cpu_request": "300m", "cpu_limit": "500m", "hpa_min": 2, "hpa_max": 6,
             "hpa_cpu_percent": 50, "scale_down_window": 300}}

Unknown keys are kept, not refused (results written by another version still draw);
numbers must be finite (a NaN would reach the plots), and the lists are capped so that a
file of any size draws in seconds (a day's scale-down watch, sampled every 5 s, is 17,280
samples; the experiment has 4 scenarios).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from gourmetops.quantity import parse_quantity

_KEEP = ConfigDict(extra="allow", allow_inf_nan=False)
MAX_RESULTS_BYTES = 64 * 1024 * 1024
MAX_SCENARIOS = 50
MAX_SAMPLES = 20_000
MAX_PODS = 1000


def _cpu(value: str) -> str:
    try:
        parse_quantity(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a CPU quantity (e.g. '250m')") from None
    return value


class Usage(BaseModel):
    model_config = _KEEP
    cpu: Annotated[str, AfterValidator(_cpu)]
    memory: str


class Sample(BaseModel):
    """One look at the Deployment while siege ran (or during the scale-down watch); `t` in
    seconds from the start; `error` when the look itself failed."""

    model_config = _KEEP
    t: float
    replicas: int | None = None
    pods: dict[str, Usage] | None = Field(default=None, max_length=MAX_PODS)
    error: str | None = None


class Result(BaseModel):
    """siege's summary (load.siege.SiegeResult); the fields the report reads are required."""

    model_config = _KEEP
    transactions: int
    transaction_rate: float
    response_time: float
    failed_transactions: int
    availability: float


class Scenario(BaseModel):
    model_config = _KEEP
    name: str
    started: float | None = None  # s from the experiment's start; its samples' t from here
    result: Result
    samples: list[Sample] = Field(max_length=MAX_SAMPLES)
    siege_stderr_tail: list[str] = Field(default=[], max_length=1000)


class ScaleDown(BaseModel):
    """load.scale_down_watch.ScaleDownWatch.result()."""

    model_config = _KEEP
    started: float | None = None
    outcome: str | None = None
    reached: bool | None = None
    scaled_up: bool | None = None
    samples: list[Sample] = Field(default=[], max_length=MAX_SAMPLES)
    min: int | None = None
    peak: int | None = None
    seconds: float = 0


class Pause(BaseModel):
    """The sampled pause between the two autoscaling load tests."""

    model_config = _KEEP
    started: float
    samples: list[Sample] = Field(default=[], max_length=MAX_SAMPLES)


class Judged(BaseModel):
    """One timing judgement (load/timeline.py): seconds expected and observed, the verdict
    ("as expected", "later than expected", "earlier than expected", "not observed",
    "inconclusive") and why, when it is not "as expected"."""

    model_config = _KEEP
    expected_from: float | None = None
    expected_within: float
    observed: float | None = None
    verdict: str = Field(max_length=40)
    why: str = Field(default="", max_length=1000)


class Timing(BaseModel):
    model_config = _KEEP
    defaults: str = Field(max_length=1000)
    first_scale_up: Judged
    back_to_minimum: Judged


class App(BaseModel):
    """What the pods ran under, read from the objects the experiment applied: the CPU
    limit and the HPA's target (a share of the CPU request) are what the plots are drawn
    against. Results written before these were recorded have none, and draw without them."""

    model_config = _KEEP
    cpu_request: Annotated[str, AfterValidator(_cpu)] | None = None
    cpu_limit: Annotated[str, AfterValidator(_cpu)] | None = None
    hpa_min: int | None = None
    hpa_max: int | None = None
    hpa_cpu_percent: float | None = Field(default=None, gt=0)
    # The HPA's scale-down stabilization window: behavior.scaleDown, else Kubernetes' 300 s.
    scale_down_window: float | None = Field(default=None, ge=0)


class Experiment(BaseModel):
    model_config = _KEEP
    started: str | None = None
    url: str | None = None
    concurrency: int | None = None
    duration: int | None = None
    scenarios: list[Scenario] = Field(min_length=1, max_length=MAX_SCENARIOS)
    pause: Pause | None = None
    scale_down: ScaleDown | None = None
    timing: Timing | None = None
    app: App | None = None
