"""Loading manifests: documents, Lists, comments, files and directories, and errors naming file and document."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dynaclient.exceptions import ManifestError
from dynaclient.manifests import load_manifests, load_path, load_paths

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"


def names(text: str) -> list[str]:
    return [m.object["metadata"]["name"] for m in load_manifests(text)]


def test_documents_comments_and_empty_documents() -> None:
    text = (
        "# leading comment\n---\n" + CM.format(name="a") + "---\n# only a comment\n---\n\n---\n" + CM.format(name="b")
    )
    manifests = load_manifests(text, source="x.yaml")
    # a comment before the first --- is not a document of its own (YAML 1.1), and the line says where each is
    assert [(m.object["metadata"]["name"], m.document, m.line) for m in manifests] == [("a", 1, 3), ("b", 4, 12)]


def test_list_kinds_are_expanded() -> None:
    text = "apiVersion: v1\nkind: ConfigMapList\nitems:\n- " + CM.format(name="a").replace("\n", "\n  ").rstrip() + "\n"
    assert names(text) == ["a"]


def test_timestamps_stay_strings() -> None:
    manifest = load_manifests(CM.format(name="a") + "data:\n  when: 2024-05-01\n")[0]
    assert manifest.object["data"]["when"] == "2024-05-01"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CM.format(name="a") + "---\nkind: [\n", r"x.yaml document 2 \(line 7\): invalid YAML"),
        (CM.format(name="a") + "---\n- 1\n", r"x.yaml document 2 \(line 6\): expected an object, got list"),
        ("kind: ConfigMap\nmetadata: {name: a}\n", r"x.yaml document 1 \(line 1\): missing apiVersion"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "ConfigMap: missing metadata.name"),
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\nmetadata: {name: b}\n", "duplicate key 'metadata'"),
        ("apiVersion: v1\nkind: List\nitems: [3]\n", r"items\[0\]: expected an object"),
    ],
)
def test_errors_name_the_file_and_document(text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message) as caught:
        load_manifests(text, source="x.yaml")
    assert caught.value.source == "x.yaml"


def test_directories_json_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "b.yaml").write_text(CM.format(name="b"))
    (tmp_path / "a.json").write_text('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}')
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.yml").write_text(CM.format(name="c"))
    assert [m.object["metadata"]["name"] for m in load_path(tmp_path)] == ["a", "b"]
    assert [m.object["metadata"]["name"] for m in load_path(tmp_path, recursive=True)] == ["a", "b", "c"]
    monkeypatch.setattr("sys.stdin", io.StringIO(CM.format(name="s")))
    assert [(m.source, m.object["metadata"]["name"]) for m in load_paths(["-"])] == [("<stdin>", "s")]


def test_unreadable_and_bad_json_files(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"missing\.yaml: cannot read"):
        load_path(tmp_path / "missing.yaml")
    (tmp_path / "bad.json").write_text('{"apiVersion": ')
    with pytest.raises(ManifestError, match=r"bad.json document 1 \(line 1\): invalid JSON"):
        load_path(tmp_path / "bad.json")
