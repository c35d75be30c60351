from __future__ import annotations

from mllint import yamlsrc
from mllint.loader import parse
from mllint.model import Skipped, SourceFile


def test_c_parser_is_in_use() -> None:
    """ruamel.yaml[oldlibyaml] must give the C parser; the pure one is about 8x slower."""
    assert yamlsrc.parser_in_use() == "CParser"


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
