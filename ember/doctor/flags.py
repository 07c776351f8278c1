"""The switches Ember's hot paths read, and the calls they make when a switch is on.

This module imports nothing from Ember, so that the core (autograd nodes, Module, the
optimizers) can import it first. Each hook site costs one attribute read while its check is
off or nothing is suspicious:

    if _doctor.armed and self.training and not _grad_state.enabled: ...

`ember.doctor.config` sets the booleans whenever checks are switched on or off; the methods
import the check that handles the event on first use (by then Ember is fully loaded).
"""

from __future__ import annotations

import weakref
from typing import Any


class DoctorFlags:
    """One boolean per kind of hook site, true only while a check that needs it is on."""

    def __init__(self) -> None:
        self.inference = False  # Module.__call__ under no_grad in training mode (check 1)
        # check 1 is on and a no_grad block was entered (and not left): Module.__call__ then
        # looks at the grad mode and the module's mode (reading this costs less than those)
        self.armed = False
        self.no_grad_watch = False  # no_grad.__enter__ tells the doctor (checks 1 and 3)
        self.optimizer = False  # optimizer.step() / zero_grad() / gradient clipping (2, 3, 5, 6)
        self.cuts = False  # detach, .data, .item(), ember.tensor(t), ops under no_grad (3)
        self.loss_input = False  # what cross_entropy / BCE-with-logits / nll_loss receive (4)
        self.target_shape = False  # regression targets that would broadcast: an error
        self.scheduler = False  # scheduler.step() (6)
        self.backward = False  # every backward() call: the loss trend (5)
        # check 2: gradient tensors present at the last optimizer.step(), by id; the engine
        # looks a gradient up here before adding into it (empty when check 2 is off)
        self.watched_grads: dict = {}
        self.backward_calls = 0  # counted always: "did a backward run since the last step?"
        self.modules: weakref.WeakSet = weakref.WeakSet()  # every Module, to name parameters

    # -- calls from the hot paths (each imports its check lazily) --------------------------
    def no_grad_call(self, module: Any, args: tuple, kwargs: dict) -> Any:
        from .train_mode import no_grad_call  # noqa: PLC0415

        return no_grad_call(module, args, kwargs)

    def optimizer_created(self, optimizer: Any) -> None:
        from .stepping import on_created  # noqa: PLC0415

        on_created(optimizer)

    def before_step(self, optimizer: Any) -> None:
        from .stepping import before_step  # noqa: PLC0415

        before_step(optimizer)

    def after_step(self, optimizer: Any) -> None:
        from .stepping import after_step  # noqa: PLC0415

        after_step(optimizer)

    def zero_grad(self, optimizer: Any, set_to_none: bool) -> None:
        from .stepping import after_zero_grad  # noqa: PLC0415

        after_zero_grad(optimizer, set_to_none)

    def stale_accumulate(self, existing: Any) -> None:
        from .zero_grad import on_accumulate  # noqa: PLC0415

        on_accumulate(existing)

    def grads_rescaled(self, grads: list) -> None:
        from .zero_grad import on_rescaled  # noqa: PLC0415

        on_rescaled(grads)

    def cut(self, kind: str, tensor: Any) -> None:
        from .cut_graph import note_cut  # noqa: PLC0415

        note_cut(kind, tensor)

    def no_grad_entered(self, context: Any) -> None:
        """A block that turns grad off was entered (`context.prev[-1]`: the mode before)."""
        if self.inference:
            self.armed = True
        if self.cuts and context.prev[-1]:
            from .cut_graph import no_grad_entered  # noqa: PLC0415

            no_grad_entered(context)

    def no_grad_use(self, args: tuple) -> None:
        from .cut_graph import note_no_grad_use  # noqa: PLC0415

        note_no_grad_use(args)

    def check_loss_input(self, loss: str, input: Any) -> None:
        from .loss_input import check_loss_input  # noqa: PLC0415

        check_loss_input(loss, input)

    def check_target_shape(self, loss: str, input: Any, target: Any) -> bool:
        from .loss_input import check_target_shape  # noqa: PLC0415

        return check_target_shape(loss, input, target)

    def scheduler_step(self, scheduler: Any) -> None:
        from .scheduler import on_scheduler_step  # noqa: PLC0415

        on_scheduler_step(scheduler)

    def on_backward(self, outputs: tuple) -> None:
        from .health import on_backward  # noqa: PLC0415

        on_backward(outputs)


flags = DoctorFlags()
