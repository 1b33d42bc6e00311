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
    """Every module in `folder`, those of its packages (mnist_core/runs/) included."""
    return sorted((PROJECT_ROOT / folder).rglob("*.py"))


def test_the_arrows_point_one_way_pages_to_ui_to_the_engine():
    for path in python_files("mnist_core"):
        assert not imported_modules(path) & {"streamlit", "ui", "pages"}, f"{path.name}: the engine must work without a browser"
    for path in python_files("ui"):
        assert not imported_modules(path) & {"tensorflow", "keras", "pages"}, f"ui/{path.name}: no TF maths, no page imports"
    for path in [*python_files("pages"), PROJECT_ROOT / "dashboard.py"]:
        assert not imported_modules(path) & {"tensorflow", "keras", "pages"}, f"{path.name}: pages go through ui and mnist_core"


def engine_module(path: Path) -> str:
    """The module's name inside mnist_core: "exports", "runs.writer", "runs" for runs/__init__.py."""
    parts = path.relative_to(PROJECT_ROOT / "mnist_core").with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def engine_imports(path: Path) -> set[str]:
    """The mnist_core modules `path` (a module of mnist_core) imports, lazy imports inside functions
    included: `from .runs import x`, `from . import exports`, `from ..results import x` in a package,
    `import mnist_core.models`. Importing a package's module imports the package too (Python runs its
    __init__ first), unless the importer is inside that package already."""
    module = engine_module(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    engine = {engine_module(other) for other in python_files("mnist_core")}
    imported = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = ".".join([*package[:len(package) - node.level + 1], *([node.module] if node.module else [])])
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mnist_core"):
            base = node.module.removeprefix("mnist_core").lstrip(".")
        elif isinstance(node, ast.Import):
            imported.update(alias.name.removeprefix("mnist_core.") for alias in node.names if alias.name.startswith("mnist_core."))
            continue
        else:
            continue
        imported.add(base)
        imported.update(f"{base}.{alias.name}".lstrip(".") for alias in node.names)  # `from . import exports`: a module
    with_packages = {".".join(name.split(".")[:depth]) for name in imported for depth in range(1, name.count(".") + 2)}
    own_packages = {".".join(package[:depth]) for depth in range(1, len(package) + 1)}
    return (with_packages & engine) - own_packages - {module, ""}


def test_no_engine_module_imports_one_that_imports_it_back():
    """A circle of imports works only while one side's import hides inside a function (the run store's
    writer importing exports.py, say, while exports.py imports the store): the day someone moves it to
    the top, the app fails to import."""
    graph = {engine_module(path): engine_imports(path) for path in python_files("mnist_core") if engine_module(path)}
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


def test_every_relative_import_in_the_engine_names_a_module_that_exists():
    """A module inside a package (runs/) reaches the engine's other modules with `..`: a lazy
    `from .models import x` written as if it were beside them fails only when that line first runs."""
    engine = {engine_module(path) for path in python_files("mnist_core")}
    for path in python_files("mnist_core"):
        module = engine_module(path)
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level and node.module:
                target = ".".join([*package[:len(package) - node.level + 1], node.module])
                assert target in engine, f"{path.relative_to(PROJECT_ROOT)}: `from {'.' * node.level}{node.module}` names no module"


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


def readme_layout() -> tuple[dict[Path, str], set[Path]]:
    """({every path the README's "Layout" code block names: the name as written there, "ui/" for a
    folder}, the folders it lists entries under).

    The block is a tree of names and descriptions: a name column (a folder ends with "/", several names
    on one line are separated by commas), nested two spaces under its folder, then the description. A
    line indented as far as the description of the entry above continues that description."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert "\n## Layout\n" in readme, "README.md has no Layout section"
    section = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```[^\n]*\n(.*?)^```", section, re.DOTALL | re.MULTILINE)
    assert block, "README.md's Layout section has no code block"
    named, parents = {}, set()
    folders: list[tuple[int, Path]] = []  # the folders the current line may be nested in, outermost first
    description_column = None
    for line in block.group(1).splitlines():
        text = line.lstrip()
        indent = len(line) - len(text)
        if not text or (description_column is not None and indent >= description_column):
            continue  # a continued description
        names_column, *description = re.split(r"\s{2,}", text, maxsplit=1)
        description_column = len(line) - len(description[0]) if description else None
        while folders and folders[-1][0] >= indent:
            folders.pop()
        parent = folders[-1][1] if folders else PROJECT_ROOT
        names = [name.strip() for name in names_column.split(",")]
        assert all(re.fullmatch(r"[\w.-]+(/[\w.-]+)*/?", name) for name in names), f"README layout: cannot read {line!r}"
        if folders:
            parents.add(parent)
        for name in names:
            named[parent / name] = f"{(parent / name).relative_to(PROJECT_ROOT)}{'/' if name.endswith('/') else ''}"
        if len(names) == 1 and names[0].endswith("/"):
            folders.append((indent, parent / names[0]))
    return named, parents


def test_every_file_and_folder_the_readme_layout_names_exists():
    """A name left in the README after its module moved or went sends a reader nowhere."""
    named, _parents = readme_layout()
    missing = [name for path, name in named.items() if not (path.is_dir() if name.endswith("/") else path.is_file())]
    assert not missing, f"README.md's layout names what does not exist: {sorted(missing)}"


def test_every_module_of_the_app_appears_in_the_readme_layout():
    """Every module of mnist_core/, ui/ and pages/, every top-level package and every top-level script is in
    the README's layout, so a newcomer finds each module's job there.

    The rule: a folder listed with entries under it (mnist_core/, ui/) must list each of its modules; a
    folder listed alone (pages/, a package such as mnist_core/runs/) stands for every module inside it.
    A package's __init__.py and __main__.py are the package itself, covered by its own entry."""
    named, parents = readme_layout()
    packages = [path for path in PROJECT_ROOT.iterdir() if (path / "__init__.py").is_file()]
    modules = [*PROJECT_ROOT.glob("*.py"), *packages, PROJECT_ROOT / "pages"]
    for folder in ("mnist_core", "ui", "pages"):
        modules += [path for path in (PROJECT_ROOT / folder).rglob("*.py")
                    if path.name not in ("__init__.py", "__main__.py") and "__pycache__" not in path.parts]

    def covered(path: Path) -> bool:
        return path in named or any(folder in named and folder not in parents for folder in path.parents)

    unlisted = sorted(str(path.relative_to(PROJECT_ROOT)) for path in modules if not covered(path))
    assert not unlisted, f"README.md's layout does not name: {unlisted}"
