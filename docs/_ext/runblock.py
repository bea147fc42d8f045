"""A tiny Sphinx directive that executes Python at build time and shows code and output.

``runblock`` runs its content with ``exec`` in a namespace shared by all blocks of the
same document, captures what is printed, and renders the code followed by the output.
An exception fails the build, so every worked example in the docs is known to run.
"""

from __future__ import annotations

import contextlib
import io
import traceback

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.errors import ExtensionError


class RunBlock(Directive):
    """Execute the block's Python code and display it with its printed output."""

    has_content = True
    optional_arguments = 0
    option_spec: dict = {}

    def run(self) -> list[nodes.Node]:
        env = self.state.document.settings.env
        namespaces = env.temp_data.setdefault("runblock_namespaces", {})
        namespace = namespaces.setdefault(env.docname, {"__name__": "__runblock__"})
        code = "\n".join(self.content)
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, f"<{env.docname}>", "exec"), namespace)
        except Exception as exc:  # pragma: no cover - surfaces in the docs build
            raise ExtensionError(
                f"runblock in {env.docname} (line {self.lineno}) failed:\n{traceback.format_exc()}"
            ) from exc
        finally:
            import matplotlib.pyplot as plt

            plt.close("all")
        result: list[nodes.Node] = [nodes.literal_block(code, code, language="python")]
        output = buffer.getvalue()
        if output.strip():
            result.append(nodes.literal_block(output, output, language="text"))
        return result


def setup(app):
    app.add_directive("runblock", RunBlock)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
