"""The training doctor's detections: each buggy script triggers exactly its warning, at the
right line, saying what, where, why and the fix; each fixed script triggers nothing.

The scripts are in doctor_cases.py. Every check is on while they run (`enable("all")`), so
"exactly" also means that no other check fires.
"""

from __future__ import annotations

import doctor_cases as cases
import pytest
from doctor_cases import CASES, data, doctor, found, line_of, mlp, train

import ember
import ember.nn as nn
import ember.nn.functional as F

BUGS = [(check, i) for check, fns in CASES.items() for i in range(len(fns))]


@pytest.mark.parametrize("check,index", BUGS, ids=[f"{c}-{i}" for c, i in BUGS])
def test_the_buggy_script_triggers_exactly_its_warning(check: str, index: int) -> None:
    findings = found(CASES[check][index], False)
    assert [f.check for f in findings] == [check]
    message = findings[0].message
    assert "Why it matters:" in message and "Fix:" in message


@pytest.mark.parametrize("check,index", BUGS, ids=[f"{c}-{i}" for c, i in BUGS])
def test_the_fixed_script_triggers_nothing(check: str, index: int) -> None:
    assert found(CASES[check][index], True) == []


def test_findings_point_at_the_users_line() -> None:
    expected = {
        cases.forgot_eval: "CASE-EVAL",
        cases.forgot_zero_grad: "CASE-ZERO-GRAD",
        cases.cut_graph: "CASE-CUT",
        cases.softmax_into_cross_entropy: "CASE-CE",
        cases.nan_from_log: "CASE-NAN",
        cases.scheduler_first: "CASE-SCHED",
    }
    for case, marker in expected.items():
        (finding,) = found(case, False)
        assert finding.filename == cases.__file__
        assert finding.lineno == line_of(marker), case.__name__


# ----------------------------------------------------------------------- what the messages say
def test_train_mode_message_names_the_active_layers() -> None:
    (finding,) = found(cases.forgot_eval, False)
    assert "called under no_grad() while in training mode" in finding.message
    assert "1 (BatchNorm1d)" in finding.message and "3 (Dropout, p=0.3)" in finding.message
    assert "model.eval()" in finding.message


def test_zero_grad_message_names_parameters_and_the_backward() -> None:
    (finding,) = found(cases.forgot_zero_grad, False)
    assert "0.weight, 0.bias, 2.weight, 2.bias" in finding.message
    assert "loss.backward()" in finding.message and "zero_grad()" in finding.message


@pytest.mark.parametrize("cut,marker,how", [
    ("detach", "CUT-DETACH", ".detach()"),
    ("numpy", "CUT-NUMPY", ".detach()"),
    ("tensor", "CUT-TENSOR", "ember.tensor(t)"),
    ("item", "CUT-ITEM", ".item()"),
    ("no_grad", "CUT-NO-GRAD", "no_grad() block"),
])
def test_cut_graph_message_names_the_parameters_and_the_cut(cut: str, marker: str,
                                                             how: str) -> None:
    (finding,) = found(lambda fix: cases.cut_graph(fix, cut), False)
    names = "gate.weight, gate.bias" if cut == "item" else "encoder.0.weight, encoder.0.bias"
    assert f"got no gradient while the other 4 in this optimizer did: {names}" in finding.message
    assert f"{how}" in finding.message
    assert f"doctor_cases.py:{line_of(marker)}" in finding.message


def test_cut_graph_when_no_parameter_gets_a_gradient() -> None:
    (finding,) = found(cases.cut_whole_loss, False)
    assert "none of the 4 parameters" in finding.message
    assert f".item() (a round trip through a Python number) at doctor_cases.py:" \
           f"{line_of('CUT-LOSS-ITEM')}" in finding.message


@pytest.mark.parametrize("index,says", [
    (0, "cross_entropy (CrossEntropyLoss) received the output of softmax"),
    (1, "binary_cross_entropy_with_logits (BCEWithLogitsLoss) received the output of sigmoid"),
    (2, "nll_loss (NLLLoss) received the output of a linear layer (raw scores)"),
    (3, "nll_loss (NLLLoss) received the output of softmax"),
])
def test_loss_input_messages(index: int, says: str) -> None:
    (finding,) = found(CASES["loss_input"][index], False)
    assert finding.message.startswith(says)


