"""``kiosk import``, ``kiosk export`` and ``kiosk projects``: the store from a shell.

For a teacher or technician over SSH: bring a CreateAI dataset in, take a
project out (JSON, CSV, .tflite) and see what the kiosk holds. Every command
takes ``--db PATH``; without it the database is the one the kiosk uses (the
configuration's ``[storage] database``, else the service's state directory
on the Pi or the user's data directory elsewhere). A refused file or a failed
save is a ``KioskError``: one line on stderr and exit code 2, nothing changed.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from kiosk.errors import StorageError
from kiosk.store.database import Store
from kiosk.store.export import export_project

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    importer = subparsers.add_parser(
        "import",
        help="import a micro:bit CreateAI dataset file as a project",
        description="Import a CreateAI dataset (.json, legacy or current form) as a project. "
        "Exits 0 once the project is committed; 2 with one line if the file is refused "
        "(nothing is changed then).",
    )
    importer.add_argument("file", type=Path, help="the CreateAI .json file")
    importer.add_argument("--project", help="project name (default: the file's name)")
    importer.add_argument(
        "--replace",
        action="store_true",
        help="replace the dataset of an existing project of that name (snapshots and models stay)",
    )
    _add_db_option(importer)
    importer.set_defaults(func=run_import)

    exporter = subparsers.add_parser(
        "export",
        help="write a project as CreateAI JSON, CSV and .tflite",
        description="Write NAME.json (CreateAI, in the form it was imported in), NAME.csv (one "
        "row per sample: action, recording, t, x, y, z; t in seconds from the recording's "
        "start, from its sample period) and NAME.tflite (the latest model, if any) into DIR.",
    )
    exporter.add_argument("--project", required=True, help="the project to export")
    exporter.add_argument("--out", required=True, type=Path, help="folder to write into")
    exporter.add_argument(
        "--form",
        choices=("current", "legacy"),
        help="CreateAI file form (default: the project's own)",
    )
    _add_db_option(exporter)
    exporter.set_defaults(func=run_export)

    lister = subparsers.add_parser("projects", help="list the projects in the database")
    lister.add_argument("--json", action="store_true", help="print JSON for scripts")
    _add_db_option(lister)
    lister.set_defaults(func=run_projects)


def run_import(args: argparse.Namespace) -> int:
    name = args.project or args.file.stem
    with Store.open(_database(args)) as store:
        if not args.replace and store.project_id(name) is not None:
            raise StorageError(
                f"there is already a project called {name!r}; name the new one with "
                "--project NAME, or replace its dataset with --replace"
            )
        project = store.import_createai(args.file, name, replace=args.replace)
        summary = next(p for p in store.list_projects() if p.id == project)
    print(
        f"imported {summary.name!r}: {summary.actions} actions, {summary.recordings} "
        f"recordings (database {store.path})"
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    with Store.open(_database(args)) as store:
        result = export_project(store, args.project, args.out, args.form)
    for path in (result.json_path, result.csv_path, result.model_path):
        if path is not None:
            print(path)
    if result.model_path is None:
        print(f"(no trained model in {args.project!r}, so no .tflite)")
    return 0


def run_projects(args: argparse.Namespace) -> int:
    with Store.open(_database(args)) as store:
        projects = store.list_projects()
    if args.json:
        document = {
            "projects": [
                {"name": p.name, "actions": p.actions, "recordings": p.recordings} for p in projects
            ]
        }
        print(json.dumps(document, ensure_ascii=False))
        return 0
    if not projects:
        print("no projects")
    for p in projects:
        print(f"{p.name}\t{p.actions} actions\t{p.recordings} recordings")
    return 0


def _database(args: argparse.Namespace) -> Path:
    """``--db`` if given, else the database the kiosk itself uses."""
    return database_for(args.db)


def database_for(db: Path | None) -> Path:
    """``db`` if given, else the database the kiosk itself uses."""
    from kiosk.system.config import database_path, load_config

    if db is not None:
        return Path(db)
    config, problems = load_config(admin_settings=False)
    for problem in problems:
        log.warning("configuration: %s", problem)
    return database_path(config)


def _add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="the SQLite database (default: the kiosk's own)",
    )
