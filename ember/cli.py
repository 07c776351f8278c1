"""The `ember` command line (also `python -m ember`)."""

from __future__ import annotations

import argparse
import sys
import time


def demo(args: argparse.Namespace) -> int:
    """Fit y = 3x^2 - 2x + 1 with a polynomial model trained by plain gradient descent."""
    import ember  # noqa: PLC0415

    ember.manual_seed(args.seed)
    x = ember.linspace(-1, 1, 200).unsqueeze(1)
    y = 3 * x**2 - 2 * x + 1 + 0.05 * ember.randn(200, 1)
    features = ember.cat([x**0, x, x**2], dim=1)  # (200, 3)
    w = ember.zeros(3, 1, requires_grad=True)
    start = time.perf_counter()
    for step in range(args.steps):
        loss = ((features @ w - y) ** 2).mean()
        loss.backward()
        with ember.no_grad():
            w -= args.lr * w.grad
            w.grad.zero_()
        if step % max(args.steps // 5, 1) == 0 or step == args.steps - 1:
            print(f"step {step:4d}  loss {loss.item():.5f}")
    took = time.perf_counter() - start
    c, b, a = (round(v, 3) for v in w.detach().reshape(-1).tolist())
    print(f"learned y = {a}x^2 + {b}x + {c}  (true: 3x^2 - 2x + 1) in {took:.2f}s")
    return 0


def train(args: argparse.Namespace) -> int:
    """Train an image classifier (an MLP on the bundled digits by default) or, on a text
    dataset, a language model."""
    from .training.language import LM_MODELS, TEXT_DATASETS  # noqa: PLC0415

    if args.dataset in TEXT_DATASETS or args.model in LM_MODELS:
        return _train_language_model(args)
    from .training import TrainConfig, run  # noqa: PLC0415

    values = _fields_of(TrainConfig, args)
    if args.weight_decay is None:
        values["weight_decay"] = 1e-2
    run(TrainConfig(**values))
    return 0


def _train_language_model(args: argparse.Namespace) -> int:
    from .training.language import LM_MODELS, TEXT_DATASETS, LMConfig, \
        run_language_model  # noqa: PLC0415

    if args.dataset not in TEXT_DATASETS:
        raise SystemExit(f"ember train: {args.model} is a language model; train it on text "
                         f"(--dataset {' or '.join(TEXT_DATASETS)})")
    if args.model not in LM_MODELS:
        raise SystemExit(f"ember train: {args.dataset} is text; pick a language model "
                         f"(--model {', '.join(LM_MODELS)})")
    if args.epochs is not None:
        raise SystemExit("ember train: language models train for a number of optimizer steps: "
                         "use --steps instead of --epochs")
    values = _fields_of(LMConfig, args)
    if args.weight_decay is None:
        values["weight_decay"] = 0.1
    run_language_model(LMConfig(**values))
    return 0


def _fields_of(config_class: type, args: argparse.Namespace) -> dict:
    """The command-line values that `config_class` (a dataclass) has fields for."""
    fields = set(config_class.__dataclass_fields__)
    values = {k: v for k, v in vars(args).items() if k in fields and v is not None}
    values["progress"] = not args.no_progress
    if args.max_grad_norm is not None and args.max_grad_norm <= 0:
        values["max_grad_norm"] = None
    return values


def _add_train_parser(sub: argparse._SubParsersAction) -> None:
    from .training import DATASETS, MODELS  # noqa: PLC0415
    from .training.language import LM_MODELS, TEXT_DATASETS  # noqa: PLC0415
    from .training.trainer import OPTIMIZERS, SCHEDULERS  # noqa: PLC0415

    p = sub.add_parser(
        "train", help="train a model (default: an MLP on the bundled digits, in seconds)",
        description="Train an image classifier with the canonical loop: AdamW, a cosine "
                    "schedule, gradient clipping, early stopping on the validation loss; "
                    "prints test accuracy and writes log.json and curves.png. On a text "
                    "dataset (--dataset shakespeare), train a character-level language model "
                    "for --steps steps, printing validation loss and samples as it goes.")
    models = {**{m.name: m.help for m in MODELS.values()},
              **{name: help for name, (_, help) in LM_MODELS.items()}}
    datasets = {**{d.name: d.help for d in DATASETS.values()},
                **{name: help for name, (_, help) in TEXT_DATASETS.items()}}
    p.add_argument("--model", default="mlp", choices=list(models),
                   help="; ".join(f"{name}: {help}" for name, help in models.items()))
    p.add_argument("--dataset", default="digits", choices=list(datasets),
                   help="; ".join(f"{name}: {help}" for name, help in datasets.items()))
    p.add_argument("--epochs", type=int, default=None, help="default: per dataset (images)")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: per dataset)")
    p.add_argument("--optimizer", default="adamw", choices=OPTIMIZERS, help="images")
    p.add_argument("--weight-decay", dest="weight_decay", type=float, default=None,
                   help="default 0.01 (images), 0.1 on matrices only (language models)")
    p.add_argument("--scheduler", default="cosine", choices=SCHEDULERS, help="images")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="save last.ckpt (every epoch or evaluation), best_model.ckpt and the "
                        "log here")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --checkpoint")
    p.add_argument("--patience", type=int, default=5,
                   help="early stopping: epochs without a better validation loss (0: off)")
    p.add_argument("--augment", action="store_true",
                   help="random crops and horizontal flips of the training images")
    p.add_argument("--val-fraction", dest="val_fraction", type=float, default=0.1)
    p.add_argument("--max-grad-norm", dest="max_grad_norm", type=float, default=1.0,
                   help="clip the gradient norm (0: no clipping)")
    p.add_argument("--num-workers", dest="num_workers", type=int, default=0)
    p.add_argument("--log-dir", dest="log_dir", default=None,
                   help="where log.json and curves.png go (default: the checkpoint dir, or "
                        "runs/MODEL-DATASET-TIME)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    text = p.add_argument_group("language models (text datasets)")
    text.add_argument("--steps", type=int, default=None, help="optimizer steps (default 2000)")
    text.add_argument("--block-size", dest="block_size", type=int, default=None,
                      help="context length in characters (default 64)")
    text.add_argument("--n-layer", dest="n_layer", type=int, default=None)
    text.add_argument("--n-head", dest="n_head", type=int, default=None, help="GPT heads (4)")
    text.add_argument("--n-embd", dest="n_embd", type=int, default=None,
                      help="GPT width (128) or RNN hidden size (256)")
    text.add_argument("--dropout", type=float, default=None)
    text.add_argument("--warmup-steps", dest="warmup_steps", type=int, default=None)
    text.add_argument("--eval-interval", dest="eval_interval", type=int, default=None,
                      help="evaluate, sample and save every N steps (default 250)")
    text.add_argument("--eval-iters", dest="eval_iters", type=int, default=None,
                      help="batches per loss estimate (default 20)")
    text.add_argument("--sample-length", dest="sample_length", type=int, default=None,
                      help="characters sampled at each evaluation (default 200; 0: none)")
    text.add_argument("--prompt", default=None, help="what samples start from (default: a "
                                                     "newline)")
    text.add_argument("--text-file", dest="text_file", default=None,
                      help="the text for --dataset text")
    text.add_argument("--byte-level", dest="byte_level", action="store_true",
                      help="bytes (256 symbols) instead of the text's characters")
    p.set_defaults(func=train)


def generate(args: argparse.Namespace) -> int:
    """Sample text from a language model trained by `ember train`."""
    from .serialization import CheckpointError  # noqa: PLC0415
    from .training.generate import generate as sample  # noqa: PLC0415

    try:
        texts = sample(args.checkpoint, args.prompt, args.max_new_tokens, args.temperature,
                       args.top_k, args.num_samples, args.seed, args.device)
    except (FileNotFoundError, CheckpointError, ValueError) as err:
        print(f"ember generate: {err}", file=sys.stderr)
        return 1
    for i, text in enumerate(texts):
        if i:
            print("-" * 40)
        print(text)
    return 0


def _add_generate_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate", help="sample text from a language model trained with `ember train`",
        description="Load a language-model checkpoint written by `ember train` (a .ckpt file, "
                    "or a run directory: its best_model.ckpt) and continue a prompt.")
    p.add_argument("checkpoint", metavar="CHECKPOINT")
    p.add_argument("--prompt", default="\n", help="the text to continue (default: a newline)")
    p.add_argument("--max-new-tokens", dest="max_new_tokens", type=int, default=500)
    p.add_argument("--temperature", type=float, default=0.8,
                   help="below 1 is safer, above 1 wilder; 0 always takes the likeliest")
    p.add_argument("--top-k", dest="top_k", type=int, default=None,
                   help="sample only among the k likeliest next characters")
    p.add_argument("--num-samples", dest="num_samples", type=int, default=1)
    p.add_argument("--seed", type=int, default=None, help="for repeatable samples")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=generate)


