"""Reading what a user hands the project (cluster.yaml, chameleon.local.yaml, a results
directory) within bounds: regular files only (not /dev/zero, a FIFO or a directory), at
most a set number of bytes, JSON no deeper than a set nesting, so no input of any size or
shape runs the controller out of memory or stack. Each refusal names the file and limit."""

from __future__ import annotations

import os
import re
import stat
from itertools import accumulate
from pathlib import Path

from gourmetops.errors import InputError

MAX_CONFIG_BYTES = 1024 * 1024  # cluster.yaml at 100 nodes is about 10 KB
MAX_JSON_DEPTH = 32  # experiment.json nests 6 deep (scenarios, samples, pods, usage)


class TooLarge(InputError):
    """An input file is not a regular file, or beyond a size or nesting limit."""


def read_capped(path: Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of `path`, a regular file of at most `limit` bytes. A missing or unreadable
    file raises OSError as open() does (the caller says what it is for)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            kind = "a directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "not a regular file"
            raise TooLarge(f"{path}: is {kind}; give a file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"{path}: is larger than {limit} bytes; it cannot be what is expected here")
    return data


# A JSON string (escapes included), unrolled so that the engine does not try an alternation
# at each character: the same strings; the check is twice as fast on a 20 MB results file.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth_ok(data: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """No array or object in `data` nests deeper than `limit` (checked before parsing, so
    a 100,000-deep document costs one scan, not the parser's stack)."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKET)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) <= limit
