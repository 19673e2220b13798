#!/usr/bin/env python
import gc
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from config.startup import settings_or_exit

    settings_or_exit("manage.py")  # a misconfiguration is one line, not a traceback
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
    # The command is done and the process ends: its objects are released as the
    # interpreter exits, but the collections it would run over all of Django's are skipped
    # (~0.1 s, a tenth of a weekly report run from the command line).
    gc.freeze()


if __name__ == "__main__":
    main()
