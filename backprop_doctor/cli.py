"""The `backprop-doctor` command: a thin door onto the pipeline.

    backprop-doctor check PATH... [options]   diagnose files or folders
    backprop-doctor rule NAME_OR_CODE         print one check's documentation
    backprop-doctor list-checks               list every check

Exit codes: 0 no error findings, 1 error findings (a file that fails to load
counts), 2 usage error or internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from backprop_doctor import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
SKIP_DIRS = {"__pycache__", ".git", ".venv", "venv", "env", "node_modules", ".tox", ".mypy_cache", ".pytest_cache", "site-packages"}
CONFIG_KEYS = {
    "seed": int,
    "timeout": float,
    "select": list,
    "ignore": list,
    "exec-module": bool,
    "format": str,
    "color": str,
    "jobs": int,
    "batch-size": int,
    "training": bool,
    "run": bool,
    "run-budget": float,
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its text short
        self.print_usage(sys.stderr)
        print(f"backprop-doctor: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="backprop-doctor", description="Tells you why your hand-written NumPy backprop does not learn.")
    parser.add_argument("--version", action="version", version=f"backprop-doctor {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help="diagnose model files or folders")
    check.add_argument("paths", nargs="+", metavar="PATH", help="a .py file or a folder of them")
    check.add_argument("--format", choices=("rich", "json", "github"), help="report format (default: rich)")
    check.add_argument("--seed", type=int, help="seed of every random draw (default: 0); the report prints it")
    check.add_argument("--color", choices=("auto", "always", "never"), help="colour in the rich report (default: auto)")
    check.add_argument("--timeout", type=float, help="seconds allowed per file (default: 60)")
    check.add_argument("--exec-module", action="store_true", default=None, help="run the whole module, not only its definitions")
    check.add_argument("--build", metavar="EXPR", help="how to construct the network, e.g. 'TwoLayerNet(input_size=20, hidden_size=8, output_size=4)' (literals only)")
    check.add_argument("--data", metavar="FILE.npz", help="x and t arrays for the training probe")
    check.add_argument("--select", metavar="CODES", help="only report these codes or name prefixes, comma-separated")
    check.add_argument("--ignore", metavar="CODES", help="do not report these codes or name prefixes, comma-separated")
    check.add_argument("-j", "--jobs", type=int, help="files checked in parallel (default: 1)")
    check.add_argument("--batch-size", type=int, help="batch of the synthetic inputs (default: 5)")
    check.add_argument("--no-training", dest="training", action="store_false", default=None, help="skip the training probe")
    check.add_argument("--no-run", dest="run", action="store_false", default=None, help="do not run the file's script or main block; check its definitions with synthesized inputs")
    check.add_argument("--run-budget", type=float, metavar="SECONDS", help="seconds the file's own script may run while it is observed (default: 10)")
    check.add_argument("--html", metavar="PATH", help="also save the report as HTML")
    check.add_argument("--svg", metavar="PATH", help="also save the report as SVG")
    check.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)

    rule = commands.add_parser("rule", help="print the documentation of one check")
    rule.add_argument("name", metavar="NAME_OR_CODE")
    listing = commands.add_parser("list-checks", help="list every check with its code and severity")
    listing.add_argument("--color", choices=("auto", "always", "never"), help="colour in the list (default: auto)")
    return parser


# --------------------------------------------------------------------------- configuration


def find_config(start: Path) -> dict[str, Any]:
    """`[tool.backprop-doctor]` of the nearest pyproject.toml at or above `start`."""
    import tomllib

    from backprop_doctor.errors import UsageError

    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as error:
                raise UsageError(f"{pyproject}: {error}") from error
            tool = data.get("tool", {})
            section = tool.get("backprop-doctor") if isinstance(tool, dict) else None
            if section is not None:
                _validate_config(pyproject, section)
                return section
            return {}
    return {}


def _validate_config(pyproject: Path, section: Any) -> None:
    """Each key of `[tool.backprop-doctor]` known and of its type, or a `UsageError` naming it."""
    from backprop_doctor.errors import UsageError

    if not isinstance(section, dict):
        raise UsageError(f"{pyproject}: tool.backprop-doctor = {section!r} must be a table ([tool.backprop-doctor])")
    unknown = sorted(set(section) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(f"{pyproject}: unknown [tool.backprop-doctor] key(s): {', '.join(unknown)}")
    for key, value in section.items():
        expected = CONFIG_KEYS[key]
        if expected is list:
            ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
            wanted = 'a list of codes or name prefixes, e.g. ["BPD1", "dead-relu"]'
        elif expected is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            wanted = "a number"
        else:
            ok = isinstance(value, expected) and (expected is bool or not isinstance(value, bool))
            wanted = {bool: "true or false", int: "a whole number", str: "a string"}[expected]
        if not ok:
            raise UsageError(f"{pyproject}: [tool.backprop-doctor] {key} = {value!r} must be {wanted}")


def resolve(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """Options from the config file, overridden by the command line."""
    from backprop_doctor.errors import UsageError
    from backprop_doctor.options import Options

    config = find_config(Path(args.paths[0]).resolve())
    merged = {key.replace("-", "_"): value for key, value in config.items()}
    for key in ("seed", "timeout", "exec_module", "build", "data", "format", "color", "jobs", "batch_size", "training", "run", "run_budget"):
        value = getattr(args, key, None)
        if value is not None:
            merged[key] = value
    for key in ("select", "ignore"):
        value = getattr(args, key, None)
        if value is not None:
            merged[key] = [p.strip() for p in value.split(",") if p.strip()]
    if merged.get("data") is not None:
        _validate_data(merged["data"])
    view = {k: merged.pop(k) for k in ("format", "color", "jobs") if k in merged}
    for key in ("html", "svg"):
        target = getattr(args, key, None)
        if target and not Path(target).resolve().parent.is_dir():
            raise UsageError(f"--{key} {target}: the folder {Path(target).parent} does not exist")
    for key in ("select", "ignore"):
        if key in merged:
            merged[key] = tuple(merged[key])
    return Options.from_kwargs(**merged), view


def _validate_data(data: str) -> None:
    """`--data` names a readable .npz holding arrays `x` and `t`."""
    from backprop_doctor.errors import UsageError

    import numpy as np

    try:
        with np.load(data, allow_pickle=False) as archive:
            missing = [key for key in ("x", "t") if key not in archive.files]
    except OSError as error:
        raise UsageError(f"--data {data}: cannot be read ({error.strerror or error})") from None
    except (ValueError, EOFError):
        raise UsageError(f"--data {data}: is not an .npz archive; write one with np.savez(path, x=x, t=t)") from None
    if missing:
        raise UsageError(f"--data {data}: has no array {' or '.join(missing)}; save it with np.savez(path, x=x, t=t)")


def collect(paths: Sequence[str]) -> list[Path]:
    """The .py files to check; an entry that exists but is no regular file (a FIFO, a dangling
    link) is kept, so that it gets its own "could not be read" report and the others go on."""
    from backprop_doctor.errors import UsageError

    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file() or (path.is_symlink() and not path.exists()) or (path.exists() and not path.is_dir()):
            files.append(path)
        elif path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                files += [Path(root) / n for n in sorted(names) if n.endswith(".py")]
        else:
            raise UsageError(f"no such file or folder: {raw}")
    return files


# --------------------------------------------------------------------------- commands


def _check(args: argparse.Namespace) -> int:
    from backprop_doctor.findings import Report

    options, view = resolve(args)
    files = collect(args.paths)
    if not files:
        print("backprop-doctor: no .py files found in " + ", ".join(args.paths), file=sys.stderr)
        return EXIT_USAGE

    def one(path: Path) -> Report:
        if sys.stderr.isatty() and len(files) > 1:
            print(f"checking {path} …", file=sys.stderr)
        if not path.is_file():
            return _unreadable(path, options)
        if args.in_process:
            from backprop_doctor.pipeline import check_file

            return check_file(str(path), options)
        from backprop_doctor.loading.child import run_isolated

        return run_isolated(str(path), options)

    jobs = max(1, int(view.get("jobs") or 1))
    with _warm_workers(0 if args.in_process else len(files)):  # before the pool's threads start
        if jobs > 1 and len(files) > 1:
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                reports = list(pool.map(one, files))
        else:
            reports = [one(f) for f in files]
    code = EXIT_FINDINGS if any(not r.ok for r in reports) else EXIT_OK
    try:
        _render(reports, view, args)
    except (BrokenPipeError, SystemExit):  # `| head` left early (rich exits 1 on a broken pipe)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code


def _warm_workers(files: int) -> Any:
    """One fork server for the files of a folder run (`loading.forkserver`); nothing for one file."""
    from backprop_doctor.loading.child import warm_workers

    return warm_workers(files)


def _unreadable(path: Path, options: Any) -> Any:
    """The report of an entry that is not a regular file; nothing of it is opened."""
    from backprop_doctor.findings import Report
    from backprop_doctor.rules import rule

    what = "a link to a file that does not exist" if path.is_symlink() and not path.exists() else "not a regular file"
    report = Report(seed=options.seed, file=str(path))
    report.findings.append(
        rule("load-error").finding(f"{path} could not be read: it is {what}: check a regular .py file", file=str(path))
    )
    return report


def _render(reports: list[Any], view: dict[str, Any], args: argparse.Namespace) -> None:
    from backprop_doctor import report as renderers

    fmt = view.get("format") or "rich"
    if fmt == "json":
        sys.stdout.write(renderers.to_json(reports) + "\n")
    elif fmt == "github":
        sys.stdout.write(renderers.to_github(reports))
    else:
        renderers.render_report(reports, "rich", console=make_console(view.get("color") or "auto"))
    if args.html:
        renderers.save_html(reports, args.html)
    if args.svg:
        renderers.save_svg(reports, args.svg)


def make_console(color: str) -> Any:
    from rich.console import Console

    if color == "always":
        return Console(force_terminal=True, color_system="standard" if os.environ.get("NO_COLOR") is None else None)
    if color == "never":
        return Console(no_color=True, color_system=None, highlight=False)
    return Console()  # rich honours NO_COLOR and turns colour off when stdout is not a terminal


def _rule(args: argparse.Namespace) -> int:
    from backprop_doctor.rules import rule

    found = rule(args.name)
    print(f"{found.code} {found.name} ({found.severity}, stage {found.stage})\n")
    print(found.doc)
    return EXIT_OK


def _list_checks(args: argparse.Namespace) -> int:
    from backprop_doctor.report import render_rules
    from backprop_doctor.rules import all_rules

    render_rules(all_rules().values(), make_console(args.color or "auto"))
    return EXIT_OK


def _stop_children_on_sigterm() -> None:
    """SIGTERM ends the children first (their process groups, then their temp folders)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        return

    def terminated(signum: int, frame: Any) -> None:
        from backprop_doctor.loading.child import stop_all

        stop_all()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)


def main(argv: Sequence[str] | None = None) -> int:
    from backprop_doctor.errors import UsageError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    command = {"check": _check, "rule": _rule, "list-checks": _list_checks}[args.command]
    _stop_children_on_sigterm()
    try:
        return command(args)
    except UsageError as error:
        print(f"backprop-doctor: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_USAGE
    except BrokenPipeError:  # `| head` stopped reading: not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:  # our own bug: say so briefly, exit 2
        if os.environ.get("BACKPROP_DOCTOR_DEBUG"):
            raise
        print(
            f"backprop-doctor: internal error: {type(error).__name__}: {error}\n"
            "Set BACKPROP_DOCTOR_DEBUG=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
