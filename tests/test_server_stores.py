"""One list of what the server holds (mnist_core/stores.py): every store the pages keep is named there
with its budget, and each keeps to its budget under a burst of requests from many sessions."""

import re
import threading
from pathlib import Path

import numpy as np
import pytest

from mnist_core.stores import SERVER_STORES, SERVER_STORES_BYTES, SESSION_STORES, ComputedOnce, size_in_bytes

PROJECT_ROOT = Path(__file__).resolve().parent.parent
APP_FILES = [PROJECT_ROOT / "dashboard.py", *sorted((PROJECT_ROOT / "pages").glob("*.py")),
             *sorted((PROJECT_ROOT / "ui").glob("*.py"))]


def source(path: Path) -> str:
    return path.read_text()


def test_every_store_a_page_keeps_is_one_of_the_list():
    """A store a page keeps outside the list is memory with a budget written down nowhere."""
    used = set()
    for path in APP_FILES:
        text = source(path)
        used.update(re.findall(r'server_store\("([^"]+)"\)', text))
        if path.name not in ("server_stores.py", "exam_results.py"):
            assert "ComputedOnce(" not in text, f"{path.name}: a store of its own, not one of SERVER_STORES"
        # st.cache_resource keeps one object per server: the stores themselves, the dataset, a lock, once-only work
        for match in re.finditer(r"@st\.cache_resource\(([^)]*)\)", text):
            assert "max_entries" not in match.group(1), f"{path.name}: a cache with a budget of its own"
    assert used <= SERVER_STORES.keys(), used - SERVER_STORES.keys()
    assert used | {"exam results"} == SERVER_STORES.keys(), SERVER_STORES.keys() - used


def test_the_session_s_model_cache_keeps_the_list_s_budget():
    from ui.run_picker import MOST_MODELS_KEPT

    assert MOST_MODELS_KEPT == SESSION_STORES["models"].max_kept


def test_the_server_stores_total_is_written_down():
    assert SERVER_STORES_BYTES == sum(budget.max_bytes for budget in SERVER_STORES.values())
    assert SERVER_STORES_BYTES < 1e9  # what forty students' pages may hold, at most, beside the models and data


@pytest.mark.parametrize("name", sorted(SERVER_STORES))
def test_each_store_keeps_to_its_budget_under_a_burst(name):
    budget = SERVER_STORES[name]
    store = budget.new_store()
    # Values a tenth of the byte budget (or small), asked for by eight sessions at once, twice the store's
    # count each, half of them asking for keys another session asked for.
    size = int(min(budget.max_bytes / 10, 4e6))
    worst = [0, 0]
    lock = threading.Lock()

    def session(number):
        for request in range(2 * budget.max_kept):
            key = (number % 4, request)
            store.get(key, lambda: np.zeros(size, np.uint8))
            with lock:
                worst[0] = max(worst[0], len(store))
                worst[1] = max(worst[1], store.held_bytes())

    sessions = [threading.Thread(target=session, args=(number,)) for number in range(8)]
    for thread in sessions:
        thread.start()
    for thread in sessions:
        thread.join()
    assert worst[0] <= budget.max_kept and worst[1] <= budget.max_bytes, (name, worst)


def test_the_newest_value_is_kept_even_beyond_the_byte_budget():
    store = ComputedOnce(max_kept=5, max_bytes=100)
    store.get("small", lambda: np.zeros(60, np.uint8))
    store.get("big", lambda: np.zeros(500, np.uint8))
    assert store.peek("big") is not None and store.peek("small") is None


def test_a_value_s_size_counts_its_parts():
    assert size_in_bytes(b"abc") == 3
    assert size_in_bytes((np.zeros(10, np.uint8), np.zeros(5, np.float32))) == 30
    from mnist_core.results import IterationPoint

    assert size_in_bytes(([IterationPoint(1, 0.5, 0.5)] * 10, None)) == 10 * IterationPoint.nbytes
