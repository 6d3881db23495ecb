"""What a command does when it fails: one line on stderr and exit code 2 for anything the user
can fix (a setting, a file, a revision, the database), never a traceback. Only bugs show one."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from bot.errors import SwitchboardError

USAGE = 2


def say(message: str) -> None:
    print(f"switchboard: {message}", file=sys.stderr)


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    try:
        code = func(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe must end below, not in a trace
        return code
    except SwitchboardError as error:
        say(str(error))
        return USAGE
    except BrokenPipeError:
        # `switchboard report ... | head`: the reader left. Python would print a traceback
        # when it flushes stdout at exit; point stdout at /dev/null so it cannot.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        say("output closed before the command finished (broken pipe); stopped")
        return USAGE
    except OSError as error:
        if error.filename is None:  # a network error: not a path the user gave
            raise
        say(f"cannot use {error.filename}: {error.strerror or error}")
        return USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        from routing.config import RoutingFileError  # imported only when needed: start-up time

        if not isinstance(error, RoutingFileError):
            raise
        say(str(error))
        return USAGE
