"""check-code on real learners' code (issue 18): each file in ``tests/fixtures/learner_code/real/`` is a
backprop from a public question, issue or course forum, with its link and the learner's own words in its
docstring, translated into ``backprop(weights, X, Y) -> grads`` (what was changed to fit is said there),
and judged here as a teacher would: the verdict, the mistakes named and the first wrong layer."""

import ast
import os

import pytest

import scratchnet as sn

HERE = os.path.join(os.path.dirname(__file__), "fixtures", "learner_code", "real")
COURSE = {"bias": "separate", "convention": "column", "sizes": [2, 4, 2], "activations": ["tanh"]}

REAL = [   # file, options, verdict, diagnoses, first wrong layer
    ("dlai_152009_dw2_elementwise.py", COURSE, "shape_error", ["matrix_product"], None),
    ("dlai_31965_tanh_prime_of_z.py", COURSE, "wrong_value", ["activation_derivative"], 1),
    ("dlai_63071_mean_twice.py", COURSE, "wrong_value", ["batch_factor"], 1),
    ("dlai_536725_db_not_summed.py", COURSE, "shape_error", ["batch_sum"], 2),
    ("dlai_555868_missing_transpose.py", {**COURSE, "sizes": [2, 2, 2]}, "wrong_value", ["missing_transpose"], 1),
    ("dlai_241052_linear_backward.py", {**COURSE, "sizes": [5, 3, 2], "activations": ["relu"]}, "shape_error",
     ["matrix_product"], None),
    ("so_53287032_missing_sigma_prime.py", {"bias": "none", "convention": "column", "sizes": [6, 5, 4, 3],
     "activations": ["sigmoid", "sigmoid"], "loss": "mse", "output": "sigmoid"}, "wrong_value",
     ["activation_derivative"], 2),
    ("stats_403921_xor_bias_column.py", {"convention": "column", "sizes": [2, 2, 2]}, "shape_error", ["bias_row"],
     None),
    ("deeplearningpython_17_sigma_prime_at_output.py", {"bias": "separate", "convention": "column",
     "sizes": [6, 5, 4], "activations": ["sigmoid"]}, "wrong_value", ["activation_derivative"], 2),
    ("ds_20139_db_not_summed_row.py", {"bias": "separate", "sizes": [3, 4, 2], "activations": ["sigmoid"]},
     "shape_error", ["batch_sum"], 2),
    ("gophernet_6_sigmoid_prime_of_activations.py", {"bias": "separate", "sizes": [4, 3, 3],
     "activations": ["sigmoid"], "loss": "mse", "output": "sigmoid"}, "wrong_value", ["activation_derivative"], 2),
    ("dlai_89393_mean_once_correct.py", {**COURSE, "sizes": [3, 4, 2], "activations": ["relu"]}, "correct", [],
     None),
    ("dlai_402919_dot_for_hadamard.py", COURSE, "wrong_value", ["elementwise_product"], 1),
]
SEED = os.path.join(os.path.dirname(HERE), "seed_learner.py")


def _name(p):
    return p.values[0] if hasattr(p, "values") else p[0]           # a pytest.param, or a plain tuple


@pytest.mark.parametrize("name, options, verdict, diagnoses, first", REAL, ids=[_name(p) for p in REAL])
def test_real_code_is_judged_as_a_teacher_would(name, options, verdict, diagnoses, first):
    result = sn.check_code(os.path.join(HERE, name), **options)
    assert (result.verdict, result.diagnoses) == (verdict, diagnoses), str(result)
    assert result.exit_code == (0 if verdict == "correct" else 1)
    if first is not None:
        assert result.first_wrong_layer == first, str(result)
    if verdict != "correct":
        assert result.mistakes and all(m.hints for m in result.mistakes), str(result)


def test_there_are_at_least_twelve_real_buggy_implementations_each_with_its_source():
    files = sorted(f for f in os.listdir(HERE) if f.endswith(".py")) + [SEED]
    urls, buggy = set(), 0
    for f in files:
        doc = ast.get_docstring(ast.parse(open(os.path.join(HERE, f), encoding="utf-8").read())) or ""
        if f == SEED:
            doc = "https://math.stackexchange.com/questions/2973577 (tests/fixtures/mistakes/seed_final_answer)"
        else:
            assert doc.startswith("Real"), f
            assert "Translation:" in doc and "A teacher:" in doc and '"' in doc, f      # their words, quoted
        url = next(w for w in doc.split() if w.startswith("https://"))
        urls.add(url.rstrip(".,)"))
        buggy += "correct" not in f
    assert {_name(p) for p in REAL} == set(files) - {SEED}                          # every file is judged
    assert buggy >= 12 and len(urls) >= 12


def test_a_star_where_a_matrix_product_belongs_is_not_called_a_batch_sum_or_a_bias_row():
    """dZ2 * A1.T is right at B = 1 (a column * a row broadcasts to the outer product), so 'the mistake is in
    how the batch is summed' would mislead; and with separate biases no size is the bias row's."""
    text = str(sn.check_code(os.path.join(HERE, "dlai_152009_dw2_elementwise.py"), **COURSE))
    assert "broadcasts to the outer product" in text and "summed or averaged" not in text
    linear = sn.check_code(os.path.join(HERE, "dlai_241052_linear_backward.py"),
                           **{**COURSE, "sizes": [5, 3, 2], "activations": ["relu"]})
    assert "bias" not in linear.mistakes[0].words and "transposed fits" in linear.mistakes[0].words


def test_the_dot_for_hadamard_mistake_is_named_in_the_row_convention_too():
    """dlai_402919's mistake written for rows (np.dot(1 - np.dot(A1, A1.T), δ2 W2ᵀ)): the same diagnosis."""
    import numpy as np

    def backprop(weights, X, Y):
        (W1, b1), (W2, b2) = weights
        A1 = np.tanh(X @ W1 + b1)
        z2 = A1 @ W2 + b2
        e = np.exp(z2 - z2.max(axis=1, keepdims=True))
        d2 = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
        d1 = np.dot(1 - np.dot(A1, A1.T), d2 @ W2.T)
        return [(X.T @ d1, d1.sum(0)), (A1.T @ d2, d2.sum(0))]

    result = sn.check_code(backprop, sizes=[3, 4, 2], activations=["tanh"], bias="separate")
    assert (result.verdict, result.diagnoses, result.first_wrong_layer) == ("wrong_value", ["elementwise_product"], 1)
