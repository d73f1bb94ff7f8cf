"""HTML shared by the report and the feedback pages: escaping by default, tables, a standalone document."""

import html

# Neither page runs or loads anything: the policy stops a script that escaping might have missed, and any fetch.
CONTENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

BASE_CSS = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --rule: #d1d9e0; --good: #2f855a; --bad: #c05621;
        --mid: #d69e2e; --bar: #4a6fa5; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       max-width: 62rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; padding-bottom: .2rem; border-bottom: 1px solid var(--rule); }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
p.lead, .muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .3rem .5rem; border-bottom: 1px solid var(--rule); }
th { background: #f6f8fa; font-weight: 600; }
td.number, th.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: .85em/1.3 ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.passed { color: var(--good); }
.failed { color: var(--bad); }
.tag { font-size: .75rem; border: 1px solid var(--rule); border-radius: .6rem; padding: 0 .4rem; color: var(--muted);
       white-space: nowrap; }
@page { margin: 14mm 12mm; }
@media print {
  body { font-size: 10pt; max-width: none; margin: 0; padding: 0; }
  h2 { break-after: avoid; }
  tr, figure, .keep { break-inside: avoid; }
  thead { display: table-header-group; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"""


class Html(str):
    """A string of HTML that is already safe; every other value is escaped where it is put into a page."""


def text(value):
    """value as HTML: kept when it is Html, else escaped (quotes too, so it is safe in attributes)."""
    return value if isinstance(value, Html) else Html(html.escape(str(value), quote=True))


def join(*parts):
    return Html("".join(text(part) for part in parts))


def element(tag, content="", **attributes):
    """<tag attributes>content</tag>; a trailing underscore in an attribute name is dropped (class_)."""
    rendered = "".join(f' {name.rstrip("_").replace("_", "-")}="{text(value)}"' for name, value in attributes.items()
                       if value is not None)
    return Html(f"<{tag}{rendered}>{text(content)}</{tag}>")


def table(headers, rows, numeric=()):
    """A table; columns whose index is in numeric are right-aligned. Cells are escaped unless Html."""
    def cell(tag, index, value):
        return element(tag, value, class_="number" if index in numeric else None)
    head = element("thead", element("tr", join(*(cell("th", index, header) for index, header in enumerate(headers)))))
    body = element("tbody", join(*(element("tr", join(*(cell("td", index, value) for index, value in enumerate(row))))
                                   for row in rows)))
    return element("table", join(head, body))


def document(title, body, css=""):
    """A page that stands alone: its style inline, nothing fetched, nothing run."""
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_POLICY}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{text(title)}</title>\n<style>{BASE_CSS}{css}</style>\n</head>\n"
            f"<body>\n{text(body)}\n</body>\n</html>\n")


def points(value):
    """Points as the tables of grades show them: 2.5, 10; a dash where there is no grade."""
    return "–" if value is None else f"{value:g}"
