import subprocess
import sys

from router import cli


def test_help_lists_every_command(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    for name in (
        "router",
        "plan",
        "compose",
        "check",
        "persisted-queries",
        "dev",
        "schema",
        "test",
    ):
        assert f"\n  {name} " in out


def test_shop_commands_come_from_the_entry_point_group_not_the_router():
    commands = cli.available_commands()
    assert set(cli.ROUTER_COMMANDS) == {"router", "plan", "compose", "check", "persisted-queries"}
    assert {name: commands[name] for name in ("dev", "schema", "test")} == {
        "dev": "subgraphs.commands.dev",
        "schema": "subgraphs.commands.schema",
        "test": "subgraphs.commands.test",
    }


def test_unknown_command_exits_2_and_names_it(capsys):
    assert cli.main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_console_script_entry_point_runs():
    done = subprocess.run(
        [sys.executable, "-m", "router.cli", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.startswith("usage: shopgraph <command>")
