"""The base of every view: organisation scoped, read-only unless a view names the plain
fields it lets an operator edit, secrets never shown, and every edit audited.

Scoping: the list, its count, the details page, the edit form and the row an edit writes
are all selected through :meth:`ScopedView.scope`, the view's filter for the operator's
organisation; another organisation's row id answers 404. Nothing is created, deleted,
exported or imported through the panel: services keep those invariants."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqladmin import ModelView
from sqladmin.formatters import BASE_FORMATTERS
from sqlalchemy import ColumnElement, LargeBinary, Select, false, inspect
from sqlalchemy.orm import object_session
from starlette.requests import Request

from agenthub.admin_panel.masking import format_json, format_text, shown_columns
from agenthub.admin_panel.scope import current_operator
from agenthub.audit.models import AuditRecord
from agenthub.caller import client_address

LIST_COLUMNS = 8
"""Columns a list page shows unless the view names them (the details page shows them all)."""

TYPE_FORMATTERS: dict[Any, Any] = {
    **BASE_FORMATTERS,
    str: format_text,
    dict: format_json,
    list: format_json,
}


class ScopedView(ModelView):
    """A table of one organisation's rows. Subclasses give ``model=`` and :meth:`scope`
    (default: ``model.org_id``), optionally ``list_columns``, ``editable`` (plain fields an
    edit may change) and ``audit_type`` (the audit log's ``resource_type``)."""

    can_create: ClassVar[bool] = False
    can_edit: ClassVar[bool] = False
    can_delete: ClassVar[bool] = False
    can_export: ClassVar[bool] = False
    can_import: ClassVar[bool] = False
    column_type_formatters: ClassVar[Any] = TYPE_FORMATTERS
    page_size: ClassVar[int] = 25

    list_columns: ClassVar[tuple[str, ...]] = ()
    editable: ClassVar[tuple[str, ...]] = ()
    audit_type: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.can_edit = bool(cls.editable)

    # What is shown --------------------------------------------------------------------

    def _columns(self) -> list[str]:
        """The table's columns the panel may show: no secret, no raw bytes, no relation."""
        mapper: Any = inspect(self.model)
        names = [attr.key for attr in mapper.column_attrs
                 if not any(isinstance(column.type, LargeBinary) for column in attr.columns)]
        return shown_columns(names)

    def get_list_columns(self) -> list[str]:
        shown = self._columns()
        if self.list_columns:
            return [name for name in self.list_columns if name in shown]
        return shown[:LIST_COLUMNS]

    def get_details_columns(self) -> list[str]:
        return self._columns()

    def get_form_columns(self) -> list[str]:
        shown = self._columns()
        return [name for name in self.editable if name in shown]

    def get_export_columns(self) -> list[str]:
        return []

    # Which rows -------------------------------------------------------------------------

    def scope(self, org_id: str) -> ColumnElement[bool]:
        """The rows of organisation ``org_id``."""
        return getattr(self.model, "org_id") == org_id  # type: ignore[no-any-return]  # noqa: B009

    def _scoped(self) -> ColumnElement[bool]:
        operator = current_operator()
        return false() if operator is None else self.scope(operator.org_id)

    def list_query(self, request: Request) -> Select:
        return super().list_query(request).where(self._scoped())

    def count_query(self, request: Request) -> Select:
        return super().count_query(request).where(self._scoped())

    def _stmt_by_identifier(self, identifier: str) -> Select:
        # Details, the edit form, the row an edit writes and the row a delete would remove.
        return super()._stmt_by_identifier(identifier).where(self._scoped())

    # Edits ------------------------------------------------------------------------------

    async def on_model_change(self, data: dict, model: Any, is_created: bool, request: Request) -> None:
        """Refuse a field that is not editable; record the change in the audit log, in the
        transaction that makes it."""
        operator = current_operator()
        if operator is None or is_created or set(data) - set(self.editable):
            raise PermissionError("this change is not allowed")
        session = object_session(model)
        if session is None:  # pragma: no cover - an edit always loads its row in a session
            raise PermissionError("this change is not allowed")
        changed = {name: value for name, value in data.items() if getattr(model, name) != value}
        session.add(AuditRecord(
            org_id=operator.org_id, actor_user_id=operator.user_id, action=f"{self.audit_type}.update",
            resource_type=self.audit_type, resource_id=str(inspect(model).identity[0]),
            address=client_address(request),
            before={name: _jsonable(getattr(model, name)) for name in changed},
            after={name: _jsonable(value) for name, value in changed.items()},
        ))


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date | Decimal):
        return str(value)
    return json.loads(json.dumps(value, default=str))


def preview(limit: int) -> Callable[[Any, str], str]:
    """A list formatter showing at most ``limit`` characters of a long text column."""

    def formatter(model: Any, name: str) -> str:
        text = format_text(getattr(model, name) or "")
        return text if len(text) <= limit else text[:limit] + "…"

    return formatter
