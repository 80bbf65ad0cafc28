"""The ingestion report: every input accounted for, written with every run, and the policy that
stops a run on it.

`ingestion_report.json` sits at the root of the Examples artifact, beside the Split-* folders
that downstream components read. files_seen = examples + rejected, always: a name only found in a
list file counts as one input (rejected as listed but missing).
"""

from __future__ import annotations

import collections
import json
import os
from collections.abc import Iterable
from typing import Any

from tfx.dsl.io import fileio

from common import settings_as_dict
from components.celeba_example_gen.inventory import Inventory
from components.celeba_example_gen.policy import IngestionPolicy

REPORT_FILE = "ingestion_report.json"
SUMMARY_FILES = 10  # rejected files named in the printed summary; the report has them all


class IngestionError(RuntimeError):
    """The data is clearly wrong: the run stops; the message names the counts and the report."""

    def __init__(self, violation: str, path: str):
        super().__init__(f"{violation}; report: {path}")


def build_report(
    inventory: Inventory,
    outcomes: Iterable[dict[str, Any]],
    policy: IngestionPolicy,
    data_root: str,
) -> dict[str, Any]:
    """`outcomes` are the image reader's records: rejections (with `reason`), conversions (with
    `converted_from`) and turns (with `exif_orientation`)."""
    outcomes = list(outcomes)
    rejected = sorted(
        inventory.rejected
        + [
            {key: record[key] for key in ("file", "reason", "detail")}
            for record in outcomes
            if "reason" in record
        ],
        key=lambda record: record["file"],
    )
    read_per_split = collections.Counter(split for _, split, _ in inventory.to_read)
    read_per_split.subtract(record["split"] for record in outcomes if "reason" in record)
    examples_per_split = {split: read_per_split[split] for split in inventory.split_names}
    return {
        "data_root": data_root,
        "files_seen": inventory.files_seen,
        "examples": sum(examples_per_split.values()),
        "rejected": len(rejected),
        "examples_per_split": examples_per_split,
        "split_source": inventory.split_source,
        "rejected_per_reason": dict(
            sorted(collections.Counter(record["reason"] for record in rejected).items())
        ),
        "rejected_files": rejected,
        "converted_to_rgb": sorted(
            (
                {"file": record["file"], "from_mode": record["converted_from"]}
                for record in outcomes
                if "converted_from" in record
            ),
            key=lambda r: r["file"],
        ),
        "turned_upright": sorted(
            (
                {"file": record["file"], "exif_orientation": record["exif_orientation"]}
                for record in outcomes
                if "exif_orientation" in record
            ),
            key=lambda r: r["file"],
        ),
        "list_file_problems": [
            str(problem)
            for listed in inventory.lists
            for problem in listed.problems
            if problem.filename is None
        ],
        "mismatched_list_files": inventory.mismatches,
        "policy": settings_as_dict(policy),
    }


def write_report(report: dict[str, Any], examples_uri: str) -> str:
    path = os.path.join(examples_uri, REPORT_FILE)
    with fileio.open(path, "w") as f:
        f.write(json.dumps(report, indent=1) + "\n")
    return path


def read_report(examples_uri: str) -> dict[str, Any]:
    with fileio.open(os.path.join(examples_uri, REPORT_FILE)) as f:
        return json.loads(f.read())


def summary(report: dict[str, Any], path: str) -> str:
    """A few lines for the console: counts, then the first rejected files with their reasons."""
    splits = ", ".join(
        f"{split} {count:,}" for split, count in report["examples_per_split"].items()
    )
    lines = [
        f"Ingestion: {report['files_seen']:,} files seen, {report['examples']:,} examples "
        f"({splits}; split by {report['split_source']}), {report['rejected']:,} set aside"
        + (f": {_reason_counts(report)}" if report["rejected"] else ""),
        *(
            f"  {record['file']}: {record['reason']} ({record['detail']})"
            for record in report["rejected_files"][:SUMMARY_FILES]
        ),
    ]
    if report["rejected"] > SUMMARY_FILES:
        lines.append(f"  ... and {report['rejected'] - SUMMARY_FILES:,} more")
    empty = [split for split, count in report["examples_per_split"].items() if not count]
    if empty:
        lines.append(f"  Empty split(s): {', '.join(empty)}")
    if report["converted_to_rgb"]:
        lines.append(f"  {len(report['converted_to_rgb']):,} converted to RGB")
    if report["turned_upright"]:
        lines.append(
            f"  {len(report['turned_upright']):,} turned upright by their EXIF orientation"
        )
    lines.append(f"  Report: {path}")
    return "\n".join(lines)


def policy_violation(report: dict[str, Any]) -> str | None:
    """Why the run must stop, with the counts, in one line; None when it may go on."""
    fraction = report["rejected"] / max(report["files_seen"], 1)
    counts = (
        f"{report['rejected']:,} of {report['files_seen']:,} files rejected "
        f"({fraction:.1%}: {_reason_counts(report) or 'none'})"
    )
    if report["mismatched_list_files"]:
        return (
            f"{'; '.join(report['mismatched_list_files'])}: is it the right file for these "
            f"images? {counts}"
        )
    limit = report["policy"]["max_rejected_fraction"]
    if report["rejected"] > limit * report["files_seen"]:
        return (
            f"too many bad inputs, over the limit of {limit:.1%} (max_rejected_fraction): {counts}"
        )
    if report["examples"] == 0:
        return f"no examples: {counts}"
    return None


def _reason_counts(report: dict[str, Any]) -> str:
    return ", ".join(
        f"{count:,} {reason}"
        for reason, count in sorted(
            report["rejected_per_reason"].items(), key=lambda item: -item[1]
        )
    )


def custom_properties(report: dict[str, Any]) -> list[tuple]:
    """(name, value) pairs recorded on the Examples artifact."""
    return [
        ("ingestion_files_seen", report["files_seen"]),
        ("ingestion_examples", report["examples"]),
        ("ingestion_rejected", report["rejected"]),
    ]
