"""The crash harness tells a clean exit, a documented exception and a killed child apart."""

from __future__ import annotations

import pytest

from reliability.harness import assert_no_crash, run_isolated


def test_clean_exit_and_exception_types():
    assert run_isolated("print('hello')").kind == "ok"
    out = run_isolated("raise ValueError('tau_mem = -1 s')")
    assert out.kind == "error:ValueError" and out.message == "tau_mem = -1 s"
    assert_no_crash(out, allowed=("ValueError",))
    with pytest.raises(AssertionError):
        assert_no_crash(out, allowed=("KeyError",))


def test_signal_is_a_crash():
    out = run_isolated("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)")
    assert out.crashed and out.kind == "crash:SIGSEGV"
    with pytest.raises(AssertionError, match="SIGSEGV"):
        assert_no_crash(out, allowed=("ValueError",))


def test_timeout_is_a_crash():
    out = run_isolated("import time\ntime.sleep(30)", timeout=2)
    assert out.kind == "timeout" and out.crashed
