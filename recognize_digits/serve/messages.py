"""The server's error messages as the page shows them: in the page's language, about "your drawing".

infer.py's one-line messages are written for a terminal: they name the file, the library that
could not read it, and flags such as --digits. A script that POSTs to /predict gets those same
lines. A browser says which languages its user reads (Accept-Language), and the page may choose
one (`?lang=en` or `?lang=zh`); such a request gets the message retold here, in that language,
naming no library, and calling a drawing (`?drawing=1`) "your drawing".
"""

import urllib.parse

LANGUAGES = ("en", "zh")

# (what infer.py's message contains, the kind of trouble), first match wins.
KINDS = [
    ("no digit found in", "blank"),
    ("is empty (0 bytes)", "empty"),
    ("too large to be a digit", "too_many_pixels"),
    ("MB allowed", "too_many_bytes"),
    ("pieces of ink, too many", "too_many_pieces"),
    ("ink that is no digit", "stray_ink"),
    ("the server failed", "server"),
    ("not an image", "unreadable"),
    ("damaged or truncated", "unreadable"),
    ("which Pillow reads with", "unreadable"),
]

TEXT = {
    "en": {
        "drawing": "your drawing",
        "file": "this file",
        "blank": "No digit found in {what}: it is blank.",
        "empty": "{What} is empty (0 bytes), not an image.",
        "unreadable": "{What} is not an image this page can read, or it is damaged: "
                      "try a PNG or a JPEG.",
        "too_many_pixels": "{What} has too many pixels to be a digit: make it smaller first.",
        "too_many_bytes": "{What} is larger than 10 MB: choose a smaller file.",
        "too_many_pieces": "{What} has too many separate marks to be a number: {fix}.",
        "stray_ink": "{What} has a mark that belongs to no digit: {fix}.",
        "server": "The server could not read {what} (a fault of the server's): try again.",
        "other": "{What} could not be read: {detail}",
        "fix_drawing": "undo it, or clear and draw again",
        "fix_file": "crop the picture to the number",
    },
    "zh": {
        "drawing": "你写的数字",
        "file": "这个文件",
        "blank": "{what}里没有找到数字：画板是空白的。",
        "empty": "{what}是空的（0 字节），不是图像。",
        "unreadable": "{what}不是本页能读取的图像，或者已经损坏：请换成 PNG 或 JPEG。",
        "too_many_pixels": "{what}的像素太多，不像一个数字：请先缩小。",
        "too_many_bytes": "{what}大于 10 MB，请换一个小一些的文件。",
        "too_many_pieces": "{what}里分开的笔画太多，不像一个数：{fix}。",
        "stray_ink": "{what}里有不属于任何数字的笔迹：{fix}。",
        "server": "服务器没能读取{what}（是服务器的问题）：请再试一次。",
        "other": "无法读取{what}：{detail}",
        "fix_drawing": "请撤销，或清除后重写",
        "fix_file": "请把图片裁剪到数字",
    },
}


def language(query, accept_language):
    """'en' or 'zh' from ?lang=, else from the Accept-Language header; None when neither says
    (a script: it gets infer.py's own line)."""
    chosen = urllib.parse.parse_qs(query).get("lang", [""])[0].lower()[:2]
    if chosen in LANGUAGES:
        return chosen
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return None


def for_page(message, query, accept_language):
    """infer.py's (or the server's) message, retold for the request's language and source."""
    lang = language(query, accept_language)
    if lang is None:
        return message
    fields = urllib.parse.parse_qs(query)
    text = TEXT[lang]
    drawing = fields.get("drawing", [""])[0] == "1"
    name = fields.get("name", [""])[0][:200]
    if drawing:
        what = text["drawing"]
    elif name:
        what = f"“{name}”" if lang == "zh" else name
    else:
        what = text["file"]
    kind = next((kind for part, kind in KINDS if part in message), "other")
    detail = message.replace(name, "").strip(" :") if name else message
    capital = what if name and not drawing else what[:1].upper() + what[1:]  # not a file's name
    return text[kind].format(what=what, What=capital, detail=detail,
                             fix=text["fix_drawing" if drawing else "fix_file"])
