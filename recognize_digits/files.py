"""Writing files so that nothing is ever half-written.

Every file the project writes goes to a temporary name in the destination folder and is then
renamed into place: a rename within one folder is atomic, so a crash, a kill or a full disk at
any moment leaves either the old file or the new one, never a broken one.
"""

import contextlib
import json
import os
import tempfile

from recognize_digits import RecognizeDigitsError


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it onto `path`, else delete it."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
    try:
        yield tmp
        with open(tmp, "rb") as f:  # flush the data to disk before the rename makes it visible
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_json(path, data):
    """Write `data` as indented JSON to `path`, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")


def check_save_dir(folder):
    """Create `folder` if need be and prove a file can be written there.

    Called before training, so that a read-only or full save dir is said at once, not after the
    first epoch.
    """
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    except OSError as err:
        raise RecognizeDigitsError(
            f"cannot write to the save dir {folder} ({err.strerror or err}); free some space or "
            f"choose another folder with --save-dir.") from None


@contextlib.contextmanager
def writing(what, folder):
    """Within this block, a failed write (a full disk, a vanished folder) is one clear error.

    The files themselves are written atomically (atomic_path), so the ones already there are kept.
    """
    try:
        yield
    except OSError as err:
        raise RecognizeDigitsError(
            f"could not write the {what} in {folder} ({err.strerror or err}); the files already "
            f"there are kept. Free some space, or choose another --save-dir.") from None


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
