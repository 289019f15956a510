"""The workbench page in Gradio, fully offline, and the server that shows it.

Gradio is imported here only, and only when a page is built (``reclip[app]`` is an optional
extra). Offline means: no analytics, no version check, no share link, no server-side
rendering process, and a theme whose fonts are the system's (no web fonts); the page's
JS and CSS come from the local server. The browser test fails on any request elsewhere.

No ``from __future__ import annotations`` here: Gradio reads the callbacks' annotations
(``gr.Request``, ``gr.SelectData``) as objects to know what to pass them.
"""

import os
from dataclasses import dataclass
from typing import Any

from primitives import ReclipError
from reclip.app.views import vocabulary
from reclip.app.workbench import DEMO_PROPOSALS, Workbench
from reclip.proposals import PROPOSAL_SOURCES
from reclip.report.links import APP_HOST, APP_PORT

# Set before Gradio is imported: it reads them at import.
OFFLINE_ENVIRONMENT = {
    "GRADIO_ANALYTICS_ENABLED": "False",   # no analytics, no version check
    "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1",
}
SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "sans-serif"]
SYSTEM_MONO = ["ui-monospace", "Consolas", "monospace"]
CSS = """
#program-error pre.program-error { color: #b42318; background: #fff4f2; padding: 8px; margin: 0;
  white-space: pre; overflow-x: auto; font-family: ui-monospace, monospace; }
#picture img { image-rendering: pixelated; cursor: crosshair; }
"""
INTRO = ("# reclip workbench\nType an expression and press **Locate**; edit the **Program** and "
         "press **Run program**; click a proposal to mark the right answer; **Save case** keeps the fix "
         "as a regression case for `reclip check`.")


def gradio() -> Any:
    """Gradio, imported offline; a clear error when the ``app`` extra is not installed."""
    os.environ.update(OFFLINE_ENVIRONMENT)
    try:
        import gradio as gr
    except ImportError:
        raise ReclipError("the workbench needs Gradio: pip install 'reclip[app]'") from None
    return gr


def theme(gr: Any) -> Any:
    return gr.themes.Default(font=SYSTEM_FONTS, font_mono=SYSTEM_MONO)


