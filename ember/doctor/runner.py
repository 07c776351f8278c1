"""`ember doctor script.py [args]`: run a training script with every check on, then report."""

from __future__ import annotations

import os
import runpy
import sys
import traceback
import warnings

from . import config
from .reporting import report


def run_script(path: str, args: list[str]) -> int:
    """Run `path` as `__main__` with `sys.argv = [path, *args]` and every check on; print the
    report to stderr at the end (also after an error). Returns the script's exit status."""
    if not os.path.isfile(path):
        print(f"ember doctor: no such script: {path}", file=sys.stderr)
        return 2
    config.reset()
    config.enable("all")
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    status = 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", config.DoctorWarning)  # the doctor dedupes itself
            runpy.run_path(path, run_name="__main__")
    except SystemExit as exit_:
        code = exit_.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 (the script's own error: show it, then the report)
        traceback.print_exc()
        status = 1
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        sys.stdout.flush()
        print("\n" + report(os.path.basename(path)), file=sys.stderr, flush=True)
    return status
