"""The command reference, generated from the click definitions at build time.

An mkdocs hook (``hooks:`` in mkdocs.yml): the page that holds the marker
``<!-- cli-reference -->`` gets, in its place, every command of ``modelmig``
with its usage line, its help text and a table of its options and arguments,
read from the click objects themselves, so the reference cannot fall behind
the CLI. ``tests/test_guide_build.py`` checks that every command and option
appears.
"""

from __future__ import annotations

from typing import Any

import click

MARKER = "<!-- cli-reference -->"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _option_names(ctx: click.Context, param: click.Option) -> str:
    value = "" if param.is_flag or param.count else " " + _metavar(ctx, param)
    names = [*param.opts, *param.secondary_opts]
    return ", ".join(f"`{n}{value}`" for n in names)


def _metavar(ctx: click.Context, param: click.Parameter) -> str:
    if _takes_ctx(param.make_metavar):
        return param.make_metavar(ctx)
    return param.make_metavar()  # type: ignore[call-arg]  # click < 8.2


def _param_row(ctx: click.Context, param: click.Parameter) -> str:
    if isinstance(param, click.Argument):
        metavar = _metavar(ctx, param)
        what = "argument" + (" (required)" if param.required else "")
        return f"| `{metavar}` | {what} |"
    assert isinstance(param, click.Option)
    help_text = (param.help or "").replace("``", "`")
    extra = []
    if param.multiple and "repeatable" not in help_text:
        extra.append("repeatable")
    help_text = help_text.rstrip(".")
    if param.show_default and param.default not in (None, False, ()):
        extra.append(f"default: `{param.default}`")
    if param.required:
        extra.append("required")
    if isinstance(param.type, click.Choice):
        extra.append("one of " + ", ".join(f"`{c}`" for c in param.type.choices))
    suffix = f" ({'; '.join(extra)})" if extra else ""
    return f"| {_option_names(ctx, param)} | {_cell(help_text)}{suffix}. |"


def _takes_ctx(method: Any) -> bool:
    import inspect

    return "ctx" in inspect.signature(method).parameters


def command_reference(group: click.Group, prog: str = "modelmig") -> str:
    """Markdown for ``group`` and each of its commands, in name order."""
    parts: list[str] = []
    root_ctx = click.Context(group, info_name=prog)
    parts.append(f"## `{prog}`\n\n{_cell(group.help or '')}\n")
    parts.append(_params_table(root_ctx, group))
    for name in sorted(group.commands):
        command = group.commands[name]
        ctx = click.Context(command, info_name=name, parent=root_ctx)
        usage = " ".join(command.collect_usage_pieces(ctx))
        parts.append(f"## `{name}`\n")
        parts.append(f"```text\n{prog} {name} {usage}\n```\n")
        help_text = (command.help or "").strip()
        if help_text:
            paragraphs = help_text.replace("``", "`").split("\n\n")
            parts.append("\n\n".join(" ".join(p.split()) for p in paragraphs) + "\n")
        parts.append(_params_table(ctx, command))
    return "\n".join(parts)


def _params_table(ctx: click.Context, command: click.Command) -> str:
    params = [p for p in command.get_params(ctx) if not getattr(p, "hidden", False)]
    if not params:
        return ""
    rows = [_param_row(ctx, p) for p in params]
    return "\n".join(["| option or argument | what it does |", "|---|---|", *rows]) + "\n"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """The mkdocs hook: replace the marker with the generated reference."""
    if MARKER not in markdown:
        return markdown
    from modelmig_core.cli import cli

    return markdown.replace(MARKER, command_reference(cli))