def build_page(workbench: Workbench) -> Any:
    """The page (a ``gradio.Blocks``), wired to the workbench's callbacks."""
    gr = gradio()
    with gr.Blocks(title="reclip workbench", analytics_enabled=False) as page:
        state = gr.State(None)
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=5):
                gr.Markdown("**Proposals**: click one to mark it as the right answer (gold)")
                shown = {"picture": gr.Image(label="Proposals", show_label=False, type="pil", format="png",
                                             interactive=False, elem_id="picture", buttons=[])}
                shown["message"] = gr.Markdown(elem_id="message")
                with gr.Accordion("Image and proposals", open=False):
                    image = gr.Image(label="Image", type="filepath", sources=["upload"], elem_id="image-upload")
                    proposals_file = gr.File(label="Proposals file (JSON)", file_types=[".json"],
                                             type="filepath", elem_id="proposals-file")
                    source = gr.Dropdown(label="Proposal source (any spec reclip knows)", allow_custom_value=True,
                                         choices=_source_choices(workbench), elem_id="proposal-source",
                                         value=workbench.proposals or DEMO_PROPOSALS)
                    load = gr.Button("Use this source")
            with gr.Column(scale=5):
                expression = gr.Textbox(label="Expression", elem_id="expression")
                locate = gr.Button("Locate", variant="primary")
                shown["program"] = gr.Code(label="Program", language=None, lines=6, max_lines=16,
                                            wrap_lines=True, elem_id="program")
                run = gr.Button("Run program")
                shown["program_error"] = gr.HTML(elem_id="program-error")
                shown["answer"] = gr.Markdown(elem_id="answer")
                shown["diagnosis"] = gr.Markdown(elem_id="diagnosis")
                with gr.Row():
                    cases = gr.Textbox(label="Cases file", value=str(workbench.cases), elem_id="cases-path", scale=3)
                    save = gr.Button("Save case", scale=1)
        shown["trace"] = gr.HTML(elem_id="trace")
        with gr.Accordion("Relations, superlatives and ordinals (plugins included)", open=False):
            gr.Markdown(vocabulary(workbench.locator.registry), elem_id="vocabulary")
        shown["expression"] = expression
        outputs = [state, *shown.values()]

        def emit(scene: Any, out: dict[str, Any]) -> dict:
            return {state: scene, **{shown[k]: v for k, v in out.items()}}   # every name has its component

        def scene_of(scene: Any) -> Any:   # a click that comes before the page's load event
            return scene if scene is not None else workbench.demo()

        def on_load(request: gr.Request) -> dict:
            return emit(*workbench.initial(dict(request.query_params)))

        def on_select(scene: Any, evt: gr.SelectData) -> dict:
            x, y = evt.index
            return emit(*workbench.on_select(scene_of(scene), x, y))

        page.load(on_load, None, outputs)
        for trigger in (locate.click, expression.submit):
            trigger(lambda s, e: emit(*workbench.on_locate(scene_of(s), e)), [state, expression], outputs)
        run.click(lambda s, p: emit(*workbench.on_run(scene_of(s), p)), [state, shown["program"]], outputs)
        shown["picture"].select(on_select, [state], outputs)
        save.click(lambda s, p, c: emit(*workbench.on_save(scene_of(s), p, c)),
                   [state, shown["program"], cases], outputs)
        # a new image takes the uploaded proposals file, else the source; a new file is read at
        # once; the button uses the source (and drops the file, so what is shown is what is used)
        image.upload(lambda s, i, f, src: emit(*workbench.on_inputs(scene_of(s), i, f, src)),
                     [state, image, proposals_file, source], outputs)
        proposals_file.upload(lambda s, i, f: emit(*workbench.on_inputs(scene_of(s), i or _path(s), f, None)),
                              [state, image, proposals_file], outputs)

        def use_source(scene: Any, path: Any, spec: str) -> dict:
            return {**emit(*workbench.on_inputs(scene_of(scene), path or _path(scene), None, spec)),
                    proposals_file: None}

        load.click(use_source, [state, image, source], [*outputs, proposals_file])
    return page


def _path(scene: Any) -> Any:
    """With no upload, new proposals are for the image already shown."""
    return None if scene is None else (scene.image_path or scene.image)


def _source_choices(workbench: Workbench) -> list[tuple[str, str]]:
    """The proposal sources reclip knows (plugins included), read from their registry."""
    choices = [("the demo scene's proposals", DEMO_PROPOSALS)]
    if workbench.proposals and workbench.proposals != DEMO_PROPOSALS:
        choices.append((workbench.proposals, workbench.proposals))
    return choices + [(name, name) for name in PROPOSAL_SOURCES.names() if name != "file"]


@dataclass
class Server:
    """A running workbench: its ``url``; ``block()`` serves until interrupted, ``close()`` stops it."""

    url: str
    page: Any

    def block(self) -> None:
        try:
            self.page.block_thread()
        finally:
            self.close()

    def close(self) -> None:
        self.page.close()


def serve(workbench: Workbench, host: str = APP_HOST, port: int = APP_PORT, *, quiet: bool = True) -> Server:
    """Start the page's server on ``host:port`` (127.0.0.1 unless asked otherwise), in the
    background; ``Server.block()`` keeps it in the foreground."""
    gr = gradio()
    page = build_page(workbench)
    try:
        _, url, _ = page.launch(
            server_name=host, server_port=port, share=False, inbrowser=False, ssr_mode=False,
            prevent_thread_lock=True, quiet=quiet, show_error=False, footer_links=[],
            enable_monitoring=False, mcp_server=False, theme=theme(gr), css=CSS)
    except OSError:
        raise ReclipError(f"cannot listen on {host}:{port}: the port is in use or the address is not "
                          "this machine's (choose another with --port or --host)") from None
    return Server(url, page)
