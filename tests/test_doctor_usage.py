"""Using the doctor: on by default for the cheap checks, disable() and EMBER_DOCTOR=0,
silence(), strict(), the report, `ember doctor script.py`, and the clear errors it adds."""

from __future__ import annotations

import os
import re
import pathlib
import subprocess
import sys
import warnings

import doctor_cases as cases
import pytest
from doctor_cases import doctor

import ember
import ember.nn as nn
import ember.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run(*args: str, env: dict | None = None,
         cwd: str | None = None) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=120)


def test_the_cheap_checks_are_on_by_default_and_the_heavy_ones_off() -> None:
    assert ember.doctor.is_enabled()
    on = {name for name in ember.doctor.CHECKS if ember.doctor.is_enabled(name)}
    assert on == {"train_mode_inference", "missing_zero_grad", "cut_graph", "loss_input",
                  "scheduler_order", "target_shape"}


def test_the_default_checks_catch_their_bugs_without_enabling_anything() -> None:
    for check, case in [("train_mode_inference", cases.forgot_eval),
                        ("missing_zero_grad", cases.forgot_zero_grad),
                        ("cut_graph", cases.cut_graph),
                        ("loss_input", cases.softmax_into_cross_entropy),
                        ("scheduler_order", cases.scheduler_first)]:
        ember.doctor.reset()
        with pytest.warns(ember.doctor.DoctorWarning, match=f"^\\[{check}\\]"):
            case(False)
    ember.doctor.reset()


def test_heavy_checks_stay_off_by_default() -> None:
    ember.doctor.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ember.doctor.DoctorWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        cases.nan_from_log(False)
        cases.dead_relus(False)
    assert ember.doctor.findings() == []


def test_disable_turns_everything_off() -> None:
    with doctor("train_mode_inference") as caught:
        ember.doctor.disable()
        assert not ember.doctor.is_enabled() and not ember.doctor.is_enabled("cut_graph")
        cases.forgot_eval(False)
        cases.forgot_zero_grad(False)
        ember.doctor.enable()
        cases.forgot_eval(False)
    assert [str(w.message)[:22] for w in caught] == ["[train_mode_inference]"]


def test_disable_one_check() -> None:
    with doctor() as caught:
        ember.doctor.disable("missing_zero_grad")
        cases.forgot_zero_grad(False)
    assert caught == []


def test_ember_doctor_0_in_the_environment() -> None:
    code = ("import ember; from ember.doctor.flags import flags; "
            "print(ember.doctor.is_enabled(), flags.inference, flags.optimizer, flags.cuts)")
    assert _run("-c", code, env={"EMBER_DOCTOR": "0"}).stdout.split() == ["False"] * 4
    assert _run("-c", code).stdout.split() == ["True"] * 4


def test_silence_as_a_call_and_as_a_block() -> None:
    with doctor() as caught:
        with ember.doctor.silence("train_mode_inference"):
            cases.forgot_eval(False)
        assert caught == []
        ember.doctor.silence("train_mode_inference")
        cases.forgot_eval(False)
        assert caught == []
        ember.doctor.unsilence("train_mode_inference")
        cases.forgot_eval(False)
    assert len(caught) == 1


def test_unknown_check_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown check 'train_mode'.*train_mode_inference"):
        ember.doctor.silence("train_mode")
    with pytest.raises(ValueError, match="unknown option"):
        ember.doctor.configure(dead_relus=3)


def test_strict_raises_the_warning() -> None:
    with doctor():
        with ember.doctor.strict():
            with pytest.raises(ember.doctor.DoctorWarning, match=r"^\[missing_zero_grad\]"):
                cases.forgot_zero_grad(False)
        with pytest.warns(ember.doctor.DoctorWarning):
            ember.doctor.reset()
            cases.forgot_zero_grad(False)


def test_the_report_lists_each_finding_once_with_its_count() -> None:
    with doctor():
        cases.forgot_zero_grad(False)
        cases.forgot_eval(False)
        text = ember.doctor.report("train.py")
    assert text.startswith("ember doctor train.py: 2 problems found")
    assert f"1. [missing_zero_grad] doctor_cases.py:{cases.line_of('CASE-ZERO-GRAD')} " \
           "(seen 3 times)" in text
    assert f"2. [train_mode_inference] doctor_cases.py:{cases.line_of('CASE-EVAL')}" in text
    with doctor():
        assert ember.doctor.report().startswith("ember doctor: no problems found")


BUGGY_SCRIPT = '''
import sys
import ember as torch
import ember.nn as nn

model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 2))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x, y = torch.randn(64, 4), torch.randint(0, 2, (64,))
for step in range(int(sys.argv[1])):
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
with torch.no_grad():
    accuracy = (model(x).argmax(1) == y).float().mean().item()
print(f"accuracy {accuracy:.2f}")
'''


