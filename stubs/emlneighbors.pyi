"""k-nearest-neighbours classification on the device (squared euclidean distance, majority vote).

A store is filled with ``add_item`` or read from a binary k-NN file written by emlmpy
(``load``/``load_model``, docs/model-format.md §4), which needs the optional module
``emlneighbors_load`` (``emlneighbors_load.mpy`` on the board: imported by the first load).
emlearn-micropython's method names ``additem``, ``getresult`` and ``getitem`` are kept as aliases
of ``add_item``, ``get_result`` and ``get_item``."""
from array import array


class Model:
    def __init__(self, max_items: int, n_features: int, k: int, dtype: str | None = "h") -> None:
        """Same as :func:`new`."""

    def add_item(self, values: array, label: int) -> int:
        """Store one item (n_features values of the model's typecode) with its label (-32768..32767);
        returns its index. Raises ValueError when the store is full (a model loaded from a file is
        full), for a wrong length or for a NaN or infinite float value (as scikit-learn's
        KNeighborsClassifier), TypeError for a wrong typecode."""

    def predict(self, values: array) -> int:
        """The majority label among the k nearest items. Distance ties go to the lower item index;
        vote ties to the lowest label (as scikit-learn's KNeighborsClassifier). ValueError with no
        items stored. A model from a file returns the file's class labels (scikit-learn's integer
        ``classes_``) when it has them, else the class index; an int16 model from a file also takes
        array('f') values, quantized with the file's scale and offset as emlmpy's quantize().
        ValueError for a NaN or infinite float value (scikit-learn refuses them too)."""

    def get_result(self, i: int) -> tuple[int, float | int, int]:
        """(item index, squared distance, label) of the i-th nearest item of the last predict
        (0 <= i < k): the distance is an int for 'h' stores (exact), a float for 'f' stores
        (float32; inf where the squared distance exceeds float32); the label as predict returns
        it. IndexError out of range."""

    def get_item(self, i: int, out: array) -> int:
        """Copy item i's values into ``out`` (the store's typecode, n_features elements) and return
        its label (as predict returns it). IndexError out of range."""

    def n_items(self) -> int:
        """Number of items stored."""

    additem = add_item
    getresult = get_result
    getitem = get_item


def new(max_items: int, n_features: int, k: int, dtype: str | None = "h") -> Model:
    """A store of up to ``max_items`` items (1..2**30-1) of ``n_features`` values (1..65535), voting among the
    ``k`` nearest (1..max_items). ``dtype``: the items' array typecode, 'h' (int16, the default,
    also for None: exact integer distances, no overflow) or 'f' (float32), as emlmpy's
    ``dtype='h'``/``'f'``. Positional or keyword arguments. Raises TypeError/ValueError for bad
    arguments, MemoryError when the store does not fit in the heap."""


def load(stream) -> Model:
    """A model read from a binary k-NN file (``open('knn.bin', 'rb')``, or any object with
    ``readinto`` or ``read``), of exactly the file's size. ValueError("offset N: reason") for a
    malformed file, a CSV file (convert it on the host: ``python -m emlmpy convert knn.csv -o
    knn.bin``), a tree file or a version 1 file; MemoryError when it does not fit the heap.
    ValueError("k-NN files need emlneighbors_load.mpy") when that module is not on the board
    (nothing is read)."""


def load_model(model: Model, stream) -> None:
    """Replace ``model``'s items by the file's. The ``Model(max_items, n_features, k, dtype)``
    arguments are limits: a file with more items, features, a larger k or the other dtype is
    refused with ValueError (offset 16, 8, 12, 6); a model made by ``load`` takes any file. On any
    error (ValueError, MemoryError) the model is left empty (``predict`` raises ValueError until
    a load succeeds or items are added; a Model made by ``new`` gets its empty store back, so
    ``add_item`` works up to ``max_items`` again). TypeError when ``model`` is no emlneighbors Model. Without
    ``emlneighbors_load.mpy``: ValueError("k-NN files need emlneighbors_load.mpy"), and the model
    keeps its items (nothing is read)."""
