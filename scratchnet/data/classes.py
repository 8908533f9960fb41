"""The names of the classes of each data set, label ``k`` → ``names[k]``."""

from ..errors import ScratchnetError

CLASS_NAMES = {
    "mnist": tuple(str(k) for k in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                      "Bag", "Ankle boot"),
}
"""Class names per data set: MNIST's classes are the digits themselves; Fashion-MNIST's are clothes."""


def class_names(dataset, K=10):
    """The ``K`` class names of ``dataset``; the labels ``0 … K-1`` as text for a data set not listed."""
    names = CLASS_NAMES.get(dataset)
    if names is None:
        return tuple(str(k) for k in range(K))
    if len(names) != K:
        raise ScratchnetError(f"{dataset} has {len(names)} classes, but the model has {K} outputs")
    return names
