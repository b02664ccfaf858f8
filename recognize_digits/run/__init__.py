"""Running the chapter as a program, safely: what train.py and infer.py need that the chapter
does not show.

    environment   prepare_paddle(): Paddle's log kept quiet, MKL's fast code on AMD CPUs
    cli           flags, one-line errors and exit statuses, standard output that may fail
    console       the log lines and the progress bar
    signals       Ctrl-C and SIGTERM stop training between two steps
    files         atomic writes, the save dir's checks and lock
    model_files   the exported model written aside, checked, renamed into place; checked on load
    checkpoint    what --resume needs, in one file that runs no code when read
    distributed   several processes under paddle.distributed.launch
    device        cpu or gpu
"""