def summary(args: argparse.Namespace) -> int:
    """Print the summary table of a model from ember.models, built with its defaults."""
    from .summary import summary as summarize  # noqa: PLC0415
    from .summary.zoo import (default_input_dtypes, default_input_size,  # noqa: PLC0415
                              model_constructors)

    constructors = model_constructors()
    if args.model not in constructors:
        print(f"ember summary: unknown model {args.model!r}; ember.models has: "
              f"{', '.join(constructors)}", file=sys.stderr)
        return 2
    build = constructors[args.model]
    size = tuple(args.input_size or default_input_size(args.model, build))
    try:
        summarize(build().eval(), size, batch_size=args.batch_size, depth=args.depth,
                  dtypes=default_input_dtypes(args.model, build))
    except (RuntimeError, ValueError) as err:  # a bad input size: say which layer, no traceback
        notes = "".join(f"\n{note}" for note in getattr(err, "__notes__", []))
        print(f"ember summary {args.model} (input {list(size)}): {err}{notes}", file=sys.stderr)
        return 1
    return 0


def _add_summary_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "summary", help="a model's layers, output shapes, parameters, MACs, receptive fields",
        description="Build a model from ember.models, run one forward pass in eval mode and "
                    "print a table of its layers (output shape, parameters, multiply-"
                    "accumulates, receptive field and jump) with totals and memory.")
    p.add_argument("model", metavar="MODEL",
                   help="a constructor in ember.models, e.g. lenet5, mlp, resnet18, resnet20, "
                        "efficientnet_b0 (an unknown name lists them all)")
    p.add_argument("--input-size", dest="input_size", type=int, nargs="+", metavar="N",
                   help="one input's shape without the batch dim, e.g. 3 224 224 (default: "
                        "1 28 28 for lenet5 and mlp, 3 32 32 for the CIFAR ResNets, the "
                        "paper's resolution for EfficientNet, else 3 224 224)")
    p.add_argument("--batch-size", dest="batch_size", type=int, default=1)
    p.add_argument("--depth", type=int, default=3,
                   help="nesting depth to show; deeper layers fold into their parent's row")
    p.set_defaults(func=summary)


def doctor(args: argparse.Namespace) -> int:
    """Run a training script with every check of the training doctor on, then report."""
    from .doctor import run_script  # noqa: PLC0415

    return run_script(args.script, args.args)


def _add_doctor_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor", help="run a training script with every training-doctor check on",
        description="Run SCRIPT (as `python SCRIPT ARGS...` would) with every check of "
                    "ember.doctor on, including the heavier ones (NaN/inf origin, gradient "
                    "norms, loss trend, dead ReLUs), and print a short report of what it "
                    "found at the end.")
    p.add_argument("script", metavar="SCRIPT", help="the Python training script to run")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS",
                   help="arguments passed on to the script")
    p.set_defaults(func=doctor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ember", description="Ember deep-learning framework")
    sub = parser.add_subparsers(dest="command")
    _add_train_parser(sub)
    _add_summary_parser(sub)
    _add_generate_parser(sub)
    _add_doctor_parser(sub)
    p_demo = sub.add_parser("demo", help="fit a small model with autograd (a quick check)")
    p_demo.add_argument("--steps", type=int, default=500)
    p_demo.add_argument("--lr", type=float, default=0.5)
    p_demo.add_argument("--seed", type=int, default=0)
    p_demo.set_defaults(func=demo)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
