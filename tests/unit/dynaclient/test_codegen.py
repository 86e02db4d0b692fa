"""The generator on small OpenAPI v3 documents shaped like the server's: types, names, determinism, files, CLI."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dynaclient.codegen import OpenAPIError, OpenAPISource, generate, load_source, write_package
from dynaclient.codegen.__main__ import main
from dynaclient.codegen.documents import parse_document
from dynaclient.codegen.fixups import FixupError

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
REF = "#/components/schemas/"


def meta_schemas() -> dict[str, Any]:
    return {
        f"{META}.ObjectMeta": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string", "default": ""}},
                "creationTimestamp": {"allOf": [{"$ref": f"{REF}{META}.Time"}], "description": "When."},
            },
        },
        f"{META}.ListMeta": {
            "description": "ListMeta describes metadata that synthetic resources must have.",
            "type": "object",
            "properties": {"continue": {"type": "string"}, "resourceVersion": {"type": "string"}},
        },
        f"{META}.Time": {"type": "string", "format": "date-time"},
    }


def widget_document() -> dict[str, Any]:
    """A custom resource's document as apiextensions-apiserver serves it: nested objects inline, metadata wrapped."""
    spec = {
        "type": "object",
        "required": ["mode"],
        "properties": {
            "mode": {"type": "string", "enum": ["fast", "safe"], "description": "How."},
            "port": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": True},
            "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "note": {"type": "string", "nullable": True},
            "from": {"type": "array", "items": {"type": "object", "properties": {"host": {"type": "string"}}}},
            "weights": {"type": "object", "additionalProperties": {"type": "number"}},
            "raw": {"x-kubernetes-preserve-unknown-fields": True},
        },
    }
    widget = {
        "description": "Widget is a thing. It has parts.",
        "type": "object",
        "x-kubernetes-group-version-kind": [{"group": "example.org", "version": "v1", "kind": "Widget"}],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"allOf": [{"$ref": f"{REF}{META}.ObjectMeta"}]},
            "spec": spec,
        },
    }
    widget_list = {
        "type": "object",
        "required": ["items"],
        "x-kubernetes-group-version-kind": [{"group": "example.org", "version": "v1", "kind": "WidgetList"}],
        "properties": {
            "items": {"type": "array", "items": {"$ref": f"{REF}org.example.v1.Widget"}},
            "metadata": {"allOf": [{"$ref": f"{REF}{META}.ListMeta"}]},
        },
    }
    schemas = {**meta_schemas(), "org.example.v1.Widget": widget, "org.example.v1.WidgetList": widget_list}
    return {"openapi": "3.0.0", "components": {"schemas": schemas}}


