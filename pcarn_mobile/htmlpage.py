"""Self-contained HTML pages: one file, images inline, no script, font or style fetched from anywhere.

A report gets mailed to a colleague or opened on a phone with no network, so everything it needs
is in the file, the layout reflows on a narrow screen, every image has alt text, and tables have
captions and header cells a screen reader can follow.
"""
from __future__ import annotations

from html import escape
from typing import Iterable, Sequence

from .pictures import Comparison, level_text

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:1em;max-width:72em;color:#111;background:#fff}
h1{font-size:1.5em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ccc}h3{font-size:1.05em}
table{border-collapse:collapse;margin:.5em 0 1.5em;display:block;overflow-x:auto}
caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
thead th{background:#f2f2f2}
.bad{color:#a00;font-weight:700}.ok{color:#060;font-weight:700}
.row{display:flex;flex-wrap:wrap;gap:.5em;margin:.25em 0 1em}
figure{margin:0}figcaption{font-size:.85em}
img{image-rendering:pixelated;width:192px;height:auto;max-width:45vw;border:1px solid #888}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}
""".strip()


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n")


def verdict_html(verdict: str) -> str:
    return f'<span class="{"ok" if verdict == "OK" else "bad"}">{escape(verdict)}</span>'


def table(caption: str, headers: Sequence[str], rows: Iterable[Sequence[str]], raw: bool = False) -> str:
    """A table whose first cell of each row is its row header; cells are escaped unless ``raw``."""
    cell = (lambda c: c) if raw else escape
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(f'<tr><th scope="row">{cell(r[0])}</th>' + "".join(f"<td>{cell(c)}</td>" for c in r[1:]) + "</tr>"
                   for r in rows)
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def definitions(items: Iterable[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in items) + "</dl>"


def comparison_html(c: Comparison, note: str = "") -> str:
    """One image's row of panels with a caption saying what is shown and how far apart the outputs are."""
    y, x, side = c.window
    figures = "".join(
        f'<figure><img src="{p.uri}" alt="{escape(p.alt)}" width="{p.size[0]}" height="{p.size[1]}">'
        f"<figcaption>{escape(p.title)}</figcaption></figure>" for p in c.panels)
    psnr = c.psnr_db if isinstance(c.psnr_db, str) else f"{c.psnr_db:.2f}"
    caption = (f"{c.image}{note}: {side}x{side} output pixels at ({y}, {x}), where the difference is largest; "
               f"{psnr} dB over the whole image, largest difference {c.max_levels:g} levels; "
               f"the map's white is {level_text(c.white_levels)}")
    return f'<h3>{escape(c.image)}{escape(note)}</h3><p>{escape(caption)}</p><div class="row">{figures}</div>'
