"""scratchnet: a neural network from scratch in NumPy, in the notation of the chain rule.

    import scratchnet as sn
    net = sn.seed_network(seed=0)          # 784 → 100 σ → 10 σ → 10 softmax
    X, y = sn.load_mnist("train")
    data = sn.load_data("my_digits/")      # or a .csv, an .npz, IDX files: data.X, data.y, data.class_names
    sn.save(net, "net.npz"); net = sn.load("net.npz")
"""

from .errors import ScratchnetError
from .data import load_csv, load_data, load_folder, load_mnist
from .codecheck import check_code
from .derivation import chain, check, derive
from .gradcheck import gradient_check
from .modelfile import load, save
from .network import SEED_ACTIVATIONS, SEED_SIZES, Network, architecture_text, seed_network

__all__ = ["Network", "SEED_ACTIVATIONS", "SEED_SIZES", "ScratchnetError", "architecture_text",
           "chain", "check", "check_code", "derive", "gradient_check", "load", "load_csv", "load_data",
           "load_folder", "load_mnist", "save", "seed_network"]
__version__ = "0.1.0"
