"""TensorFlow and Keras, imported once, quietly. Every engine module that needs them imports them from here.

TensorFlow's C++ start-up prints a screenful of notes on stderr (no CUDA driver, oneDNN, CPU flags)
that alarm students and bury real messages. TF_CPP_MIN_LOG_LEVEL set from Python does not catch
them all, so stderr is silenced while TensorFlow loads and probes for devices. Python exceptions
still propagate normally.

This is the engine's one door to TensorFlow: the data, runs, canvas and CLI modules never pass
through it, so they start in a fraction of a second.
"""

import contextlib
import os
import sys

from .kernels import prefer_onednn


@contextlib.contextmanager
def stderr_silenced():
    """Send the process's stderr (file descriptor 2, where C++ logs go) to /dev/null for a moment."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
prefer_onednn()  # read once, when TensorFlow starts (kernels.py)
with stderr_silenced():
    import keras
    import tensorflow as tf

    tf.config.list_physical_devices()


def onednn_enabled() -> bool:
    """Whether this process's TensorFlow computes with oneDNN (TensorFlow's own answer; kernels.py chose)."""
    from tensorflow.python.util import _pywrap_util_port

    return bool(_pywrap_util_port.IsMklEnabled())


__all__ = ["keras", "onednn_enabled", "tf"]
