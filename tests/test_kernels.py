"""Which kernel library TensorFlow computes with (mnist_core/kernels.py): chosen per machine before TensorFlow
starts, unless the server's own TF_ENABLE_ONEDNN_OPTS says otherwise, and what TensorFlow then really uses."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnist_core.kernels import EIGEN, ONEDNN, ONEDNN_SWITCH, choose_kernel_library

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("flags, library", [
    ({"sse4_2", "avx", "avx2", "fma"}, ONEDNN),             # AVX2 alone: TensorFlow would keep Eigen, MNIST Lab turns oneDNN on
    ({"avx2", "fma", "avx512f", "avx512_vnni"}, ONEDNN),    # where TensorFlow turns it on by itself
    ({"avx2", "fma", "avx_vnni"}, ONEDNN),
    ({"sse4_2", "avx"}, EIGEN),                              # no AVX2: never measured, TensorFlow's own choice
    (set(), EIGEN),                                          # no /proc/cpuinfo
])
def test_the_library_is_chosen_from_the_processor(monkeypatch, flags, library):
    monkeypatch.delenv(ONEDNN_SWITCH, raising=False)
    monkeypatch.setattr("mnist_core.kernels.cpu_flags", lambda: frozenset(flags))
    assert choose_kernel_library() == library


@pytest.mark.parametrize("switch, library", [("0", EIGEN), ("1", ONEDNN)])
def test_the_servers_own_switch_wins(monkeypatch, switch, library):
    monkeypatch.setenv(ONEDNN_SWITCH, switch)
    monkeypatch.setattr("mnist_core.kernels.cpu_flags", lambda: frozenset({"avx2", "fma", "avx512_vnni"}))
    assert choose_kernel_library() == library


def library_of_a_fresh_process(switch: str | None) -> tuple[str, bool]:
    """(what kernels.py chose, whether TensorFlow says it uses oneDNN) in a new process started with `switch`."""
    environment = {name: value for name, value in os.environ.items() if name != ONEDNN_SWITCH}
    if switch is not None:
        environment[ONEDNN_SWITCH] = switch
    program = ("from mnist_core.quiet_tensorflow import onednn_enabled\n"
               "from mnist_core.kernels import choose_kernel_library\n"
               "print(choose_kernel_library(), onednn_enabled())")
    output = subprocess.run([sys.executable, "-c", program], cwd=ROOT, env=environment, capture_output=True, text=True,
                            check=True).stdout.split()
    return output[-2], output[-1] == "True"


def test_tensorflow_computes_with_the_library_chosen():
    chosen, onednn = library_of_a_fresh_process(None)
    assert onednn == (chosen == ONEDNN)
    assert library_of_a_fresh_process("0") == (EIGEN, False)
    assert library_of_a_fresh_process("1") == (ONEDNN, True)


def test_this_test_process_computes_with_the_library_chosen():
    from mnist_core.quiet_tensorflow import onednn_enabled  # TensorFlow started, as the app starts it

    assert onednn_enabled() == (choose_kernel_library() == ONEDNN)


def test_a_switch_tensorflow_cannot_read_is_logged_and_replaced(monkeypatch, caplog):
    from mnist_core.kernels import prefer_onednn

    monkeypatch.setattr("mnist_core.kernels.cpu_flags", lambda: frozenset({"avx2", "fma"}))
    monkeypatch.setenv(ONEDNN_SWITCH, "yes please")
    assert choose_kernel_library() == ONEDNN  # chosen per machine
    prefer_onednn()
    assert os.environ[ONEDNN_SWITCH] == "1"
    assert "TF_ENABLE_ONEDNN_OPTS='yes please' is not 0 or 1: the kernels are chosen per machine instead" in caplog.text
    monkeypatch.setenv(ONEDNN_SWITCH, "False")  # a value TensorFlow reads (in any case) is the server's own choice: kept
    prefer_onednn()
    assert os.environ[ONEDNN_SWITCH] == "False" and choose_kernel_library() == EIGEN
