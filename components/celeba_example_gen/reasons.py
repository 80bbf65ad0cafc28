"""Why a file was not ingested: the reason codes of the ingestion report, one per file.

Every input ends as an example or with exactly one of these; when several apply, the first check
that fails names it (folder entry, then list files, then the bytes).
"""

from data import celeba_files

# The folder entry itself.
HIDDEN_OR_SYSTEM = "hidden_or_system_file"
SYMLINK_OUTSIDE_ROOT = "symlink_leaving_data_root"
NOT_A_FILE = "not_a_regular_file"

# The attribute and partition files.
MALFORMED_ROW = celeba_files.MALFORMED_ROW
DUPLICATE_ROW = celeba_files.DUPLICATE_ROW
UNKNOWN_PARTITION = celeba_files.UNKNOWN_PARTITION
LISTED_BUT_MISSING = "listed_but_missing"
NOT_LISTED = "present_but_not_listed"

# The bytes, in the order they are checked.
UNREADABLE = "unreadable"
ZERO_BYTES = "zero_bytes"
FILE_TOO_LARGE = "file_too_large"
NOT_AN_IMAGE = "not_an_image"
FORMAT_NOT_ALLOWED = "format_not_allowed"
TOO_MANY_PIXELS = "too_many_pixels"
TOO_SMALL = "too_small"
TRUNCATED = "truncated"
UNDECODABLE = "undecodable"


class Rejected(Exception):
    """A file set aside: `reason` is one of the codes above, `detail` says what was seen."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
