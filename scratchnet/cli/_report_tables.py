"""Rich tables for ``evaluate --report``: per-class precision, recall and F1, and the confusion matrix."""

from rich.markup import escape
from rich.table import Table


def per_class_table(classes, names):
    """A table of a `scratchnet.metrics.ClassReport`: one row per class (``names[k]``) and the mean."""
    table = Table(title="Per-class precision, recall and F1")
    for name in ("class", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for row in classes.rows():
        table.add_row(escape(names[row["class"]]), f"{row['precision']:.4f}", f"{row['recall']:.4f}",
                      f"{row['f1']:.4f}", f"{row['support']:,}")
    p, r, f = classes.macro
    table.add_row("mean", f"{p:.4f}", f"{r:.4f}", f"{f:.4f}", f"{int(classes.support.sum()):,}",
                  style="bold")
    return table


def confusion_table(C, names):
    """The confusion matrix ``C (K, K)``: rows true classes, columns predicted, the diagonal in bold."""
    K = C.shape[0]
    table = Table(title="Confusion matrix (rows: true class, columns: predicted)")
    table.add_column("true", justify="right", style="bold")
    for j in range(K):
        table.add_column(escape(names[j]), justify="right")
    for i in range(K):
        cells = [f"[bold green]{C[i, j]}[/]" if i == j else (f"[red]{C[i, j]}[/]" if C[i, j] else "[dim]0[/]")
                 for j in range(K)]
        table.add_row(escape(names[i]), *cells)
    return table
