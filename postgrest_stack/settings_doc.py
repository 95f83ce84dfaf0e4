"""Text derived from the settings declaration (:data:`postgrest_stack.settings.SETTINGS`).

- ``group_data/all.py``: the operator's documented home of every default, as pyinfra
  reads it (one assignment per setting, its documentation as comments);
- the settings table of ``docs/settings.md`` (between the two marker lines), the
  settings reference the README links to.

``python -m postgrest_stack settings-doc --write`` regenerates both; a unit test fails
when either differs from what this module generates.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from . import PROJECT_ROOT
from .settings import SETTINGS, Setting

GROUP_DATA_ALL = PROJECT_ROOT / "group_data" / "all.py"
SETTINGS_MD = PROJECT_ROOT / "docs" / "settings.md"
TABLE_BEGIN = "<!-- settings table: generated from postgrest_stack/settings/declared.py by `python -m postgrest_stack settings-doc --write`; do not edit by hand -->"
TABLE_END = "<!-- end of settings table -->"
WIDTH = 88

_ALL_HEADER = '''"""Defaults for every host: the operator's documented home of every setting.

Generated from the one declaration of the settings (SETTINGS in
postgrest_stack/settings/declared.py) by `python -m postgrest_stack settings-doc
--write`: change the declaration, then regenerate; a unit test fails when this file
differs from it.

Override per environment in group_data/<env>.py, per host in the inventory, or per run
with ``pyinfra ... --data key=value``. A key that is neither a setting nor pyinfra's own
(ssh_*, _sudo, ...) is refused. Secret values never live here: see
docs/settings.md ("Secrets") and postgrest_stack/secrets.py.
"""

from postgrest_stack.secrets import SecretRef
'''


def _python_value(setting: Setting) -> str:
    if setting.secret:
        return f"SecretRef({json.dumps(setting.secret)})"
    if isinstance(setting.default, str):
        return json.dumps(setting.default)
    return repr(setting.default)


def _comment(text: str) -> list[str]:
    return textwrap.wrap(text, WIDTH - 2, initial_indent="# ", subsequent_indent="# ",
                         break_long_words=False, break_on_hyphens=False)


def group_data_all() -> str:
    """The text of group_data/all.py."""
    lines = [_ALL_HEADER.rstrip("\n")]
    section = None
    for setting in SETTINGS:
        if setting.section != section:
            section = setting.section
            lines += ["", f"# --- {section} ".ljust(WIDTH, "-")]
        comment = setting.doc
        if setting.details:
            comment += " " + setting.details
        lines += _comment(comment)
        notes = [f"Accepts {setting.accepts}."]
        if setting.required:
            notes.append("Required.")
        if setting.default_doc and setting.default_doc != "none":
            notes.append(f"Default: {setting.default_doc.replace('`', '')}.")
        lines += _comment(" ".join(notes))
        lines.append(f"{setting.name} = {_python_value(setting)}")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Plain text in a Markdown table cell."""
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def doc_default(setting: Setting) -> str:
    """The settings table's default column for a setting."""
    if setting.default_doc:
        return setting.default_doc
    if setting.secret:
        return f"`${setting.secret}` or `secrets_file`"
    if setting.required:
        return "required"
    if setting.default is None:
        return "none"
    if isinstance(setting.default, bool):
        return f"`{str(setting.default).lower()}`"
    return f"`{setting.default}`"


def doc_rows() -> list[tuple[str, str, str, str]]:
    """``(setting, default, accepts, what)`` per declared setting, as docs/settings.md shows them."""
    return [(f"`{s.name}`", doc_default(s), _cell(s.accepts), s.doc) for s in SETTINGS]


def doc_table() -> str:
    lines = ["| setting | default | accepts | what |", "|---|---|---|---|"]
    lines += [f"| {' | '.join(row)} |" for row in doc_rows()]
    return "\n".join(lines) + "\n"


def doc_with_table(text: str, name: str = "docs/settings.md") -> str:
    """``text`` (the file ``name``) with the text between the table markers replaced by
    :func:`doc_table`."""
    begin, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if begin < 0 or end < begin:
        raise ValueError(f"{name} has no settings table markers ({TABLE_BEGIN!r} ... {TABLE_END!r})")
    return text[:begin] + TABLE_BEGIN + "\n" + doc_table() + text[end:]


def _shown(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def stale(doc: Path = SETTINGS_MD, group_data_all_path: Path = GROUP_DATA_ALL) -> list[str]:
    """The generated files that differ from the declaration."""
    out = []
    text = doc.read_text(encoding="utf-8")
    if doc_with_table(text, _shown(doc)) != text:
        out.append(_shown(doc))
    if group_data_all_path.read_text(encoding="utf-8") != group_data_all():
        out.append(_shown(group_data_all_path))
    return out


def write(doc: Path = SETTINGS_MD, group_data_all_path: Path = GROUP_DATA_ALL) -> list[Path]:
    """Regenerate what is stale; return the files written."""
    written = []
    text = doc.read_text(encoding="utf-8")
    if doc_with_table(text, _shown(doc)) != text:
        doc.write_text(doc_with_table(text, _shown(doc)), encoding="utf-8")
        written.append(doc)
    if group_data_all_path.read_text(encoding="utf-8") != group_data_all():
        group_data_all_path.write_text(group_data_all(), encoding="utf-8")
        written.append(group_data_all_path)
    return written
