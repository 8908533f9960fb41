"""scratchnet: a neural network from scratch in NumPy, in the notation of the chain rule.

    import scratchnet as sn
    net = sn.Network([784, 100, 10, 10], ["sigmoid", "sigmoid", "softmax"], seed=0)
    X, y = sn.load_mnist("train")
"""

from .errors import ScratchnetError
from .data import load_mnist
from .gradcheck import gradient_check
from .modelfile import load
from .network import Network

__all__ = ["Network", "ScratchnetError", "gradient_check", "load", "load_mnist"]
__version__ = "0.1.0"
