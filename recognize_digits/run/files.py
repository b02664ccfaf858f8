"""Writing files so that nothing is ever half-written, and one run at a time in a save dir.

Every file the project writes goes to a temporary name in the destination folder and is then
renamed into place: a rename within one folder is atomic, so a crash, a kill or a full disk at
any moment leaves either the old file or the new one, never a broken one. A run that is killed
can leave its temporary files behind (`.NAME.XXXXXXXX.tmp`); the next run in the same save dir
removes them (model_files.remove_leftovers), under the save dir's lock (lock_save_dir).
"""

import contextlib
import json
import os
import sys
import tempfile
import warnings

from recognize_digits import RecognizeDigitsError

with warnings.catch_warnings():
    # Where the OS has no flock (only a test that hides fcntl, as on Windows, but not on Windows)
    # filelock warns, on import, that it falls back to a lock without the OS's help.
    warnings.simplefilter("ignore", UserWarning)
    import filelock

LOCK_FILE = ".train.lock"  # in the save dir: holds the PID of the run writing there...
PID_OFFSET = 1  # ...from its second byte on
TMP_SUFFIX = ".tmp"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; on success rename it onto `path`, else delete it."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.",
                               suffix=TMP_SUFFIX)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
    try:
        yield tmp
        fsync(tmp)  # the data on the disk before the rename makes it visible
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def fsync(path):
    """Flush the file at `path` to the disk. (Opened for writing: Windows' fsync needs that.)"""
    with open(path, "r+b") as f:
        os.fsync(f.fileno())


def write_json(path, data):
    """Write `data` as indented JSON to `path`, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")


def check_save_dir(folder):
    """Create `folder` if need be and prove a file can be written there.

    Called before training, so that a read-only or full save dir is said at once, not after the
    first epoch. A name that is not valid UTF-8 is refused too: paddle.jit.save cannot write
    there; and so is a UTF-8 name that Python cannot write as such (an ASCII file-system
    encoding, LC_ALL=C without Python's UTF-8 mode), since paddle.jit.save creates its folders
    from Python and writes its files from C++.
    """
    path = os.path.abspath(folder)
    if not is_utf8(path):
        raise RecognizeDigitsError(
            f"cannot use the save dir {shown(folder)}: Paddle cannot write to a path that is not "
            f"valid UTF-8; choose another folder with --save-dir.")
    if os.fsencode(path).decode("utf-8") != path:
        raise RecognizeDigitsError(
            f"cannot use the save dir {shown(folder)}: this Python reads file names as "
            f"{sys.getfilesystemencoding()}, and Paddle's export needs one it can write as "
            f"UTF-8; run Python in UTF-8 mode (python -X utf8 train.py ..., or PYTHONUTF8=1), "
            f"or choose a --save-dir with an ASCII name.")
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


def check_paddle_cache():
    """Prove Paddle can write in ~/.cache/paddle, where paddle.jit.save keeps temporary files.

    Paddle finds that folder through HOME alone; on a read-only HOME the export would fail
    after the first epoch. Called before training, so that it is said at once.
    """
    folder = os.path.join(os.path.expanduser("~"), ".cache", "paddle")
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise RecognizeDigitsError(
            f"Paddle cannot write in {folder} ({err.strerror or err}), where it keeps temporary "
            f"files while it exports the model: point HOME at a writable folder, e.g. "
            f"HOME=/tmp/home python train.py ...") from None


def lock_save_dir(folder):
    """Claim `folder` for this run: a second train.py into it is refused, naming this one's PID.

    An OS lock on the file `.train.lock` in the folder, taken with filelock, which uses the lock
    each OS has (flock on Linux and macOS, LockFileEx on Windows). The lock lasts until the
    returned SaveDirLock is closed, or the process dies in any way: the OS then releases it, so a
    killed run leaves no stale lock behind. The file also holds the PID of the run that has it,
    from its second byte on (Windows' lock covers the first, which no other process may read).
    """
    path = os.path.join(folder, LOCK_FILE)
    lock = filelock.FileLock(path, timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RecognizeDigitsError(
            f"{folder} is in use by another train.py (PID {_lock_holder(path)}): wait for it to "
            f"finish, or train into another --save-dir.") from None
    with open(path, "r+b") as f:
        f.seek(PID_OFFSET)
        f.write(f"{os.getpid()}\n".encode())
        f.truncate()
    return SaveDirLock(lock)


class SaveDirLock:
    """The lock lock_save_dir took: held until close(), or until the process ends."""

    def __init__(self, lock):
        self.lock = lock

    def close(self):
        self.lock.release()


def _lock_holder(path):
    """The PID the lock file at `path` names, or "unknown" (not written yet, or unreadable)."""
    try:
        with open(path, "rb") as f:
            f.seek(PID_OFFSET)
            pid = f.read(32).decode("ascii", "replace").strip("\0\n ")
    except OSError:
        pid = ""
    return pid or "unknown"


def remove_temporary_files(folder):
    """Delete the temporary files (atomic_path's `.NAME.XXXXXXXX.tmp`) a killed run left."""
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if name.startswith(".") and name.endswith(TMP_SUFFIX) and os.path.isfile(path):
            with contextlib.suppress(OSError):
                os.remove(path)


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


def is_utf8(path):
    """Whether the file name `path` is valid UTF-8, which Paddle needs: its own bytes, whatever
    the file-system encoding Python decoded them with (an ASCII one keeps UTF-8 as surrogates)."""
    try:
        os.fsencode(path).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def shown(path):
    """`path` for a message: bytes that are not UTF-8 shown as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
