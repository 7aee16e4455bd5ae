#!/usr/bin/env python3
"""Doxygen INPUT_FILTER for include/uiscsi: the headers use plain // comments.

A comment on its own line documents the declaration below it (it becomes ///), a comment after
code documents that code (///<). Inside comments, the characters Doxygen would read as commands
or HTML (\\ @ < > &) are escaped, so the text appears as written. Code passes unchanged, and the
line count stays the same, so warnings point at the real lines.
Usage (Doxyfile): INPUT_FILTER = "python3 doc/doxygen_filter.py"; Doxygen appends the file name.
"""
import re
import sys

ESCAPES = str.maketrans({'\\': '\\\\', '@': '\\@', '<': '\\<', '>': '\\>', '&': '\\&'})


def comment_start(line):
    """Index of a // that starts a comment (not inside a string or char literal), or -1."""
    quote = None
    i = 0
    while i < len(line) - 1:
        c = line[i]
        if quote:
            if c == '\\':
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in '"\'':
            quote = c
        elif c == '/' and line[i + 1] == '/':
            return i
        i += 1
    return -1


def convert(line):
    at = comment_start(line)
    if at < 0:
        return line
    code, text = line[:at], line[at + 2:]
    if text.startswith('/'):  # already a Doxygen comment
        return line
    text = text.translate(ESCAPES)
    if code.strip():
        return f'{code}///<{text}'
    return f'{code}///{text}'


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        for line in f:
            end = '\n' if line.endswith('\n') else ''
            sys.stdout.write(convert(line.rstrip('\n')) + end)


if __name__ == '__main__':
    main()
