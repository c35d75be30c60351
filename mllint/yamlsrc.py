"""Positioned YAML: compose nodes with libyaml (through PyYAML, else ruamel.yaml), safely, and read them with spans.

Composing (not constructing) means no tag ever builds an object, and every node keeps its marks.
Nesting depth is bounded before libyaml sees the text (the C composer crashes the process on very
deep input), alias expansion is bounded by a visit budget, and a document that fails to parse does
not lose the documents after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any

from mllint import lazy_re
from mllint.model import Diagnostic, Span, source_lines

if TYPE_CHECKING:
    import yaml.nodes
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

MAX_DEPTH = 1000
# A document may stand for at most this many nodes once its aliases are followed, plus EXPANSION_FACTOR times
# the nodes it writes: templates that reuse blocks stay far below, alias bombs (a few hundred bytes that stand
# for millions of nodes) stop here.
EXPANDED_NODES = 100_000
EXPANSION_FACTOR = 20
# A file stops being read at this many syntax errors (each one means parsing the rest of the file again)
MAX_SYNTAX_ERRORS = 200
_DOC_START = lazy_re.compile(r"^---", re.M)
_FLOW_CHARS = lazy_re.compile(r"[^\[\]{}]+")
_BRACKET_PAIR = lazy_re.compile(r"[\[{][\]}]")

_yaml: Any = None
_pure_yaml: Any = None


def _loader() -> Any:
    global _yaml
    if _yaml is None:
        from ruamel.yaml import YAML

        try:
            _yaml = YAML(typ="safe", pure=False)
        except Exception:  # pragma: no cover - C extension missing
            _yaml = YAML(typ="safe", pure=True)
        fast_resolver(_yaml)
    return _yaml


def _compose_all(text: str) -> Iterator[Any]:
    """The documents of `text`, composed by libyaml: through PyYAML's binding where it is installed with libyaml
    (a third faster than ruamel's: lighter node objects, no tag object per node), else through ruamel's."""
    loader_class = _libyaml_loader_class() or _c_loader_class()
    if loader_class is None:  # pragma: no cover - neither C extension installed
        yield from _loader().compose_all(text)
        return
    loader = loader_class(text)
    try:
        while loader.check_node():
            yield loader.get_node()
    finally:
        loader.dispose()
        if hasattr(loader, "__dict__"):
            loader.__dict__.clear()  # ruamel's loader refers to itself: freed now, not by the cycle collector


@cache
def _libyaml_loader_class() -> type | None:
    """PyYAML's C parser with YAML 1.2's tags: the same nodes as ruamel's C path gives (scalars, sequences and
    mappings with their marks, tags and styles), on every one of 7,804 real files; None without PyYAML's libyaml."""
    try:
        from yaml import nodes
        from yaml._yaml import CParser
    except ImportError:  # pragma: no cover - PyYAML built without libyaml
        return None
    table, anywhere = _core_table()
    scalar, sequence = nodes.ScalarNode, nodes.SequenceNode
    text_tag, seq_tag, map_tag = "tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"

    class Loader(CParser):
        def descend_resolver(self, current_node: Any, current_index: Any) -> None:
            pass

        def ascend_resolver(self) -> None:
            pass

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            if kind is scalar:
                if implicit[0]:
                    for tag, regexp in table.get(value[:1], ()) + anywhere:
                        if regexp.match(value):
                            return tag
                return text_tag
            return seq_tag if kind is sequence else map_tag

    return Loader


@cache
def _core_table() -> tuple[dict[Any, tuple[tuple[str, Any], ...]], tuple[tuple[str, Any], ...]]:
    """YAML 1.2's implicit tags by the first character of a plain scalar (ruamel.yaml's table), with compiled
    patterns: ruamel wraps each in a lazy proxy whose every `match` runs Python code."""
    from ruamel.yaml.resolver import VersionedResolver

    def compiled(regexp: Any) -> Any:
        lazy = getattr(regexp, "lazy_self", None)
        return lazy() if lazy is not None else regexp

    table = {
        key: tuple((str(tag), compiled(regexp)) for tag, regexp in rows)
        for key, rows in VersionedResolver(version=(1, 2)).versioned_resolver.items()
    }
    return table, table.get(None, ())


