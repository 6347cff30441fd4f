"""k-nearest-neighbours classification on the device (squared euclidean distance, majority vote)."""
from array import array


class Model:
    def additem(self, values: array, label: int) -> int:
        """Store one item (n_features values of the model's typecode) with its label; returns its index.
        Raises ValueError when the store is full."""

    def predict(self, values: array) -> int:
        """The majority label among the k nearest items. Distance ties go to the lower item index;
        vote ties to the lowest label (as scikit-learn's KNeighborsClassifier)."""

    def getresult(self, i: int) -> tuple[int, float | int, int]:
        """(item index, squared distance, label) of the i-th nearest item of the last predict."""

    def getitem(self, i: int, out: array) -> int:
        """Copy item i's values into ``out`` and return its label."""

    def n_items(self) -> int:
        """Number of items stored."""


def new(max_items: int, n_features: int, k: int, dtype: str = "h") -> Model:
    """A store of up to ``max_items`` items; ``dtype`` 'h' (int16, exact int distances with no
    overflow) or 'f' (float32)."""
