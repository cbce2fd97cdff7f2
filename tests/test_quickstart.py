"""The README's quick start works on a stock Debian or Ubuntu (PEP 668: the system pip is
"externally managed"), and CI runs exactly those commands (issue #20)."""

import re
import tomllib

from tests.support.project import REPO


def quick_start() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None, "no command block under Quick start"
    return block.group(1).strip().splitlines()


def test_ci_runs_the_quick_start_commands_as_written() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    commands = quick_start()
    assert len(commands) == 2
    for command in commands:
        assert command in ci, command


def test_the_quick_start_never_asks_the_system_pip() -> None:
    for command in quick_start():
        for step in command.split("&&"):
            words = step.split()
            # pip, python -m pip and the python that runs the tests are the virtual
            # environment's, which the first command makes.
            assert words[0] not in ("pip", "pip3", "python"), step
            if words[0] == "python3":
                assert words[1:3] == ["-m", "venv"], step
    assert quick_start()[0].startswith("python3 -m venv .venv && ")


def test_the_environment_is_ignored_by_git_and_by_pytest() -> None:
    ignored = (REPO / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".venv/" in ignored
    options = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pytest_options = options["tool"]["pytest"]["ini_options"]
    assert pytest_options["testpaths"] == ["tests"]
    assert ".*" in pytest_options["norecursedirs"]