@cache
def _c_loader_class() -> type | None:
    """The class ruamel.yaml's `YAML.get_constructor_parser` builds for the C parser, built once."""
    yaml = _loader()
    if yaml.Parser.__name__ != "CParser":  # pragma: no cover - C extension missing
        return None
    parser, constructor, resolver = yaml.Parser, yaml.Constructor, yaml.Resolver

    class Loader(parser, constructor, resolver):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str) -> None:
            parser.__init__(self, stream)
            self._parser = self._composer = self
            constructor.__init__(self, loader=self)
            self.allow_duplicate_keys = yaml.allow_duplicate_keys
            resolver.__init__(self, version=yaml.version, loadumper=self)

    return Loader


def fast_resolver(yaml: Any) -> None:
    """Give a YAML instance on the C path the resolver below (the same tags, found faster)."""
    if yaml.Parser.__name__ == "CParser":
        yaml.Resolver = _core_resolver()


@cache
def _core_resolver() -> type:
    """ruamel.yaml's resolver with YAML 1.2's table looked up once. On the C path the versioned resolver always
    reads 1.2 (the C parser records no `%YAML` directive), but it finds that out again for every scalar, through
    three caught AttributeErrors; the tags this resolver gives are the same."""
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode
    from ruamel.yaml.resolver import VersionedResolver
    from ruamel.yaml.tag import Tag

    table, anywhere = _core_table()

    class CoreResolver(VersionedResolver):
        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
            if kind is ScalarNode and implicit[0]:
                for tag, regexp in table.get(value[:1], ()) + anywhere:
                    if regexp.match(value):
                        return Tag(suffix=tag)
                implicit = implicit[1]
            if self.yaml_path_resolvers:  # pragma: no cover - mllint registers none
                return super().resolve(kind, value, implicit)
            if kind is ScalarNode:
                return self.DEFAULT_SCALAR_TAG
            if kind is SequenceNode:
                return self.DEFAULT_SEQUENCE_TAG
            if kind is MappingNode:
                return self.DEFAULT_MAPPING_TAG
            return None

    return CoreResolver


def _pure_loader() -> Any:
    """ruamel.yaml's own parser: slower, but YAML 1.2 where libyaml is 1.1 (`[no-new-privileges:true]`,
    a colon inside a flow scalar, is valid YAML 1.2 and Compose reads it; libyaml refuses it)."""
    global _pure_yaml
    if _pure_yaml is None:
        from ruamel.yaml import YAML

        _pure_yaml = YAML(typ="safe", pure=True)
    return _pure_yaml


def parser_in_use() -> str:
    """The parser that reads YAML first: `yaml._yaml.CParser` (PyYAML's libyaml), `_ruamel_yaml.CParser`, or
    ruamel's pure `Parser` (about 8x slower)."""
    loader = _libyaml_loader_class() or _c_loader_class()
    parser = loader.__mro__[1] if loader is not None else _loader().Parser
    return f"{parser.__module__}.{parser.__name__}"


class Node:
    """Type tags of composed nodes, resolved once: PyYAML's (libyaml) and ruamel's (its pure parser reads
    what libyaml refuses), which have the same fields."""

    Mapping: tuple[type[MappingNode] | type[yaml.nodes.MappingNode], ...]
    Sequence: tuple[type[SequenceNode] | type[yaml.nodes.SequenceNode], ...]
    Scalar: tuple[type[ScalarNode] | type[yaml.nodes.ScalarNode], ...]