def test_nonfinite_names_the_op_and_its_call_site() -> None:
    (finding,) = found(cases.nan_from_log, False)
    assert finding.message.startswith("the first NaN/inf appeared in the forward pass: Log "
                                      "produced nan values in its output, from inputs without "
                                      f"nan, called at doctor_cases.py:{line_of('CASE-NAN')}")


def _sqrt_at_zero(fix: bool) -> None:
    w = ember.full((3,), 1.0 if fix else 0.0, requires_grad=True)
    opt = ember.optim.SGD([w], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        loss = (w.sqrt() + w).sum()  # CASE-SQRT: d sqrt(w)/dw is inf at 0
        loss.backward()
        opt.step()


def test_nonfinite_in_the_backward_pass_names_the_forward_call() -> None:
    (finding,) = found(_sqrt_at_zero, False)  # the inf gradients are not reported again
    assert finding.check == "nonfinite"
    assert "backward pass: Function 'SqrtBackward0' returned inf values" in finding.message
    assert f"forward pass was called at test_doctor.py:{line_of('CASE-SQRT', __file__)}" \
        in finding.message
    assert found(_sqrt_at_zero, True) == []


def test_grad_norm_messages() -> None:
    (explosion,) = found(cases.exploding_gradients, False)
    assert "gradient norm explosion" in explosion.message and "0.weight (x" in explosion.message
    (vanishing,) = found(cases.vanishing_gradients, False)
    assert "vanishing gradients" in vanishing.message and "0.weight" in vanishing.message


def test_loss_trend_hints_at_the_learning_rate() -> None:
    (finding,) = found(cases.rising_loss, False)
    assert "rising steadily" in finding.message and "SGD lr=" in finding.message


def test_loss_turning_nan_soon_after_start() -> None:
    # with the nonfinite check on, the first NaN op is the finding; alone, loss_trend says it
    assert [f.check for f in found(cases.nan_from_log, False, "loss_trend")] == ["loss_trend"]
    (finding,) = found(cases.nan_from_log, False, "loss_trend")
    assert "the loss became nan" in finding.message and "Adam lr=0.01" in finding.message


def test_dead_relu_message() -> None:
    (finding,) = found(cases.dead_relus, False)
    assert finding.message.startswith("1 (ReLU): 32 of 32 units (100%) were never active")


def test_scheduler_message() -> None:
    (finding,) = found(cases.scheduler_first, False)
    assert "StepLR.step() was called before the first SGD.step()" in finding.message


def test_a_finding_is_warned_once_per_call_site() -> None:
    with doctor() as caught:
        for _ in range(3):
            cases.forgot_eval(False)  # 4 batches each time, from one line
    assert len(caught) == 1
    (finding,) = ember.doctor.findings()
    assert finding.count == 12


# ----------------------------------------------------------------------- no false alarms (1)
def _trained(**kwargs) -> nn.Module:
    ember.manual_seed(0)
    x, y = data()
    model = mlp(**kwargs)
    train(model, x, y)
    return model


def test_batchnorm_recalibration_is_not_flagged() -> None:
    x, _ = data()
    with doctor() as caught:
        model = _trained(batchnorm=True)  # no dropout: BatchNorm only
        # torch.optim.swa_utils.update_bn: reset the statistics, momentum=None, train mode
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.reset_running_stats()
                m.momentum = None
        model.train()
        with ember.no_grad():
            for i in range(0, 64, 16):
                model(x[i:i + 16])
        # the same with the default momentum: reset, then only no_grad passes
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.momentum = 0.1
                m.reset_running_stats()
        with ember.no_grad():
            for i in range(0, 64, 16):
                model(x[i:i + 16])
    assert caught == []


def test_cumulative_batchnorm_statistics_under_no_grad_are_not_flagged() -> None:
    x, _ = data()
    with doctor() as caught:
        model = _trained(batchnorm=True)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.momentum = None  # a cumulative average of every batch from here on
        with ember.no_grad():
            for i in range(0, 64, 16):
                model(x[i:i + 16])
    assert caught == []


def test_forgetting_eval_after_a_recalibration_is_flagged() -> None:
    x, y = data()
    with doctor():
        model = _trained(batchnorm=True)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d):
                m.reset_running_stats()
        with ember.no_grad():
            model(x[:16])  # recalibrating: fine
        train(model, x, y)  # training moves the statistics on
        with ember.no_grad():
            model(x[:16])  # evaluating in train mode again
    assert [f.check for f in ember.doctor.findings()] == ["train_mode_inference"]


