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


def model_class_names(net, dataset=None):
    """The class names of a network's outputs, label ``k`` → ``names[k]``.

    A model trained or imported by this scratchnet keeps them in ``net.metadata["class_names"]``; an older
    model file has only its ``dataset`` (MNIST's digits, Fashion-MNIST's clothes), and a network made in
    Python has neither: its labels ``0 … K-1`` as text then.
    """
    K = net.sizes[-1]
    meta = getattr(net, "metadata", None) or {}
    names = meta.get("class_names")
    if isinstance(names, list) and len(names) == K and all(isinstance(n, str) for n in names):
        return tuple(names)
    dataset = dataset or meta.get("dataset", "mnist")
    if dataset in CLASS_NAMES and len(CLASS_NAMES[dataset]) == K:
        return CLASS_NAMES[dataset]
    return tuple(str(k) for k in range(K))