def _node_types() -> None:
    from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

    Node.Mapping, Node.Sequence, Node.Scalar = (MappingNode,), (SequenceNode,), (ScalarNode,)
    try:
        from yaml import nodes
    except ImportError:  # pragma: no cover - PyYAML missing
        return
    Node.Mapping += (nodes.MappingNode,)
    Node.Sequence += (nodes.SequenceNode,)
    Node.Scalar += (nodes.ScalarNode,)


def span(path: str, node: Any) -> Span:
    """1-based start, and an exclusive end (SARIF's convention)."""
    s, e = node.start_mark, node.end_mark
    return Span(path, s.line + 1, s.column + 1, e.line + 1, e.column + 1)


def scalar_span(path: str, node: Any) -> Span:
    """The span of a scalar, kept to its first line (block scalars end on a later line)."""
    s, e = node.start_mark, node.end_mark
    if e.line == s.line:
        return Span(path, s.line + 1, s.column + 1, e.line + 1, max(e.column, s.column + 1) + 1)
    return Span(path, s.line + 1, s.column + 1, s.line + 1, s.column + 2)


def is_map(node: Any) -> bool:
    return isinstance(node, Node.Mapping)


def is_seq(node: Any) -> bool:
    return isinstance(node, Node.Sequence)


def is_scalar(node: Any) -> bool:
    return isinstance(node, Node.Scalar)


def get(node: Any, key: str) -> Any:
    """The value node under `key` in a mapping node (the last one if duplicated), or None.
    Merge keys (`<<: *defaults`) are followed, as Compose files use them."""
    item = get_item(node, key)
    return item[1] if item is not None else None


def get_item(node: Any, key: str, _depth: int = 0) -> tuple[Any, Any] | None:
    """(key node, value node) for `key`, or None."""
    found = merge = None
    if isinstance(node, Node.Mapping):
        for k, v in node.value:
            if isinstance(k, Node.Scalar):
                if k.value == key:
                    found = (k, v)
                elif k.value == "<<":
                    merge = v
    if found is None and merge is not None and _depth < 8:
        for source in reversed(merge.value) if isinstance(merge, Node.Sequence) else (merge,):
            found = get_item(source, key, _depth + 1)
            if found is not None:
                break
    return found


def text(node: Any) -> str | None:
    """The scalar's text, or None when the node is missing, null or not a scalar. An unquoted `{{ x }}`
    template, which YAML reads as a flow mapping, is a scalar too: its text is the template (`template`)."""
    if isinstance(node, Node.Scalar) and node.tag != "tag:yaml.org,2002:null":
        return str(node.value)
    return template(node)


def template(node: Any) -> str | None:
    """`{{ .Values.x }}` written without quotes, as a template, where YAML reads a flow mapping whose only key
    is another flow mapping (`{ {.Values.x: null}: null }`); None for any other node. The inner braces must
    open right after the outer ones, so `{ {a: b}: c }` is a mapping, not a template."""
    if not isinstance(node, Node.Mapping) or not node.flow_style or len(node.value) != 1:
        return None
    key, value = node.value[0]
    if not (isinstance(key, Node.Mapping) and key.flow_style and _null(value)) or len(key.value) > 1:
        return None
    start, inner = node.start_mark, key.start_mark
    if (inner.line, inner.column) != (start.line, start.column + 1):
        return None
    if not key.value:
        return "{{ }}"
    words, rest = key.value[0]
    if not (isinstance(words, Node.Scalar) and _null(rest)):
        return None
    return f"{{{{ {words.value} }}}}"


def is_template(node: Any) -> bool:
    """A `{{ }}` template that YAML read as a flow mapping: an unresolved value, never a wrong shape."""
    return template(node) is not None


def _null(node: Any) -> bool:
    return isinstance(node, Node.Scalar) and node.tag == "tag:yaml.org,2002:null" and not node.value


