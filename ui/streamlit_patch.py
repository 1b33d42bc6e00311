"""A patch of Streamlit's internals that training in the background needs. Applied by dashboard.py.

It reaches into a private function, so a Streamlit upgrade could rename it. Then the app refuses to
start with a message that says what to check, rather than quietly training slower from the page:
`stop_streamlit_clearing_keras()` raises StreamlitPatchError, and tests/test_structure.py checks that
the installed Streamlit still has the function.
"""

from streamlit.runtime.scriptrunner import script_runner

PATCHED_FUNCTION = "_clean_problem_modules"


class StreamlitPatchError(RuntimeError):
    """The private Streamlit function this app patches is gone (an upgrade renamed or removed it)."""


def stop_streamlit_clearing_keras() -> None:
    """Stop Streamlit from calling keras.backend.clear_session() after every script run.

    Streamlit does that to free memory in apps that build a model per rerun. Here models train on
    background threads while the page reruns every second to show progress: each clear_session()
    resets Keras' global state under a running model and forces a full garbage collection, so a run
    trained from the page would be far slower than the same run from the CLI
    (benchmarks/page_vs_cli.py compares the two).
    """
    if not callable(getattr(script_runner, PATCHED_FUNCTION, None)):
        raise StreamlitPatchError(
            f"streamlit.runtime.scriptrunner.script_runner.{PATCHED_FUNCTION} no longer exists in this Streamlit version. "
            "MNIST Lab replaces it so that Streamlit does not reset Keras under a running training after every rerun. "
            "Install the Streamlit version pinned in requirements.txt, or find the function's new name and update ui/streamlit_patch.py.")
    setattr(script_runner, PATCHED_FUNCTION, lambda: None)
