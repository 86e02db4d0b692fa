"""Read and write fields of Kubernetes objects held as plain dicts, with apimachinery's unstructured semantics.

The ``nested_*`` helpers follow apimachinery ``pkg/apis/meta/v1/unstructured/helpers.go``:

* A path is a sequence of map keys; there is no list syntax (``"e[0]"`` is a literal key).
* A missing key, or a JSON ``null`` on the way, means *not found*; a value on the way that is not a map is a
  :class:`~dynaclient.exceptions.FieldTypeError` naming the path.
* Typed accessors return ``(value, found)``. A value of the wrong JSON type, a present ``null`` included, raises
  ``FieldTypeError``; a missing value gives ``(zero value, False)``.
* Numbers keep apimachinery's split: JSON ``3`` is an int (int64) and ``3.0`` a float. :func:`nested_int` accepts
  no float and no bool; :func:`nested_float` accepts no int (``NestedFloat64``); :func:`nested_number_as_float`
  accepts both when the int converts exactly (``NestedNumberAsFloat64``).

The metadata accessors (``get_*``) follow ``unstructured.go``: they never raise and give the zero value when a
field is missing or has the wrong type.

Error messages show the offending value shortened, and never the values under ``data``, ``stringData`` or
``binaryData`` (Secret and ConfigMap payloads).
"""

from __future__ import annotations

from dynaclient.objects.metadata import (
    get_annotations,
    get_api_version,
    get_creation_timestamp,
    get_deletion_timestamp,
    get_finalizers,
    get_generation,
    get_kind,
    get_labels,
    get_name,
    get_namespace,
    get_owner_references,
    get_resource_version,
    get_uid,
)
from dynaclient.objects.metadata import (
    object_key as object_key,
)
from dynaclient.objects.nested import (
    nested_bool,
    nested_delete,
    nested_field,
    nested_field_copy,
    nested_float,
    nested_get,
    nested_int,
    nested_list,
    nested_map,
    nested_number_as_float,
    nested_set,
    nested_string,
    nested_string_list,
    nested_string_map,
)

__all__ = [
    "get_annotations",
    "get_api_version",
    "get_creation_timestamp",
    "get_deletion_timestamp",
    "get_finalizers",
    "get_generation",
    "get_kind",
    "get_labels",
    "get_name",
    "get_namespace",
    "get_owner_references",
    "get_resource_version",
    "get_uid",
    "nested_bool",
    "nested_delete",
    "nested_field",
    "nested_field_copy",
    "nested_float",
    "nested_get",
    "nested_int",
    "nested_list",
    "nested_map",
    "nested_number_as_float",
    "nested_set",
    "nested_string",
    "nested_string_list",
    "nested_string_map",
]