def typed(node: Any) -> Any:
    """A scalar as YAML 1.2's core schema reads it: boolean, integer, float, null, else the string."""
    tag, value = node.tag, node.value
    if tag.endswith(":bool"):
        return value.lower() in ("true", "yes", "on")
    if tag.endswith(":int"):
        try:
            return int(value)
        except ValueError:
            return value
    if tag.endswith(":float"):
        try:
            return float(value)
        except ValueError:
            return value
    if tag.endswith(":null"):
        return None
    return value


def items(node: Any, _depth: int = 0) -> Iterator[tuple[str, Any, Any]]:
    """(key, key node, value node) for each entry, merged entries (`<<`) first as YAML orders them."""
    if isinstance(node, Node.Mapping):
        own = [(k, v) for k, v in node.value if isinstance(k, Node.Scalar)]
        own_keys = {k.value for k, _v in own}
        for k, v in own:
            if k.value == "<<" and _depth < 8:
                for source in v.value if isinstance(v, Node.Sequence) else (v,):
                    for key, kn, vn in items(source, _depth + 1):
                        if key not in own_keys:
                            yield key, kn, vn
        for k, v in own:
            if k.value != "<<":
                yield str(k.value), k, v


def flow_depth_bound(src: str) -> int:
    """An upper bound on nesting depth, cheap enough to run on every file."""
    lines = src.split("\n")
    longest = max(map(len, lines))
    opening = src.count("[") + src.count("{")
    if opening + longest < MAX_DEPTH:
        return opening + longest
    # flow nesting: each round takes out the innermost pairs, so a bracket open at the deepest point is either
    # closed later (taken out in a round of its own) or left over
    brackets, rounds = _FLOW_CHARS.sub("", src), 0
    while rounds < MAX_DEPTH:
        inner = _BRACKET_PAIR.sub("", brackets)
        if len(inner) == len(brackets):
            break
        brackets, rounds = inner, rounds + 1
    best = rounds + len(brackets.lstrip("]}"))
    # block nesting: indentation, and the `- ` and complex-key `? ` indicators that open a level on one line
    block = max(
        (len(line) - len(line.lstrip(" -?")) + line.count("- ") + line.count("? ") for line in lines),
        default=0,
    )
    return best + block


class Document:
    __slots__ = ("index", "root")

    def __init__(self, root: Any, index: int) -> None:
        self.root, self.index = root, index


# libyaml and ruamel also end a line at a lone CR, NEL, LS and PS; editors, Git and GitHub end lines only at LF
# (and CRLF). Each of these is read as a space, one character for one, so every column stays where it is.
_PARSER_ONLY_BREAKS = lazy_re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def _parser_only_breaks(src: str) -> bool:
    """Whether `src` holds one of those breaks: `in` tests first (a search with that pattern reads a large text
    at a tenth of their speed)."""
    if "\x85" in src or "\u2028" in src or "\u2029" in src:
        return True
    return "\r" in src and _PARSER_ONLY_BREAKS.search(src) is not None