def core_document() -> dict[str, Any]:
    pod = {
        "type": "object",
        "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Pod"}],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"allOf": [{"$ref": f"{REF}{META}.ObjectMeta"}], "default": {}},
            "port": {"allOf": [{"$ref": f"{REF}io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]},
            "cpu": {"$ref": f"{REF}io.k8s.apimachinery.pkg.api.resource.Quantity"},
        },
    }
    schemas = {
        **meta_schemas(),
        "io.k8s.api.core.v1.Pod": pod,
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
            "format": "int-or-string",
            "oneOf": [{"type": "integer"}, {"type": "string"}],
        },
        "io.k8s.apimachinery.pkg.api.resource.Quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    }
    return {"openapi": "3.0.0", "components": {"schemas": schemas}}


def source(*documents: tuple[str, dict[str, Any]], version: str = "v1.34.4") -> OpenAPISource:
    parsed = tuple(parse_document(key, json.dumps(body).encode(), what=key) for key, body in documents)
    raw = {key: json.dumps(body).encode() for key, body in documents}
    return OpenAPISource(version, parsed, raw)


def both() -> OpenAPISource:
    return source(("api/v1", core_document()), ("apis/example.org/v1", widget_document()))


def test_a_custom_resource_becomes_typed_dicts_named_after_the_kind_and_field_path() -> None:
    files = generate(both(), "k8s")
    assert sorted(files) == ["__init__.py", "core/__init__.py", "core/v1.py", "example_org/__init__.py",
                             "example_org/v1.py", "meta/__init__.py", "meta/v1.py"]  # fmt: skip
    widget = files["example_org/v1.py"]
    for expected in [
        "class Widget(TypedDict, total=False):",
        '    """Widget is a thing.\n\n    It has parts.\n    """',
        '    apiVersion: Literal["example.org/v1"]',
        '    kind: Literal["Widget"]',
        "    metadata: meta_v1.ObjectMeta",
        "    spec: WidgetSpec",
        '    mode: Required[Literal["fast", "safe"]]\n    """How."""',
        "    port: int | str",
        "    config: dict[str, Any]",
        "    note: str | None",
        "    weights: dict[str, float]",
        "    raw: Any",
        '_WidgetSpecKeys = TypedDict(\n    "_WidgetSpecKeys",\n    {\n        "from": "list[WidgetSpecFrom]",\n',
        "class WidgetSpec(_WidgetSpecKeys, TypedDict, total=False):",
        "class WidgetSpecFrom(TypedDict, total=False):",
        "    items: Required[list[Widget]]",
        "from k8s.meta import v1 as meta_v1",
    ]:
        assert expected in widget
    meta = files["meta/v1.py"]
    assert '_ListMetaKeys = TypedDict(  # noqa: UP013\n    "_ListMetaKeys",\n' not in meta  # `continue` is a keyword
    assert '"continue": "str",' in meta
    assert "    creationTimestamp: str\n" in meta
    assert "class Time" not in meta  # a component without properties is inlined where it is used
    core = files["core/v1.py"]
    assert "    port: int | str\n" in core
    assert "    cpu: str\n" in core  # a Quantity is written as a string by the server
    assert '("example.org/v1", "Widget"): "example_org.v1.Widget",' in files["__init__.py"]
    assert 'SERVER_VERSION = "v1.34.4"' in files["__init__.py"]


def test_generation_is_deterministic_whatever_the_order_of_documents_and_keys() -> None:
    first = generate(both(), "k8s")
    shuffled_core = core_document()
    schemas = shuffled_core["components"]["schemas"]
    shuffled_core["components"]["schemas"] = dict(reversed(list(schemas.items())))
    again = generate(source(("apis/example.org/v1", widget_document()), ("api/v1", shuffled_core)), "k8s")
    assert {**first, "__init__.py": ""} == {**again, "__init__.py": ""}
    changed = [
        a for a, b in zip(first["__init__.py"].splitlines(), again["__init__.py"].splitlines(), strict=True) if a != b
    ]
    assert [line.split(":")[0] for line in changed] == ['    "api/v1"']  # only the hash of the reordered document


def test_each_module_records_its_schemas_hash_and_the_root_the_documents_hashes() -> None:
    files = generate(both(), "k8s")
    body = json.dumps(core_document()).encode()
    assert f'"api/v1": "{hashlib.sha512(body).hexdigest().upper()}",' in files["__init__.py"]
    changed = core_document()
    changed["components"]["schemas"]["io.k8s.api.core.v1.Pod"]["properties"]["kind"]["description"] = "Kind."
    other = generate(source(("api/v1", changed), ("apis/example.org/v1", widget_document())), "k8s")
    assert other["core/v1.py"].splitlines()[3] != files["core/v1.py"].splitlines()[3]  # the SHA-256 line
    assert other["meta/v1.py"] == files["meta/v1.py"]


def test_builtin_types_can_come_from_another_package() -> None:
    files = generate(both().select(["example.org/v1"]), "k8s", generate_builtins=False)
    assert sorted(files) == ["__init__.py", "example_org/__init__.py", "example_org/v1.py"]
    assert "from dynaclient.types.meta import v1 as meta_v1" in files["example_org/v1.py"]
    assert [d.key for d in both().builtin().documents] == ["api/v1"]


def test_select_names_the_missing_group_version() -> None:
    with pytest.raises(OpenAPIError, match=r"no OpenAPI v3 document for apps/v1; served: v1, example.org/v1"):
        both().select(["apps/v1"])


def test_a_fixup_that_no_longer_applies_is_reported() -> None:
    document = core_document()
    document["components"]["schemas"]["io.k8s.api.rbac.v1.ClusterRole"] = {"properties": {"kind": {"type": "string"}}}
    with pytest.raises(FixupError, match=r"io\.k8s\.api\.rbac\.v1\.ClusterRole names rules"):
        generate(source(("api/v1", document)), "k8s")


def test_saved_documents_load_back_and_generate_the_same_files(tmp_path: Path) -> None:
    both().save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "api__v1_openapi.json",
        "apis__example.org__v1_openapi.json",
        "version.json",
    ]
    (tmp_path / "apis__example.org_openapi.json").write_text("{}")  # a group root, not a group-version: ignored
    loaded = load_source(tmp_path)
    assert loaded.server_version == "v1.34.4"
    assert generate(loaded, "k8s") == generate(both(), "k8s")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", r"x\.json: response is not JSON"),
        (b'{"swagger": "2.0"}', r"x\.json: not an OpenAPI 3 document \(openapi: None\)"),
        (b'{"openapi": "3.0.0", "components": {"schemas": []}}', r"x\.json: components\.schemas is not a map"),
    ],
)
def test_a_malformed_document_is_named_in_the_error(body: bytes, message: str) -> None:
    with pytest.raises(OpenAPIError, match=message):
        parse_document("api/v1", body, what="x.json")


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OpenAPIError, match="no OpenAPI v3 group-version document"):
        load_source(tmp_path)


