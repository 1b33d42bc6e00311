"""The app's colours, in one place: the Plotly charts (ui/charts.py) and the pictures drawn with numpy
(pictures.py, and through it the exported GIF) both take theirs from here.

One place because they must agree: a student who has learned "blue is training, vermilion is
validation" on the learning curves reads the weight pictures, the replay's frames and the bars in the
same two colours. Colours for Plotly are '#RRGGBB' strings; `rgb` gives numpy's (R, G, B).
"""

# Okabe & Ito's colour-blind-safe palette, which stays distinguishable for the common kinds of colour
# blindness. A chart of several runs takes its colours in this order.
SERIES_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442")
# The two sets have one colour each on every chart: training blue, validation vermilion, which stay
# apart for colour-blind readers.
TRAIN_COLOUR = "#0072B2"       # blue
VALIDATION_COLOUR = "#D55E00"  # vermilion
# Ten digits need ten colours, more than Okabe-Ito's eight: Tableau's ten, built to stay apart.
DIGIT_COLOURS = ("#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC")


def rgb(colour: str) -> tuple[int, int, int]:
    """'#D55E00' -> (213, 94, 0): a palette colour for an image drawn with numpy."""
    return tuple(int(colour[index:index + 2], 16) for index in (1, 3, 5))


# The generalization gap, shaded between the loss curves: the validation colour, faint enough for the
# curves to show through.
GAP_FILL = "rgba({}, {}, {}, 0.15)".format(*rgb(VALIDATION_COLOUR))

# Weights and other values around zero are drawn white at 0, vermilion for positive and blue for
# negative: the charts' validation and training colours, which a student already tells apart.
POSITIVE_RGB = rgb(VALIDATION_COLOUR)
NEGATIVE_RGB = rgb(TRAIN_COLOUR)
GAP_RGB = (238, 238, 238)    # between tiles: light grey, so white (zero) tiles keep their edges
FRAME_RGB = (190, 190, 190)  # around a single map: darker than the gaps, as it stands alone on the white page
