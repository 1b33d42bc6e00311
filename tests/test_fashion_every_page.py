"""Every page on Fashion-MNIST, after a small real run trained on the Train page: nothing fails, and the
pages that name classes name clothes, not digits."""

import json

import pytest

from tests.helpers import button, open_page, shown, train_on_the_train_page

EVERY_PAGE = ("overview", "train", "replay", "compare", "exam", "draw", "robustness", "inside", "board")


def everything_shown(app) -> str:
    """The text of the page's markdown, captions, messages, headings and widgets' labels and options."""
    parts = []
    for kind in ("markdown", "caption", "info", "warning", "success", "error", "title", "header", "subheader"):
        parts += [shown(element) for element in getattr(app, kind)]
    for kind in ("selectbox", "multiselect", "radio"):
        for widget in getattr(app, kind):
            parts += [str(widget.label), *(str(option) for option in widget.options)]
    return "\n".join(parts)


@pytest.mark.slow
def test_every_page_works_on_a_fashion_mnist_run(runs_root, fashion_dataset):
    train = open_page("pages/train.py")
    train.selectbox(key="widget_dataset").set_value("fashion_mnist").run()
    assert train.session_state["settings"]["dataset"] == "fashion_mnist"
    train_on_the_train_page(train, epochs=2, training_examples=500, name="clothes")
    assert not train.error and train.success, [shown(error) for error in train.error]
    workspace = train.session_state["workspace"]
    for name in EVERY_PAGE:
        app = open_page(f"pages/{name}.py", workspace=workspace)
        app.session_state["settings"] = dict(train.session_state["settings"])  # the sidebar's Fashion-MNIST
        app.run()
        assert not app.exception, (name, app.exception)
        assert not app.error, (name, [shown(error) for error in app.error])
        text = everything_shown(app)
        if name in ("overview", "train", "replay", "compare", "exam", "robustness", "inside"):
            assert "Fashion-MNIST" in text, name
        if name == "draw":  # a page for digits says so, and offers no Fashion-MNIST model
            assert "reads handwritten digits" in text
    exam = open_page("pages/exam.py", workspace=workspace)
    button(exam, "Sit the final exam on the 10,000 test pictures").click().run()
    assert not exam.exception
    matrix = next(json.loads(chart.proto.spec) for chart in exam.get("plotly_chart") if '"heatmap"' in chart.proto.spec)
    for axis in ("xaxis", "yaxis"):
        assert matrix["layout"][axis]["ticktext"] == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                                      "Shirt", "Sneaker", "Bag", "Ankle boot"]
    cells = matrix["data"][0]["text"]  # every cell's count, as shown
    assert sum(int(cell.replace(",", "")) for row in cells for cell in row) == 10_000  # Fashion-MNIST's test pictures