def test_ember_doctor_runs_a_script_and_reports(tmp_path) -> None:
    script = tmp_path / "train.py"
    script.write_text(BUGGY_SCRIPT)
    result = _run("-m", "ember", "doctor", str(script), "4", cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("accuracy")
    err = result.stderr
    assert "train.py:12: DoctorWarning: [missing_zero_grad]" in err
    assert "train.py:14: DoctorWarning: [train_mode_inference]" in err
    assert "ember doctor train.py: 2 problems found" in err
    assert "1. [missing_zero_grad] train.py:12 (seen 3 times)" in err
    assert "checks: train_mode_inference, missing_zero_grad, cut_graph, loss_input, nonfinite, " \
           "grad_norm, loss_trend, scheduler_order, dead_relu, target_shape" in err


def test_ember_doctor_on_a_clean_script_and_on_a_failing_one(tmp_path) -> None:
    script = tmp_path / "clean.py"
    script.write_text(BUGGY_SCRIPT.replace("    loss = ", "    opt.zero_grad()\n    loss = ")
                      .replace("with torch.no_grad():", "model.eval()\nwith torch.no_grad():"))
    result = _run("-m", "ember", "doctor", str(script), "3")
    assert result.returncode == 0 and "ember doctor clean.py: no problems found" in result.stderr
    failing = tmp_path / "failing.py"
    failing.write_text("import sys\nprint('before')\nsys.exit(3)\n")
    result = _run("-m", "ember", "doctor", str(failing))
    assert result.returncode == 3 and "no problems found" in result.stderr
    result = _run("-m", "ember", "doctor", str(tmp_path / "missing.py"))
    assert result.returncode == 2 and "no such script" in result.stderr


# ----------------------------------------------------------------------- the clear errors
def test_class_labels_outside_the_classes_are_an_error() -> None:
    logits = ember.randn(4, 3, requires_grad=True)
    with pytest.raises(IndexError, match=r"Target 3 is out of bounds: class indices must be "
                                         r"in \[0, 3\)"):
        F.cross_entropy(logits, ember.tensor([0, 1, 2, 3]))
    with pytest.raises(IndexError, match=r"nll_loss: Target -1 is out of bounds"):
        nn.NLLLoss()(F.log_softmax(logits, 1), ember.tensor([0, -1, 2, 1]))


def test_batchnorm_training_on_one_value_per_channel_names_the_layer() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    with pytest.raises(ValueError, match=r"^1 \(BatchNorm1d\): Expected more than 1 value per "
                                         r"channel when training, got input size \[1, 4\].*"
                                         r"drop_last=True.*model.eval\(\)"):
        model(ember.randn(1, 3))
    model.eval()
    assert model(ember.randn(1, 3)).shape == (1, 4)


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.huber_loss, F.smooth_l1_loss])
def test_regression_targets_that_would_broadcast_are_an_error(loss) -> None:
    prediction = ember.randn(8, 1, requires_grad=True)
    with pytest.raises(ValueError, match=r"the target \(8\) and the input \(8x1\) have different "
                                         r"shapes that broadcast to \(8x8\).*target.unsqueeze"):
        loss(prediction, ember.randn(8))
    assert loss(prediction, ember.randn(8, 1)).shape == ()
    with ember.doctor.silence("target_shape"):
        with pytest.warns(UserWarning, match="different to the input size"):
            loss(prediction, ember.randn(8))  # torch's warning


def test_broadcasting_a_target_into_the_input_shape_keeps_torchs_warning() -> None:
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(ember.randn(8, 3), ember.zeros(3))  # (3,) against (8, 3): one per column
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(ember.zeros(()), ember.randn(5))  # a scalar estimate against data


def test_hot_paths_cost_nothing_when_the_doctor_is_off() -> None:
    from ember.doctor.flags import flags

    with doctor():
        ember.doctor.disable()
        assert not (flags.inference or flags.optimizer or flags.cuts or flags.loss_input
                    or flags.target_shape or flags.scheduler or flags.backward)
        assert flags.watched_grads == {}


def test_ember_doctor_on_the_demo_finds_each_bug_where_it_is() -> None:
    demo = ROOT / "examples" / "doctor_demo.py"
    result = _run("-m", "ember", "doctor", str(demo))
    assert result.returncode == 0, result.stderr
    lines = [source.strip() for source in demo.read_text().splitlines()]

    def nth(text: str, n: int = 1) -> int:
        """The line number of the n-th line that starts with `text`."""
        return [i for i, source in enumerate(lines, 1) if source.startswith(text)][n - 1]

    step = "optimizer.step()"  # in source order: eval, encoder, nll, log, lr
    expected = [
        ("scheduler_order", nth("scheduler.step()")),
        ("missing_zero_grad", nth(step, 1)),
        ("train_mode_inference", nth("accuracy = (model(x)")),
        ("loss_input", nth("loss = F.cross_entropy(head(features)")),
        ("cut_graph", nth(step, 2)),
        ("loss_input", nth("loss = F.nll_loss(")),
        ("grad_norm", nth(step, 5)),
        ("nonfinite", nth("loss = -probs.log()")),
    ]
    found = [(m.group(1), int(m.group(2))) for m in
             re.finditer(r"\d+\. \[(\w+)\] doctor_demo\.py:(\d+)", result.stderr)]
    assert found == expected
    assert "did: 0.weight, 0.bias." in result.stderr  # the encoder's parameters, by name
    fixed = _run("-m", "ember", "doctor", str(demo), "--fixed")
    assert "ember doctor doctor_demo.py: no problems found" in fixed.stderr
