from __future__ import annotations

from mllint import yamlsrc
from mllint.loader import parse
from mllint.model import Skipped, SourceFile


def test_c_parser_is_in_use() -> None:
    """PyYAML's libyaml binding reads YAML first (ruamel.yaml[oldlibyaml] gives the C parser where PyYAML has none);
    the pure parser is about 8x slower."""
    assert yamlsrc.parser_in_use() == "yaml._yaml.CParser"
    assert yamlsrc._c_loader_class() is not None


def test_both_c_paths_compose_the_same_nodes() -> None:
    """PyYAML's and ruamel's libyaml paths give the same tree: node kinds, YAML 1.2 tags, values, styles, marks."""
    src = (
        "a: 1\nb: yes\nc: 0o17\nd: ~\ne: 1.5e3\nf: '1'\ng: \"x\"\nh: |\n  block\ni: [1, {j: k}]\n"
        "k: &anchor {l: null}\nm: *anchor\nn: .inf\no: 2024-01-01\np: 0x1F\nq: True\n---\n- - deep\n"
    )

    def shape(node: object) -> object:
        kind = type(node).__name__
        marks = (node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column)  # type: ignore[attr-defined]
        if kind == "ScalarNode":
            return (kind, str(node.tag), node.value, node.style or None, marks)  # type: ignore[attr-defined]
        children = node.value  # type: ignore[attr-defined]
        parts = [shape(x) for pair in children for x in pair] if kind == "MappingNode" else [shape(x) for x in children]
        return (kind, str(node.tag), bool(node.flow_style), marks, parts)  # type: ignore[attr-defined]

    def composed(loader_class: type) -> list[object]:
        loader = loader_class(src)
        try:
            return [shape(loader.get_node()) for _ in iter(loader.check_node, False)]
        finally:
            loader.dispose()

    libyaml, ruamel = yamlsrc._libyaml_loader_class(), yamlsrc._c_loader_class()
    assert libyaml is not None and ruamel is not None
    assert composed(libyaml) == composed(ruamel)
    tags = [part[1] for part in composed(libyaml)[0][4][1::2]]  # type: ignore[index]
    assert tags[:5] == [
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
        "tag:yaml.org,2002:null",
        "tag:yaml.org,2002:float",
    ]


def test_deep_nesting_is_refused_not_crashed() -> None:
    file = parse("deep.yaml", "yaml", ("a: " + "[" * 200_000 + "]" * 200_000).encode())
    assert isinstance(file, SourceFile)
    assert [d.rule for d in file.diagnostics] == ["ML001"] and "nested deeper" in file.diagnostics[0].message


def test_alias_bomb_is_cheap() -> None:
    src = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
    prev = "a"
    for name in "bcdefghi":
        src += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = name
    file = parse("bomb.yaml", "yaml", src.encode())
    assert isinstance(file, SourceFile)


def test_python_tags_construct_nothing() -> None:
    file = parse(
        "evil.yaml", "yaml", b"apiVersion: v1\nkind: Pod\nmetadata: !!python/object/apply:os.system [echo hi]\n"
    )
    assert isinstance(file, SourceFile) and file.kind == "kubernetes"


def test_documents_after_an_error_are_kept() -> None:
    src = b"apiVersion: v1\nkind: Pod\nmetadata: {name: a\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec:\n  containers: [{name: c, image: x}]\n"
    file = parse("m.yaml", "yaml", src)
    assert isinstance(file, SourceFile)
    assert [d.rule for d in file.diagnostics] == ["ML001"]
    assert [w.name for w in file.workloads] == ["b"]


def test_bom_crlf_and_utf16() -> None:
    text = "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: é\r\nspec:\r\n  containers:\r\n  - name: c\r\n    image: x:1\r\n"
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        file = parse("bom.yaml", "yaml", data)
        assert isinstance(file, SourceFile) and not file.diagnostics
        assert file.workloads[0].pod.containers[0].image.span.line == 8
        assert file.workloads[0].pod.containers[0].image.span.column == 12


def test_invalid_utf8_and_binary() -> None:
    file = parse("bad.yaml", "yaml", b"a: 1\nb: \xff\xfe\x00")
    assert isinstance(file, Skipped)
    file = parse("bad.yaml", "yaml", b"a: 1\nb: caf\xe9\n")
    assert isinstance(file, SourceFile) and file.diagnostics[0].span.line == 2 and file.diagnostics[0].span.column == 7


def test_helm_template_is_skipped() -> None:
    out = parse("deploy.yaml", "yaml", b"{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\n{{- end }}\n")
    assert isinstance(out, Skipped) and "template" in out.reason


def test_merge_keys_are_followed() -> None:
    src = b"x: &d\n  shm_size: 8gb\n  image: a:1\nservices:\n  s:\n    <<: *d\n    image: b:2\n"
    file = parse("compose.yaml", "compose", src)
    container = file.workloads[0].pod.containers[0]
    assert container.image.raw == "b:2"
    assert file.workloads[0].pod.shm_size.text == "8gb"


def test_yaml_1_2_colon_in_flow_scalar() -> None:
    """`[no-new-privileges:true]` is valid YAML 1.2 (Compose reads it); libyaml's 1.1 scanner refuses it, so the
    pure parser reads such a file again, and positions stay true."""
    src = b"services:\n  api:\n    image: x\n    security_opt: [no-new-privileges:true]\n    tmpfs: [/tmp:size=16m]\n"
    file = parse("docker-compose.yml", "compose", src)
    assert isinstance(file, SourceFile) and file.diagnostics == []
    broken = b"services:\n  api:\n    security_opt: [no-new-privileges:true]\n    image: {x\n"
    file = parse("docker-compose.yml", "compose", broken)
    assert isinstance(file, SourceFile) and [(d.rule, d.span.line) for d in file.diagnostics] == [("ML001", 4)]


def test_deep_error_below_the_depth_bound_is_a_finding() -> None:
    file = parse("deep.yaml", "yaml", ("a: " + "[" * 990 + "x").encode())
    assert isinstance(file, SourceFile) and [d.rule for d in file.diagnostics] == ["ML001"]


def test_composing_leaves_no_cyclic_garbage() -> None:
    """Each file's loader is freed when its documents are read, not left to the cycle collector with its text."""
    import gc

    yamlsrc.compose("warm.yaml", "a: 1\n", [])
    gc.collect()
    debug = gc.get_debug()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for n in range(50):
            yamlsrc.compose(f"f{n}.yaml", f"a: {n}\nb: [1, 2]\n---\nc: {{d: e}}\n", [])
        gc.collect()
        left = len(gc.garbage)
    finally:
        gc.set_debug(debug)
        gc.garbage.clear()
        gc.enable()
    assert left < 10