def compose(path: str, src: str, diagnostics: list[Diagnostic]) -> list[Document]:
    """Every document of a YAML stream; parse errors become ML001 diagnostics and parsing resumes
    at the next `---` after the error."""
    if not hasattr(Node, "Mapping"):
        _node_types()
    if "\r" in src and "\n" not in src:
        message = "the lines end with a lone CR (classic Mac OS); editors, Git and GitHub read it as one line"
        diagnostics.append(Diagnostic("ML001", Span(path, 1, 1, 1, 2), message, "convert the line endings to LF"))
        return []
    if _parser_only_breaks(src):  # lines as an editor counts them: the parser's marks then agree
        src = _PARSER_ONLY_BREAKS.sub(" ", src)
    if flow_depth_bound(src) >= MAX_DEPTH:
        diagnostics.append(
            Diagnostic("ML001", Span(path, 1, 1, 1, 1), f"YAML nested deeper than {MAX_DEPTH} levels; not parsed")
        )
        return []
    docs: list[Document] = []
    offset, rest, index, errors = 0, src, 0, 0
    while True:
        exc, index = _compose_pass(rest, docs, index)
        if exc is None:
            return docs
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line if mark is not None else offset
        col = (mark.column if mark is not None else 0) + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None)
        context_mark = getattr(exc, "context_mark", None)
        if context and context_mark is not None and context_mark.line != line:
            context += f" that starts on line {context_mark.line + 1}"
        message = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
        line, col = _unacceptable(src, problem) or _clamp(src, line, col)
        diagnostics.append(
            _lost_colon(path, src, line, problem)
            or _braced_value(path, src, line, col)
            or Diagnostic(
                "ML001", Span(path, line + 1, col, line + 1, col + 1), message, _missing_colon_hint(src, line)
            )
        )
        index += 1
        errors += 1
        # resume at the next document start: the error's own line if it is one, else a later one
        search_from = _line_start(src, line if line > offset else line + 1)
        nxt = _DOC_START.search(src, search_from)
        if nxt is None:
            return docs
        offset = src.count("\n", 0, nxt.start())
        if errors == MAX_SYNTAX_ERRORS:  # each resumption parses the rest again: bound the work per file
            diagnostics.append(
                Diagnostic(
                    "ML001",
                    Span(path, offset + 1, 1, offset + 1, 2),
                    f"{MAX_SYNTAX_ERRORS} YAML syntax errors: the documents from line {offset + 1} on are not read",
                    "fix the errors above and scan the file again",
                )
            )
            return docs
        rest = "\n" * offset + src[nxt.start() :]  # keeps every mark's line true


def _unacceptable(src: str, problem: str) -> tuple[int, int] | None:
    """Where the character an `unacceptable character #x000c` error names first stands (the reader reports
    it at the top of the stream): 0-based line, 1-based column."""
    match = re.search(r"unacceptable character #x([0-9a-fA-F]{1,6})", problem)
    at = src.find(chr(int(match[1], 16))) if match and int(match[1], 16) < 0x110000 else -1
    if at < 0:
        return None
    line = src.count("\n", 0, at)
    return line, at - (src.rfind("\n", 0, at) + 1) + 1


_SURROGATE = lazy_re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = lazy_re.compile(r"\\(?:u|U0000)[dD][89a-fA-F]")


def _whole_characters(root: Any) -> None:
    """YAML reads `"\\ud83d\\ude00"` as two lone surrogates, which no output can encode: a pair becomes its
    character and a lone one U+FFFD, in every scalar (keys too) of the document."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Node.Scalar):
            if isinstance(node.value, str) and _SURROGATE.search(node.value):
                node.value = node.value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        elif isinstance(node, Node.Mapping):
            stack += [part for pair in node.value for part in pair]
        elif isinstance(node, Node.Sequence):
            stack += node.value


def _compose_pass(rest: str, docs: list[Document], index: int) -> tuple[Exception | None, int]:
    """Append the documents of `rest` to `docs` until an error: (None, next index) when all parsed,
    else (the error, the index of the document it broke). libyaml parses first; where it fails, the
    pure parser reads the text again from the document libyaml stopped in, since the error may be
    YAML 1.1's alone (the documents before it stand as libyaml read them)."""
    start, first = len(docs), index
    escapes = _SURROGATE_ESCAPE.search(rest) is not None  # only these make lone surrogates
    try:
        for root in _compose_all(rest):
            if escapes:
                _whole_characters(root)
            docs.append(Document(root, index))
            index += 1
        return None, index
    except Exception:  # ruamel raises MarkedYAMLError subclasses and a few others
        pass
    tail = _failed_document(rest, docs[-1]) if len(docs) > start else None
    if tail is None:
        del docs[start:]
        index, tail = first, rest
    try:
        for root in _pure_loader().compose_all(tail):
            if escapes:
                _whole_characters(root)
            docs.append(Document(root, index))
            index += 1
        return None, index
    except Exception as exc:
        return exc.with_traceback(None), index  # its frames would keep the parser and the text alive


