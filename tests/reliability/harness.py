"""The "no segfault" harness: run crash-prone code in a child interpreter and classify the outcome.

A segfault, an abort or memory corruption inside a numba kernel or a C extension (h5py, the Rust AEDAT
decoder) kills the process that runs it, so pytest cannot catch it in-process.  These helpers run a
snippet in a fresh ``python -c`` child and report how it ended:

* ``"ok"``: exit code 0;
* ``"error:<ExceptionType>"``: the snippet raised (the child prints the type on its last stderr line);
* ``"crash:<signal>"``: the child was killed by a signal (SIGSEGV, SIGABRT, SIGBUS, ...);
* ``"timeout"``: it ran past ``timeout`` seconds.

Tests assert that every outcome is ``ok`` or one of the documented exception types, never a crash.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap

__all__ = ["Outcome", "run_isolated", "assert_no_crash", "fuzz_examples"]

_PRELUDE = """
import sys, traceback
try:
{body}
except BaseException as _exc:  # noqa: BLE001 - report any exception by type
    traceback.print_exc()
    sys.stderr.write("\\n@@EXC@@" + type(_exc).__name__ + "@@" + str(_exc).replace("\\n", " ")[:500] + "\\n")
    sys.exit(3)
"""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How a child run ended (see the module docstring), with its captured output."""

    kind: str
    exc_type: str | None
    message: str
    returncode: int | None
    stdout: str
    stderr: str

    @property
    def crashed(self) -> bool:
        return self.kind.startswith("crash") or self.kind == "timeout"


def run_isolated(code: str, timeout: float = 120.0, env: dict | None = None) -> Outcome:
    """Run ``code`` (a Python snippet) in a fresh interpreter and classify how it ended."""
    body = textwrap.indent(textwrap.dedent(code), "    ")
    child_env = dict(os.environ)
    child_env.setdefault("PYTHONFAULTHANDLER", "1")
    if env:
        child_env.update(env)
    try:
        proc = subprocess.run([sys.executable, "-c", _PRELUDE.format(body=body)], capture_output=True, text=True,
                              timeout=timeout, env=child_env)
    except subprocess.TimeoutExpired as exc:
        return Outcome("timeout", None, "", None, str(exc.stdout or ""), str(exc.stderr or ""))
    rc = proc.returncode
    if rc == 0:
        return Outcome("ok", None, "", rc, proc.stdout, proc.stderr)
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:  # pragma: no cover - unknown signal number
            name = str(-rc)
        return Outcome(f"crash:{name}", None, "", rc, proc.stdout, proc.stderr)
    marker = [line for line in proc.stderr.splitlines() if line.startswith("@@EXC@@")]
    if rc == 3 and marker:
        _, exc_type, message = marker[-1].split("@@", 3)[1:4] if marker[-1].count("@@") >= 3 else ("", "?", "")
        return Outcome(f"error:{exc_type}", exc_type, message, rc, proc.stdout, proc.stderr)
    return Outcome(f"exit:{rc}", None, "", rc, proc.stdout, proc.stderr)


def assert_no_crash(outcome: Outcome, allowed: tuple[str, ...] = ()) -> None:
    """Fail unless the child exited cleanly or raised one of the ``allowed`` exception type names."""
    if outcome.kind == "ok":
        return
    if outcome.exc_type is not None and outcome.exc_type in allowed:
        return
    raise AssertionError(f"child ended as {outcome.kind} (allowed: ok or {allowed}); stderr tail:\n"
                         + outcome.stderr[-3000:])


def fuzz_examples(ci: int) -> int:
    """Hypothesis example budget for a fuzzer: ``ci`` in the test suite, 40x that under ``make fuzz``.

    ``make fuzz`` sets ``HYPOTHESIS_PROFILE=fuzz``; the budget can also be set directly with
    ``MEMR_SNN_FUZZ_SCALE`` (a multiplier).
    """
    scale = os.environ.get("MEMR_SNN_FUZZ_SCALE")
    if scale is None:
        scale = "40" if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else "1"
    return max(1, int(float(scale) * ci))
