"""The lab: a local web page where a learner draws a digit and watches the seed network think, learn and
backpropagate, in the seed's notation.

``scratchnet lab [MODEL]`` serves it (`scratchnet.cli.lab`). Files: `app` (routes and the JSON API),
`guard` (Host/Origin rules and body limits), `inputs` (reading pictures, pixels, labels and formulas
from requests), `model` (the current network; forward, backward and one step for one digit), `live`
(a training run streamed to the page), `formulas` (math as MathML), ``static/`` (the page: one
plain-JavaScript module per section, no build step).
"""

from .app import Lab, create_app
from .model import LabModel

__all__ = ["Lab", "LabModel", "create_app"]