_DIRECTIVE = lazy_re.compile(r"^%", re.M)


def _failed_document(rest: str, last: Document) -> str | None:
    """`rest` from the document start after `last` on (earlier lines blank, so every mark's line stays true);
    None where that cannot be told apart (no `---` after it, or directives that change how documents read)."""
    end = last.root.end_mark
    pieces = rest.split("\n", end.line)
    if len(pieces) <= end.line:
        return None
    line_start = len(rest) - len(pieces[-1])
    line_end = rest.find("\n", line_start)
    after = line_start + end.column if line_end < 0 else min(line_start + end.column, line_end)
    nxt = _DOC_START.search(rest, after)  # after the end of `last` (`--- value` ends on its own `---` line)
    if nxt is None or _DIRECTIVE.search(rest, 0, nxt.start()):
        return None
    return "\n" * rest.count("\n", 0, nxt.start()) + rest[nxt.start() :]


_KEY_SPACE_VALUE = lazy_re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.-]*) ([^\s:#][^:#]*?)\s*$")


def _missing_colon_hint(src: str, line: int) -> str | None:
    """`- name model-volume` above the error is a key that lost its colon."""
    lines = _lines(src)
    for number in range(min(line, len(lines)) - 1, max(line - 4, -1), -1):
        match = _KEY_SPACE_VALUE.match(lines[number])
        if match:
            return f"line {number + 1} reads `{match[1]} {match[2]}`: did you mean `{match[1]}: {match[2]}`?"
        if lines[number].strip() and not lines[number].strip().startswith("#"):
            return None
    return None


_KEY_SPACE_VALUE_COMMENT = lazy_re.compile(r"^\s*(?:-\s+)?([A-Za-z_][\w.-]*) ([^\s:#][^:#]*?)\s*(?:\s#.*)?$")


def _lost_colon(path: str, src: str, line: int, problem: str) -> Diagnostic | None:
    """`- name model-volume` right above a more indented `key:` the parser stops at: the key above lost its
    colon, and that line is where the error is."""
    lines = _lines(src)
    above = next(
        (
            n
            for n in range(min(line, len(lines)) - 1, -1, -1)
            if lines[n].strip() and not lines[n].lstrip().startswith("#")
        ),
        None,
    )
    if above is None or line >= len(lines):
        return None
    match = _KEY_SPACE_VALUE_COMMENT.match(lines[above])
    indent = len(lines[line]) - len(lines[line].lstrip())
    if match is None or indent < match.start(1):
        return None
    return Diagnostic(
        "ML001",
        Span(path, above + 1, match.start(1) + 1, above + 1, match.end(2) + 1),
        f"YAML syntax error: `{match[1]} {match[2]}` lost the colon after {match[1]!r}, so the parser "
        f"stops on line {line + 1} ({problem})",
        f"write `{match[1]}: {match[2]}`",
    )


_BRACED_VALUE = lazy_re.compile(r"(?:^|:\s+|-\s+)(\{[^{}\s,:]+\})(\S+)")


def _braced_value(path: str, src: str, line: int, col: int) -> Diagnostic | None:
    """`image: {username}/torchserve:latest`: a placeholder in braces opens the value, YAML reads it as a
    mapping, and the parser stops at the text after it. The value is where the error is."""
    lines = _lines(src)
    if line >= len(lines):
        return None
    for match in _BRACED_VALUE.finditer(lines[line]):
        if match.end(1) + 1 == col:
            value = match[1] + match[2]
            return Diagnostic(
                "ML001",
                Span(path, line + 1, match.start(1) + 1, line + 1, match.end(2) + 1),
                f"YAML syntax error: the value `{value}` starts with `{{`, so YAML reads `{match[1]}` as a "
                f"mapping and stops at the `{match[2][0]}` after it; the placeholder was never filled in",
                f'fill in {match[1]}, or quote the value ("{value}")',
            )
    return None


def _clamp(src: str, line: int, col: int) -> tuple[int, int]:
    """libyaml reports end-of-stream errors one line past the text; point at the last character."""
    lines = _lines(src) or [""]
    if line >= len(lines):
        return len(lines) - 1, len(lines[-1]) + 1
    return line, min(col, len(lines[line]) + 1)


_split: tuple[str, list[str], list[int]] = ("", [], [0, 1])


def _text_lines(src: str) -> tuple[list[str], list[int]]:
    """The lines of `src` and where each starts, split once per file however many errors it has."""
    global _split
    if _split[0] is not src:
        starts = list(accumulate((len(line) + 1 for line in src.split("\n")), initial=0))
        _split = (src, source_lines(src), starts)
    return _split[1], _split[2]


def _lines(src: str) -> list[str]:
    return _text_lines(src)[0]


def _line_start(src: str, line: int) -> int:
    """Where 0-based line `line` starts; the end of `src` past its last line break."""
    starts = _text_lines(src)[1]
    return starts[line] if line < len(starts) - 1 else len(src)


def check_document(path: str, root: Any, diagnostics: list[Diagnostic]) -> bool:
    """Duplicate keys (ML004), and whether the document may be read at all: False (with an ML001) when its
    aliases refer to a node that contains them, or expand past the node budget (an alias bomb: a few hundred
    bytes that stand for millions of nodes once every alias, merge keys included, is followed)."""
    stack = [root]
    seen: set[int] = set()
    shared = False  # a node reached twice (an alias) or a key that is not a scalar: the long count below
    nodes = 1  # the nodes of the document, each as often as it is reached
    while stack:
        node = stack.pop()
        if isinstance(node, Node.Mapping):
            if id(node) in seen:
                shared = True
                continue
            seen.add(id(node))
            nodes += 2 * len(node.value)
            keys: dict[Any, Any] = {}
            for k, v in node.value:
                if not isinstance(k, Node.Scalar):
                    shared = True
                else:
                    if k.value == "<<":
                        stack.append(v)
                        continue
                    first = keys.get(k.value)
                    if first is not None:
                        where = first.start_mark.line + 1
                        diagnostics.append(
                            Diagnostic(
                                "ML004",
                                scalar_span(path, k),
                                f"duplicate key {k.value!r} (first defined on line {where}); "
                                "parsers disagree on which value wins",
                                fix=f"remove one of the {k.value!r} keys",
                            )
                        )
                    else:
                        keys[k.value] = k
                stack.append(v)
        elif isinstance(node, Node.Sequence):
            if id(node) in seen:
                shared = True
                continue
            seen.add(id(node))
            nodes += len(node.value)
            stack += node.value
    budget = EXPANDED_NODES + EXPANSION_FACTOR * len(seen)
    # a tree (no alias to a mapping or sequence) expands to the nodes it writes, counted above
    if (nodes > budget) if not shared else expanded_size(root, budget) is None:
        diagnostics.append(
            Diagnostic(
                "ML001",
                span(path, root),
                f"YAML aliases refer to a node that contains them, or expand past {budget:,} nodes; not read",
            )
        )
        return False
    return True


def expanded_size(root: Any, budget: int) -> int | None:
    """How many nodes the document has once every alias is followed; None for a cycle or past `budget`."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        children = _children(node)
        if finished:
            active.discard(key)
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > budget:
                return None
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            return None  # a node inside itself
        active.add(key)
        stack.append((node, True))
        stack += [(child, False) for child in children if id(child) not in sizes]
    return sizes[id(root)]


def _children(node: Any) -> list[Any]:
    if isinstance(node, Node.Mapping):
        return [part for pair in node.value for part in pair]
    if isinstance(node, Node.Sequence):
        return list(node.value)
    return []
