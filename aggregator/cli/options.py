"""What every command's parser shares: the global options, a command with --help and an
example, a command with actions of its own."""

import argparse
from collections.abc import Callable
from functools import cache, partial
from typing import TypeAlias

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def command(
    group: Commands,
    name: str,
    handler: Callable[..., int] | None,  # given the Aggregator (db commands: the Storage)
    help: str,
    example: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A sub-command whose --help describes it and ends with an example."""
    sub = group.add_parser(
        name,
        parents=[global_options()],
        help=help,
        description=description or help,
        epilog=f"example: {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if handler is not None:
        sub.set_defaults(handler=handler)
    return sub


def group(
    commands: Commands,
    name: str,
    help: str,
    description: str,
    example: str,
) -> Callable[..., argparse.ArgumentParser]:
    """A command with actions of its own (``sources add``); adds an action when called."""
    parent = command(commands, name, None, help, example, description)
    actions = parent.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)
    return partial(command, actions)


def add_global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options every command takes, before or after its name (README "Commands").

    After the command they are parsed by the sub-command's own parser; their defaults
    are suppressed there, so a sub-command never resets what was given before its name.
    """
    unset = {} if defaults else {"default": argparse.SUPPRESS}
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $AGGREGATOR_CONFIG, else config/aggregator.toml)",
        **({"default": None} | unset),
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="log progress details", **unset
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="errors only: no log lines below error, no summary lines",
        **unset,
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="json: one JSON object per line, for log shippers",
        **({"default": "text"} | unset),
    )


@cache
def global_options() -> argparse.ArgumentParser:
    """A parent parser holding the global options, for every sub-command (argparse copies
    a parent's options; one is enough for all)."""
    options = argparse.ArgumentParser(add_help=False)
    add_global_options(options, defaults=False)
    return options
