"""The architecture's promises, checked: one-way imports, TensorFlow behind one seam, pages/ holding
only pages, and a loud failure if the Streamlit internals the app patches ever move."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    """The top-level names of every module `path` imports, at any depth of the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def python_files(folder: str) -> list[Path]:
    return sorted((PROJECT_ROOT / folder).glob("*.py"))


def test_the_arrows_point_one_way_pages_to_ui_to_the_engine():
    for path in python_files("mnist_core"):
        assert not imported_modules(path) & {"streamlit", "ui", "pages"}, f"{path.name}: the engine must work without a browser"
    for path in python_files("ui"):
        assert not imported_modules(path) & {"tensorflow", "keras", "pages"}, f"ui/{path.name}: no TF maths, no page imports"
    for path in [*python_files("pages"), PROJECT_ROOT / "dashboard.py"]:
        assert not imported_modules(path) & {"tensorflow", "keras", "pages"}, f"{path.name}: pages go through ui and mnist_core"


def engine_imports(path: Path) -> set[str]:
    """The mnist_core modules `path` (a module of mnist_core) imports, lazy imports inside functions
    included: `from .runs import x`, `from . import exports`, `import mnist_core.models`."""
    engine = {module.stem for module in python_files("mnist_core")}
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (node.module or "").startswith("mnist_core")):
            module = (node.module or "").removeprefix("mnist_core").lstrip(".").split(".")[0]
            names.update([module] if module else [alias.name for alias in node.names])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[1] for alias in node.names if alias.name.startswith("mnist_core."))
    return (names & engine) - {path.stem, "__init__"}


def test_no_engine_module_imports_one_that_imports_it_back():
    """exports.py imported runs.py, and runs.py imported exports.py back (lazily, inside
    RunRecorder.finish): a circle that a lazy import hides until someone moves it to the top."""
    graph = {path.stem: engine_imports(path) for path in python_files("mnist_core") if path.stem != "__init__"}
    circles = set()

    def visit(module: str, trail: list[str]) -> None:
        for imported in graph.get(module, ()):
            if imported in trail:
                circle = trail[trail.index(imported):]
                first = circle.index(min(circle))
                circles.add(" -> ".join(circle[first:] + circle[:first] + [min(circle)]))
            elif len(trail) < len(graph):
                visit(imported, trail + [imported])

    for module in graph:
        visit(module, [module])
    assert not circles, sorted(circles)


def test_tensorflow_is_imported_in_one_place_only():
    importers = [path.name for path in python_files("mnist_core") if imported_modules(path) & {"tensorflow", "keras"}]
    assert importers == ["quiet_tensorflow.py"]


def test_pages_holds_exactly_the_pages_the_navigation_lists():
    """Streamlit's legacy mode lists every file in pages/ as a page until dashboard.py has run once."""
    listed = set(re.findall(r'st\.Page\("pages/(\w+\.py)"', (PROJECT_ROOT / "dashboard.py").read_text()))
    assert {path.name for path in python_files("pages")} == listed


def test_the_engine_parts_that_do_not_train_import_without_tensorflow():
    code = ("import sys\n"
            "import mnist_core, mnist_core.data, mnist_core.config, mnist_core.results, mnist_core.runs, mnist_core.jobs, mnist_core.fair_share,"
            " mnist_core.canvas, mnist_core.cli\n"
            "from mnist_core import TrainConfig, RunStatus, load_mnist, split_dataset\n"
            "print(sorted(name for name in ('tensorflow', 'keras') if name in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.stdout.strip() == "[]", completed.stderr


def test_a_name_that_needs_tensorflow_loads_it_on_first_use():
    import mnist_core

    assert callable(mnist_core.train) and callable(mnist_core.build_model)
    with pytest.raises(AttributeError):
        mnist_core.no_such_name  # noqa: B018


def test_the_streamlit_function_the_app_patches_still_exists():
    """If a Streamlit upgrade renames it, this fails here first (and the app refuses to start, see below)."""
    from streamlit.runtime.scriptrunner import script_runner

    from ui.streamlit_patch import PATCHED_FUNCTION

    assert callable(getattr(script_runner, PATCHED_FUNCTION, None))


def test_the_patch_fails_loudly_when_streamlit_no_longer_has_the_function(monkeypatch):
    from streamlit.runtime.scriptrunner import script_runner

    from ui.streamlit_patch import PATCHED_FUNCTION, StreamlitPatchError, stop_streamlit_clearing_keras

    monkeypatch.delattr(script_runner, PATCHED_FUNCTION)
    with pytest.raises(StreamlitPatchError, match="requirements.txt"):
        stop_streamlit_clearing_keras()


def test_the_quiet_import_keeps_tensorflows_start_up_notes_off_the_terminal():
    completed = subprocess.run([sys.executable, "-c", "import mnist_core.quiet_tensorflow"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True, timeout=120, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "0"})
    assert completed.returncode == 0 and completed.stderr == ""
