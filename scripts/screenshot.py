#!/usr/bin/env python3
"""Render a tmux pane capture to a PNG that looks like a dark terminal.

    scripts/screenshot.py INPUT.ans OUTPUT.png [--cols N] [--rows N] [--font-size PX]
    scripts/screenshot.py A.ans B.ans ... OUTPUT.gif [--cols N] [--rows N] [--frame-ms MS]

Several captures and a .gif output make an animation: one frame per capture, in order.

INPUT is the output of `tmux capture-pane -e -p -N`: text with ANSI SGR escapes. `-N` matters:
without it tmux drops trailing spaces, and with them the background of a highlighted row that
runs to the right edge. Attributes carry across lines, as tmux writes only what changes from
one cell to the next.

The screen is a fixed grid of cols x rows cells (short lines are padded, long ones cut); by
default it is as large as the capture. Supported SGR codes: 0, 1 bold, 2 dim, 3 italic (the
oblique font when installed), 4 underline, 7 reverse, 8 hidden, 9 strike, 21/22/23/24/27/28/29,
30-37 90-97 39, 40-47 100-107 49, 38;5;n 48;5;n (xterm 256 palette), 38;2;r;g;b 48;2;r;g;b
(also in the colon forms). Any other escape sequence is skipped. Characters take one cell,
except East Asian wide/fullwidth ones, which take two as tmux gives them; combining marks join
the previous cell. Light and heavy box-drawing lines and block elements are drawn as shapes so
they join seamlessly, as terminals do; every other character comes from DejaVu Sans Mono (or
DejaVu Sans when the mono font lacks it).

Needs Pillow (`python3 -m pip install pillow`).
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from dataclasses import dataclass, replace

try:
    from PIL import Image, ImageDraw, ImageFont
except ImportError:  # pragma: no cover - a clear message instead of a traceback
    sys.exit("screenshot.py needs Pillow: python3 -m pip install pillow")

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
FONTS = {
    # (bold, italic) -> candidates, first that exists wins
    (False, False): ["DejaVuSansMono.ttf"],
    (True, False): ["DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf"],
    (False, True): ["DejaVuSansMono-Oblique.ttf", "DejaVuSansMono.ttf"],
    (True, True): ["DejaVuSansMono-BoldOblique.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf"],
}
# For characters the mono font lacks.
FALLBACK_FONTS = ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"]

# A dark theme, chosen to stay readable when scaled down in a README.
DEFAULT_FG = (0xD0, 0xD4, 0xDC)
DEFAULT_BG = (0x1E, 0x21, 0x28)
BORDER = (0x3A, 0x3F, 0x4B)
ANSI16 = [
    # Normal colours are mid-tone so they read both as text on the dark background and as a
    # background under light text (selected rows, badges); bright ones are lighter.
    (0x3A, 0x3F, 0x4B), (0xE0, 0x5A, 0x64), (0x5F, 0xB8, 0x5A), (0xD8, 0xB0, 0x4A),
    (0x3B, 0x82, 0xD6), (0xB0, 0x5C, 0xCF), (0x2F, 0xA7, 0xB8), (0xC5, 0xCA, 0xD3),
    (0x5C, 0x63, 0x70), (0xF0, 0x6E, 0x78), (0x8F, 0xD6, 0x7E), (0xF2, 0xD0, 0x6B),
    (0x6F, 0xAE, 0xF5), (0xD6, 0x8C, 0xF0), (0x5C, 0xD0, 0xDE), (0xF2, 0xF4, 0xF8),
]


def xterm_256(n: int) -> tuple[int, int, int]:
    """Colour n of the xterm 256-colour palette (0-15 are the theme's ANSI colours)."""
    n = max(0, min(255, n))
    if n < 16:
        return ANSI16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    level = 8 + (n - 232) * 10
    return (level, level, level)


# Colours are None (the default), ("i", index into the 256 palette) or ("rgb", (r, g, b)).
@dataclass(frozen=True)
class Style:
    fg: tuple | None = None
    bg: tuple | None = None
    bold: bool = False
    dim: bool = False
    italic: bool = False
    underline: bool = False
    reverse: bool = False
    hidden: bool = False
    strike: bool = False


PLAIN = Style()


def _ints(parts: list[str]) -> list[int]:
    out = []
    for p in parts:
        try:
            out.append(int(p) if p else 0)
        except ValueError:
            out.append(0)
    return out


def _extended_colour(head: list[int], rest: list[list[int]]):
    """Parse the colour after 38/48/58. `head` is the group (colon form keeps it all in one
    group: 38:5:n or 38:2:[cs]:r:g:b); `rest` are the following `;` groups, consumed in place
    for the semicolon form. Returns the colour, or None when malformed."""
    if len(head) > 1:  # colon form
        sub = head[1:]
        if sub[0] == 5 and len(sub) >= 2:
            return ("i", sub[1])
        if sub[0] == 2:
            rgb = sub[-3:] if len(sub) >= 4 else None
            if rgb:
                return ("rgb", tuple(max(0, min(255, v)) for v in rgb))
        return None
    if not rest:
        return None
    kind = rest.pop(0)[0]
    if kind == 5 and rest:
        return ("i", rest.pop(0)[0])
    if kind == 2 and len(rest) >= 3:
        r, g, b = (rest.pop(0)[0] for _ in range(3))
        return ("rgb", tuple(max(0, min(255, v)) for v in (r, g, b)))
    return None


def apply_sgr(style: Style, params: str) -> Style:
    """The style after `ESC [ params m`."""
    groups = [_ints(g.split(":")) for g in params.split(";")] if params else [[0]]
    s = style
    while groups:
        g = groups.pop(0)
        code = g[0]
        if code == 0:
            s = PLAIN
        elif code == 1:
            s = replace(s, bold=True)
        elif code == 2:
            s = replace(s, dim=True)
        elif code == 3:
            s = replace(s, italic=True)
        elif code == 4:
            # 4:0 is "no underline"; 4:1..4:5 are underline styles, drawn as a plain underline.
            s = replace(s, underline=not (len(g) > 1 and g[1] == 0))
        elif code == 7:
            s = replace(s, reverse=True)
        elif code == 8:
            s = replace(s, hidden=True)
        elif code == 9:
            s = replace(s, strike=True)
        elif code == 21:
            s = replace(s, underline=True)  # double underline
        elif code == 22:
            s = replace(s, bold=False, dim=False)
        elif code == 23:
            s = replace(s, italic=False)
        elif code == 24:
            s = replace(s, underline=False)
        elif code == 27:
            s = replace(s, reverse=False)
        elif code == 28:
            s = replace(s, hidden=False)
        elif code == 29:
            s = replace(s, strike=False)
        elif 30 <= code <= 37:
            s = replace(s, fg=("i", code - 30))
        elif 90 <= code <= 97:
            s = replace(s, fg=("i", code - 90 + 8))
        elif code == 39:
            s = replace(s, fg=None)
        elif 40 <= code <= 47:
            s = replace(s, bg=("i", code - 40))
        elif 100 <= code <= 107:
            s = replace(s, bg=("i", code - 100 + 8))
        elif code == 49:
            s = replace(s, bg=None)
        elif code in (38, 48, 58):
            colour = _extended_colour(g, groups)
            if colour is not None and code == 38:
                s = replace(s, fg=colour)
            elif colour is not None and code == 48:
                s = replace(s, bg=colour)
            # 58 (underline colour) is parsed only so its arguments are not read as codes.
        # Anything else (blink, fonts, overline, ...) is ignored.
    return s


# DEC special graphics (ESC ( 0), in case a capture ever contains it.
DEC_GRAPHICS = dict(zip("jklmnqtuvwx`afgy z~", "┘┐┌└┼─├┤┴┬│◆▒°±≤≥≠·"))


def char_width(ch: str) -> int:
    """Cells a character takes: 0 for combining marks, 2 for East Asian wide, else 1."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me") or ch in "\u200b\u200c\u200d\ufe0e\ufe0f":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


@dataclass
class Cell:
    text: str
    style: Style
    width: int = 1  # 2 for the first half of a wide character, 0 for its second half


def parse(data: str, cols: int, rows: int) -> list[list[Cell]]:
    """Lay the capture out on a cols x rows grid of cells."""
    blank = Cell(" ", PLAIN)
    grid = [[blank for _ in range(cols)] for _ in range(rows)]
    style = PLAIN
    row = col = 0
    graphics = False
    i, n = 0, len(data)

    def put(ch: str) -> None:
        nonlocal col
        w = char_width(ch)
        if w == 0:
            # Combining mark: join the previous cell (if any on this line).
            if 0 < col <= cols and row < rows:
                prev = col - 1
                if grid[row][prev].width == 0 and prev > 0:
                    prev -= 1
                c = grid[row][prev]
                grid[row][prev] = Cell(c.text + ch, c.style, c.width)
            return
        if row < rows and col + w <= cols:
            grid[row][col] = Cell(ch, style, w)
            if w == 2:
                grid[row][col + 1] = Cell("", style, 0)
        col += w

    while i < n:
        ch = data[i]
        if ch == "\x1b":
            nxt = data[i + 1] if i + 1 < n else ""
            if nxt == "[":  # CSI: parameters, intermediates, one final byte in @-~
                j = i + 2
                while j < n and not ("\x40" <= data[j] <= "\x7e"):
                    j += 1
                if j < n and data[j] == "m":
                    params = data[i + 2 : j]
                    if params[:1] not in ("?", ">", "<", "=") and all(c in "0123456789;:" for c in params):
                        style = apply_sgr(style, params)
                i = j + 1
            elif nxt in ("]", "P", "X", "^", "_"):  # OSC/DCS/...: up to BEL or ST
                j = i + 2
                while j < n and data[j] != "\x07" and not (data[j] == "\x1b" and data[j + 1 : j + 2] == "\\"):
                    j += 1
                i = j + (1 if j < n and data[j] == "\x07" else 2)
            elif nxt in "()*+":  # charset designation
                if nxt == "(":
                    graphics = data[i + 2 : i + 3] == "0"
                i += 3
            else:  # any other two-byte escape
                i += 2
            continue
        i += 1
        if ch == "\n":
            row += 1
            col = 0
        elif ch == "\r":
            col = 0
        elif ch == "\t":
            col = min(cols, (col // 8 + 1) * 8)
        elif ch < " " or ch == "\x7f" or "\x80" <= ch <= "\x9f":
            continue  # other control characters draw nothing
        else:
            put(DEC_GRAPHICS.get(ch, ch) if graphics else ch)
    return grid


def capture_size(data: str) -> tuple[int, int]:
    """The grid a capture needs: its widest line and its number of lines."""
    # Lines end with "\n", so the piece after the last one is not a row.
    nrows = data.count("\n") + (0 if data.endswith("\n") else 1)
    probe = parse(data, 10_000, max(nrows, 1))
    width = 0
    for r in probe:
        last = max((k + max(c.width, 1) for k, c in enumerate(r) if c.text not in (" ", "") or c.style != PLAIN), default=0)
        width = max(width, last)
    return max(width, 1), max(nrows, 1)


# --- drawing -----------------------------------------------------------------------------

def resolve(colour, default):
    if colour is None:
        return default
    kind, value = colour
    return xterm_256(value) if kind == "i" else value


def mix(a, b, t: float):
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b))


def colours(style: Style):
    fg = resolve(style.fg, DEFAULT_FG)
    bg = resolve(style.bg, DEFAULT_BG)
    if style.reverse:
        fg, bg = bg, fg
    if style.dim:
        fg = mix(fg, bg, 0.45)
    if style.hidden:
        fg = bg
    return fg, bg


# Box drawing: character -> (up, down, left, right) weights, 1 light, 2 heavy.
BOX = {
    "─": (0, 0, 1, 1), "━": (0, 0, 2, 2), "│": (1, 1, 0, 0), "┃": (2, 2, 0, 0),
    "┌": (0, 1, 0, 1), "┐": (0, 1, 1, 0), "└": (1, 0, 0, 1), "┘": (1, 0, 1, 0),
    "┏": (0, 2, 0, 2), "┓": (0, 2, 2, 0), "┗": (2, 0, 0, 2), "┛": (2, 0, 2, 0),
    "├": (1, 1, 0, 1), "┤": (1, 1, 1, 0), "┬": (0, 1, 1, 1), "┴": (1, 0, 1, 1), "┼": (1, 1, 1, 1),
    "┣": (2, 2, 0, 2), "┫": (2, 2, 2, 0), "┳": (0, 2, 2, 2), "┻": (2, 0, 2, 2), "╋": (2, 2, 2, 2),
    "╴": (0, 0, 1, 0), "╵": (1, 0, 0, 0), "╶": (0, 0, 0, 1), "╷": (0, 1, 0, 0),
    # Rounded corners are drawn square: at this size the difference is a pixel or two.
    "╭": (0, 1, 0, 1), "╮": (0, 1, 1, 0), "╰": (1, 0, 0, 1), "╯": (1, 0, 1, 0),
}


def block_rects(ch: str):
    """Block elements as fractions of the cell: list of (x0, y0, x1, y1), or None."""
    o = ord(ch)
    if o == 0x2588:
        return [(0, 0, 1, 1)]
    if 0x2581 <= o <= 0x2587:  # lower n/8
        return [(0, 1 - (o - 0x2580) / 8, 1, 1)]
    if 0x2589 <= o <= 0x258F:  # left n/8, from 7/8 down to 1/8
        return [(0, 0, (0x2590 - o) / 8, 1)]
    if ch == "▀":
        return [(0, 0, 1, 0.5)]
    if ch == "▐":
        return [(0.5, 0, 1, 1)]
    if ch == "▔":
        return [(0, 0, 1, 1 / 8)]
    if ch == "▕":
        return [(7 / 8, 0, 1, 1)]
    return None


class Renderer:
    def __init__(self, font_size: int):
        self.fonts = {}
        for key, names in FONTS.items():
            path = next((os.path.join(FONT_DIR, f) for f in names if os.path.exists(os.path.join(FONT_DIR, f))), None)
            if path is None:
                sys.exit(f"screenshot.py: no font found in {FONT_DIR} (install fonts-dejavu-core)")
            self.fonts[key] = ImageFont.truetype(path, font_size)
        self.fallbacks = [
            ImageFont.truetype(os.path.join(FONT_DIR, f), font_size)
            for f in FALLBACK_FONTS
            if os.path.exists(os.path.join(FONT_DIR, f))
        ]
        base = self.fonts[(False, False)]
        self.ascent, descent = base.getmetrics()
        self.cell_w = base.getlength("M")  # fractional, so text keeps the font's own spacing
        self.cell_h = self.ascent + descent
        self.line = max(1, round(font_size / 14))  # light line thickness
        self._missing = {}

    def lacks(self, font, text: str) -> bool:
        """Whether `font` would draw `text` as its .notdef box."""
        key = (id(font), text)
        if key not in self._missing:
            notdef = font.getmask(chr(0x10FFFF))
            mask = font.getmask(text[0])
            self._missing[key] = mask.size == notdef.size and bytes(mask) == bytes(notdef)
        return self._missing[key]

    def font_for(self, text: str, style: Style):
        font = self.fonts[(style.bold, style.italic)]
        if text.strip() and self.lacks(font, text):
            for alt in self.fallbacks:
                if not self.lacks(alt, text):
                    return alt
        return font

    def x(self, col: int) -> int:
        return round(self.margin + col * self.cell_w)

    def render(self, grid: list[list[Cell]], margin: int = 14) -> Image.Image:
        self.margin = margin
        rows, cols = len(grid), len(grid[0]) if grid else 0
        width = self.x(cols) + margin
        height = margin * 2 + rows * self.cell_h
        img = Image.new("RGB", (width, height), DEFAULT_BG)
        draw = ImageDraw.Draw(img)

        # Backgrounds first, so glyphs that overhang their cell are not cut by the next one.
        for r, line in enumerate(grid):
            y0 = margin + r * self.cell_h
            for c, cell in enumerate(line):
                _, bg = colours(cell.style)
                if bg != DEFAULT_BG:
                    draw.rectangle([self.x(c), y0, self.x(c + max(cell.width, 1)) - 1, y0 + self.cell_h - 1], fill=bg)

        for r, line in enumerate(grid):
            y0 = margin + r * self.cell_h
            for c, cell in enumerate(line):
                if cell.width == 0:
                    continue
                fg, _ = colours(cell.style)
                x0, x1 = self.x(c), self.x(c + cell.width)
                if cell.text != " " and not cell.style.hidden:
                    self.glyph(draw, cell, fg, x0, x1, y0)
                if cell.style.underline:
                    uy = y0 + self.ascent + max(1, self.line)
                    draw.rectangle([x0, uy, x1 - 1, uy + self.line - 1], fill=fg)
                if cell.style.strike:
                    sy = y0 + round(self.ascent * 0.62)
                    draw.rectangle([x0, sy, x1 - 1, sy + self.line - 1], fill=fg)

        return self.frame(img)

    def glyph(self, draw, cell: Cell, fg, x0: int, x1: int, y0: int) -> None:
        ch = cell.text
        y1 = y0 + self.cell_h
        if len(ch) == 1 and ch in BOX:
            self.box(draw, BOX[ch], fg, x0, x1, y0, y1)
            return
        rects = block_rects(ch) if len(ch) == 1 else None
        if rects:
            w, h = x1 - x0, y1 - y0
            for fx0, fy0, fx1, fy1 in rects:
                draw.rectangle(
                    [x0 + round(fx0 * w), y0 + round(fy0 * h), x0 + max(round(fx1 * w), 1) - 1, y0 + round(fy1 * h) - 1],
                    fill=fg,
                )
            return
        font = self.font_for(ch, cell.style)
        x = x0 + (cell.width - 1) * self.cell_w / 2 if cell.width > 1 else x0
        if font not in self.fonts.values():
            # A proportional fallback glyph: centre it in its cell(s).
            x = x0 + ((x1 - x0) - font.getlength(ch)) / 2
        draw.text((x, y0), ch, font=font, fill=fg, anchor="la")

    def box(self, draw, weights, fg, x0: int, x1: int, y0: int, y1: int) -> None:
        up, down, left, right = weights
        cx = x0 + (x1 - x0) // 2
        cy = y0 + (y1 - y0) // 2

        def thick(w: int) -> int:
            return self.line * (2 if w == 2 else 1)

        tv = thick(max(up, down))
        th = thick(max(left, right))
        vx0 = cx - (tv - 1) // 2
        hy0 = cy - (th - 1) // 2
        if up:
            draw.rectangle([vx0, y0, vx0 + thick(up) - 1, hy0 + th - 1 if (left or right) else cy], fill=fg)
        if down:
            draw.rectangle([vx0, hy0 if (left or right) else cy, vx0 + thick(down) - 1, y1 - 1], fill=fg)
        if left:
            draw.rectangle([x0, hy0, vx0 + tv - 1 if (up or down) else cx, hy0 + thick(left) - 1], fill=fg)
        if right:
            draw.rectangle([vx0 if (up or down) else cx, hy0, x1 - 1, hy0 + thick(right) - 1], fill=fg)

    @staticmethod
    def frame(img: Image.Image) -> Image.Image:
        """Rounded corners and a faint border, so the shot reads as a window on light and dark
        pages alike."""
        w, h = img.size
        radius = 8
        out = Image.new("RGBA", (w, h), (0, 0, 0, 0))
        mask = Image.new("L", (w, h), 0)
        ImageDraw.Draw(mask).rounded_rectangle([0, 0, w - 1, h - 1], radius=radius, fill=255)
        out.paste(img, (0, 0), mask)
        ImageDraw.Draw(out).rounded_rectangle([0, 0, w - 1, h - 1], radius=radius, outline=BORDER + (255,), width=1)
        return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Render a `tmux capture-pane -e -p -N` capture to a PNG.")
    ap.add_argument("inputs", nargs="+", metavar="input", help="capture file (text with ANSI SGR escapes); - for stdin")
    ap.add_argument("output", help="PNG to write, or GIF for an animation of every input")
    ap.add_argument("--cols", type=int, help="grid width in cells (default: the capture's widest line)")
    ap.add_argument("--rows", type=int, help="grid height in cells (default: the capture's line count)")
    ap.add_argument("--font-size", type=int, default=14, help="font size in pixels (default 14)")
    ap.add_argument("--frame-ms", type=int, default=1600, help="how long each GIF frame shows (default 1600)")
    args = ap.parse_args(argv)
    animated = args.output.lower().endswith(".gif")
    if len(args.inputs) > 1 and not animated:
        ap.error("several inputs make an animation: name a .gif output")

    renderer = Renderer(args.font_size)
    images = []
    for path in args.inputs:
        raw = sys.stdin.buffer.read() if path == "-" else open(path, "rb").read()
        data = raw.decode("utf-8", errors="replace")
        auto_cols, auto_rows = capture_size(data)
        cols = auto_cols if args.cols is None else args.cols
        rows = auto_rows if args.rows is None else args.rows
        if cols < 1 or rows < 1:
            ap.error("--cols and --rows must be positive")
        images.append(renderer.render(parse(data, cols, rows)))

    if not animated:
        images[0].save(args.output, optimize=True)
        return 0
    # GIF has no partial transparency: flatten the rounded corners onto the terminal's colour.
    flat = []
    for img in images:
        base = Image.new("RGB", img.size, DEFAULT_BG)
        base.paste(img, (0, 0), img if img.mode == "RGBA" else None)
        flat.append(base.quantize(colors=255, method=Image.Quantize.MEDIANCUT))
    flat[0].save(args.output, save_all=True, append_images=flat[1:], duration=args.frame_ms, loop=0, optimize=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
