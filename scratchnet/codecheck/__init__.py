"""Check a learner's own backprop code, layer by layer, with the mistake named.

``check_code(fn)`` (or ``scratchnet check-code FILE.py:FUNCTION``) runs the learner's
``FUNCTION(weights, X, Y) -> grads`` at a random point in float64, at a batch of ``B`` and of one, and
compares its gradients with the true ones from the output back: the first wrong layer, the layers wrong
only because of it, and the known mistake whose numbers the learner's are. With ``forward=`` (``--forward
FUNCTION``) the learner's ``forward(weights, X) -> [H1, …, ŷ]`` is compared first, layer by layer.

Files, one idea each: `spec` (the network, notation and loss), `point` (the random point), `notation`
(the learner's arrays and gradient structures ↔ the seed's form), `runner` and `worker` (calling the code,
in this process or a child), `failures` (what can go wrong in it), `passes` (forward values and the
backward pass with mistakes in it), `mistakes` (the known mistakes as numbers), `tolerance`, `diagnose`
(the search), `analyse` (one batch size), `forwardcheck` (the learner's forward pass, layer by layer),
`formulas` (right formulas and hints), `result`, `html`, `check` (the entry point), `exchange` (the point as .npy/.csv files for code in other languages,
and their saved gradients back).
"""

from .check import check_code, split_target
from .exchange import check_saved, export_point
from .failures import LearnerCodeError
from .result import CodeCheckResult

__all__ = ["check_code", "check_saved", "export_point", "CodeCheckResult", "LearnerCodeError", "split_target"]