def test_write_package_removes_stale_modules_and_keeps_unchanged_files(tmp_path: Path) -> None:
    files = generate(both(), "k8s")
    write_package(files, tmp_path)
    (tmp_path / "stale" / "v1.py").parent.mkdir()
    (tmp_path / "stale" / "v1.py").write_text("")
    before = (tmp_path / "core" / "v1.py").stat().st_mtime_ns
    write_package(files, tmp_path)
    assert not (tmp_path / "stale" / "v1.py").exists()
    assert (tmp_path / "core" / "v1.py").stat().st_mtime_ns == before


def test_the_command_line_generates_from_saved_documents(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both().save(tmp_path / "docs")
    output = tmp_path / "out"
    args = ["--from-documents", str(tmp_path / "docs"), "--package", "k8s", "--output", str(output)]
    assert main([*args, "--group-version", "example.org/v1", "--import-builtins"]) == 0
    assert capsys.readouterr().out == f"wrote 3 files to {output} (v1.34.4)\n"
    assert (output / "example_org" / "v1.py").is_file()
    assert main([*args, "--group-version", "apps/v1"]) == 1
    assert "dynaclient.codegen: no OpenAPI v3 document for apps/v1" in capsys.readouterr().err


def test_an_inline_name_taken_by_a_kind_gets_a_number_and_kinds_keep_theirs() -> None:
    def kind(name: str, properties: dict[str, Any]) -> dict[str, Any]:
        gvk = [{"group": "example.org", "version": "v1", "kind": name}]
        return {"type": "object", "x-kubernetes-group-version-kind": gvk, "properties": properties}

    nested = {"bar": {"type": "object", "properties": {"x": {"type": "integer"}}}}
    schemas = {
        "org.example.v1.Foo": kind("Foo", nested),
        "org.example.v1.FooBar": kind("FooBar", {"y": {"type": "string"}}),
    }
    text = generate(source(("apis/example.org/v1", {"openapi": "3.0.0", "components": {"schemas": schemas}})), "k8s")
    module = text["example_org/v1.py"]
    assert "    bar: FooBar2\n" in module
    assert "class FooBar(TypedDict, total=False):\n" in module
    assert "class FooBar2(TypedDict, total=False):\n" in module


def test_awkward_descriptions_still_give_valid_modules_that_pass_ruff(tmp_path: Path) -> None:
    awkward = [
        "A path like C:\\\\dir\\\\ and a regex ^[a-z]\\\\.$ end with a backslash \\\\",
        '"Quoted" at both ends and """triple""" inside "',
        "Curly \u2018quotes\u2019, \u201cdouble\u201d, an en dash \u2013 and a non-breaking\u00a0space.",
        "First line.\n\nExample:\n\n\tcode with a tab\n\nNote:\nmore",
        "A long URL https://example.com/" + "x" * 130 + " follows.",
        "No period at the end",
    ]
    properties = {f"f{i}": {"type": "string", "description": text} for i, text in enumerate(awkward)}
    schemas = {
        f"org.example.v1.Kind{i}": {
            "description": text,
            "type": "object",
            "x-kubernetes-group-version-kind": [{"group": "example.org", "version": "v1", "kind": f"Kind{i}"}],
            "properties": properties,
        }
        for i, text in enumerate(awkward)
    }
    files = generate(source(("apis/example.org/v1", {"openapi": "3.0.0", "components": {"schemas": schemas}})), "k8s")
    write_package(files, tmp_path / "k8s")
    ruff = Path(sys.executable).parent / "ruff"
    config = ["--config", str(Path(__file__).parents[3] / "pyproject.toml")]
    for command in (["format", "--check"], ["check"]):
        done = subprocess.run([str(ruff), *command, *config, str(tmp_path / "k8s")], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    namespace: dict[str, Any] = {}
    exec(compile(files["example_org/v1.py"], "v1.py", "exec"), namespace)
    assert "A path like C:\\\\dir\\\\ and a regex" in namespace["Kind0"].__doc__