def test_dropout_off_and_models_without_such_layers_are_not_flagged() -> None:
    x, _ = data()
    with doctor() as caught:
        for model in (_trained(), _trained(dropout=0.0), nn.Dropout(0.0)):
            with ember.no_grad():
                model(x if not isinstance(model, nn.Dropout) else x)
    assert caught == []


class _Net(nn.Module):
    """A user's model: its forward calls its blocks itself."""

    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.5))
        self.fc = nn.Linear(16, 3)

    def forward(self, x):
        return self.fc(self.block(x))


@pytest.mark.parametrize("make", [lambda: _trained(dropout=0.5), _Net],
                         ids=["Sequential", "own-module"])
def test_monte_carlo_dropout_by_switching_dropout_back_on_is_not_flagged(make) -> None:
    x, _ = data()
    with doctor() as caught:
        model = make()
        model.eval()
        for m in model.modules():
            if isinstance(m, (nn.Dropout, nn.Sequential)) and m is not model:
                m.train()  # the dropout layers, or the block that holds them
        with ember.no_grad():
            samples = ember.stack([model(x) for _ in range(5)])
    assert caught == [] and samples.shape == (5, 64, 3)


def test_a_frozen_teacher_in_train_mode_is_not_flagged() -> None:
    x, y = data()
    with doctor() as caught:
        teacher = mlp(dropout=0.3).requires_grad_(False)  # Mean-Teacher style noisy targets
        student = mlp()
        opt = ember.optim.Adam(student.parameters())
        for _ in range(2):
            with ember.no_grad():
                target = F.softmax(teacher(x), dim=1)
            loss = F.cross_entropy(student(x), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
    assert caught == []


def test_ember_summary_in_train_mode_is_not_flagged() -> None:
    with doctor() as caught:
        ember.summary(mlp(dropout=0.5), (8,), batch_size=4, verbose=False)  # its own train mode
    assert caught == []


# ----------------------------------------------------------------------- no false alarms (2)
def test_deliberate_gradient_accumulation_with_clipping() -> None:
    x, y = data()
    with doctor() as caught:
        ember.manual_seed(0)
        model = mlp()
        opt = ember.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(2):
            for i, start in enumerate(range(0, 64, 8)):
                loss = F.cross_entropy(model(x[start:start + 8]), y[start:start + 8]) / 4
                loss.backward()
                if (i + 1) % 4 == 0:
                    ember.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
                    ember.nn.utils.clip_grad_value_(model.parameters(), 0.1)
                    opt.step()
                    opt.zero_grad()
    assert caught == []


@pytest.mark.parametrize("zeroing", ["set_to_none=False", "module", "grad.data.zero_()",
                                     "grad.zero_()", "grad = None"])
def test_every_way_of_zeroing_gradients(zeroing: str) -> None:
    x, y = data()
    with doctor() as caught:
        ember.manual_seed(0)
        model = mlp()
        opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for start in range(0, 64, 16):
            F.cross_entropy(model(x[start:start + 16]), y[start:start + 16]).backward()
            opt.step()
            if zeroing == "set_to_none=False":
                opt.zero_grad(set_to_none=False)
            elif zeroing == "module":
                model.zero_grad()
            else:
                for p in model.parameters():
                    if zeroing == "grad.data.zero_()":
                        p.grad.data.zero_()
                    elif zeroing == "grad.zero_()":
                        p.grad.zero_()
                    else:
                        p.grad = None
    assert caught == []


def test_zeroing_not_seen_by_the_version_counter_still_catches_the_bug() -> None:
    # the same loop with the zeroing left out is caught
    with doctor():
        cases.forgot_zero_grad(False)
    assert [f.check for f in ember.doctor.findings()] == ["missing_zero_grad"]


def test_a_branch_used_by_some_batches_only_is_not_a_cut() -> None:
    x, y = data()

    class Routed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = nn.Linear(8, 3), nn.Linear(8, 3)

        def forward(self, x, route):
            return self.a(x) if route else self.b(x)

    with doctor() as caught:
        model = Routed()
        opt = ember.optim.SGD(model.parameters(), lr=0.1)
        for step in range(8):
            opt.zero_grad()
            F.cross_entropy(model(x, step % 3 != 0), y).backward()  # b: every third step
            opt.step()
    assert caught == []


def test_a_parameter_unused_for_three_steps_is_reported() -> None:
    x, y = data()
    with doctor():
        model = nn.ModuleDict({"used": nn.Linear(8, 3), "unused": nn.Linear(8, 3)})
        opt = ember.optim.SGD(model.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            F.cross_entropy(model["used"](x), y).backward()
            opt.step()
    (finding,) = ember.doctor.findings()
    assert "unused.weight, unused.bias" in finding.message and "3 steps in a row" in finding.message


def test_a_cut_of_a_dead_tensor_is_not_blamed_on_a_new_one_at_its_address() -> None:
    x, y = data()
    with doctor() as caught:
        used = ember.zeros(8, 3, requires_grad=True)
        opt = ember.optim.SGD([used], lr=0.1)
        for _ in range(4):
            old = ember.zeros(3, requires_grad=True)
            old.detach()  # a cut on a tensor that then dies
            address = id(old)
            del old
            unused = ember.zeros(3, requires_grad=True)
            if id(unused) == address:
                break
        else:
            pytest.skip("the allocator did not reuse the address")
        opt.add_param_group({"params": [unused]})  # joins after the cut was logged
        opt.zero_grad()
        F.cross_entropy(x @ used, y).backward()
        opt.step()  # `unused` got no gradient, but nothing cut it off
    assert caught == []


def test_gradients_set_by_hand_are_not_judged() -> None:
    a, b = ember.zeros(2, requires_grad=True), ember.zeros(3, requires_grad=True)
    with doctor() as caught:
        (a * 2).sum().backward()  # some backward elsewhere
        opt = ember.optim.SGD([a, b], lr=0.1)
        for _ in range(4):
            a.grad = ember.ones(2)
            opt.step()
    assert caught == []


def test_loss_input_through_shape_ops_and_legitimate_log_probabilities() -> None:
    x, y = data()
    with doctor() as caught:
        model = mlp()
        logits = model(x)
        F.nll_loss(F.log_softmax(logits, 1), y)
        F.nll_loss(ember.log(F.softmax(logits, 1)), y)
        F.nll_loss(logits - logits.logsumexp(1, keepdim=True), y)
        F.cross_entropy(F.log_softmax(logits, 1), y)  # log_softmax is idempotent: harmless
        F.cross_entropy(F.softmax(logits, 1) / 0.5, y)  # a computation on top: not judged
        with ember.no_grad():
            F.cross_entropy(F.softmax(logits, 1), y)  # no graph: not judged
    assert caught == []
    with doctor():
        probs = F.softmax(model(x), 1)
        F.cross_entropy(probs.unsqueeze(2).reshape(64, 3).clone().float(), y)  # shape ops only
        F.cross_entropy(ember.exp(F.log_softmax(model(x), 1)), y)
        F.binary_cross_entropy_with_logits(ember.sigmoid(model(x))[:, :1], (y[:, None] > 0).float())
        F.nll_loss(model[0](x) @ ember.eye(16)[:, :3] + 1.0, y)
    assert [f.check for f in ember.doctor.findings()] == ["loss_input"] * 4


def test_a_schedule_stepped_without_an_optimizer_step_is_not_flagged() -> None:
    with doctor() as caught:
        opt = ember.optim.SGD([ember.zeros(1, requires_grad=True)], lr=0.1)
        sched = ember.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        lrs = []
        for _ in range(10):  # plotting the schedule
            lrs.append(sched.get_last_lr()[0])
            sched.step()
    assert caught == [] and lrs[0] == 0.1


def test_a_resumed_optimizer_may_step_its_scheduler_first() -> None:
    x, y = data()
    with doctor() as caught:
        model = mlp()
        opt = ember.optim.Adam(model.parameters())
        F.cross_entropy(model(x), y).backward()
        opt.step()
        state = opt.state_dict()
        resumed = ember.optim.Adam(model.parameters())
        resumed.load_state_dict(state)
        sched = ember.optim.lr_scheduler.StepLR(resumed, 1)
        sched.step()
        resumed.step()
    assert caught == []
