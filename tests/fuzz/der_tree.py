"""A minimal DER walker: find a nested element and splice in other bytes, fixing every
enclosing length, so a mutated certificate still sits where a verifier looks for it."""

from __future__ import annotations

from dataclasses import dataclass

from csos_desktop.pki.der import length


@dataclass(frozen=True)
class Node:
    tag: bytes  # identifier octets
    start: int  # offset of the identifier
    header: int  # identifier + length octets
    size: int  # content length
    children: tuple[Node, ...]

    @property
    def end(self) -> int:
        return self.start + self.header + self.size


def parse(data: bytes, start: int = 0, end: int | None = None) -> list[Node]:
    """Definite-length DER elements in data[start:end], constructed ones walked."""
    end = len(data) if end is None else end
    out, i = [], start
    while i < end:
        tag_at = i
        i += 1
        if data[tag_at] & 0x1F == 0x1F:  # high tag number form
            while data[i] & 0x80:
                i += 1
            i += 1
        tag = data[tag_at:i]
        first = data[i]
        i += 1
        if first & 0x80:
            n = first & 0x7F
            size = int.from_bytes(data[i : i + n], "big")
            i += n
        else:
            size = first
        children = tuple(parse(data, i, i + size)) if data[tag_at] & 0x20 else ()
        out.append(Node(tag, tag_at, i - tag_at, size, children))
        i += size
    return out


def at(nodes: list[Node] | tuple[Node, ...], path: tuple[int, ...]) -> list[Node]:
    """The chain of nodes from the top down to *path* (child indexes)."""
    chain, level = [], nodes
    for index in path:
        node = level[index]
        chain.append(node)
        level = node.children
    return chain


def splice(data: bytes, path: tuple[int, ...], new: bytes) -> bytes:
    """*data* with the element at *path* replaced by *new* and its ancestors' lengths fixed."""
    chain = at(parse(data), path)
    target = chain[-1]
    out = data[: target.start] + new + data[target.end :]
    delta = len(new) - (target.end - target.start)
    for node in reversed(chain[:-1]):
        body = out[node.start + node.header : node.end + delta]
        head = node.tag + length(len(body))
        out = out[: node.start] + head + body + out[node.end + delta :]
        delta += len(head) - node.header
    return out
